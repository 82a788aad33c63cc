// Modules built with Redpanda's official Go transform SDK, so the host is tested against guests it did
// not write. The SDK comes from the Go module proxy at a pinned version; no Go source lives in this
// repository: each example file the SDK ships (example_*_test.go) is built as a main package, its
// Example_ function renamed to main, which is what a transform project made from rpk's Go template is.
// rpk builds Go transforms with TinyGo; the standard toolchain's wasip1 build (Go >= 1.21) calls the same
// SDK and ABI imports, plus more of WASI, and starts with ~2.4 MiB of memory (over the default limit).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const GO_SDK_MODULE = 'github.com/redpanda-data/redpanda/src/transform-sdk/go/transform';
export const GO_SDK_VERSION = 'v1.1.0';

/** The SDK's examples: file name and the Example_ function that becomes main. */
export const GO_SDK_EXAMPLES = {
  identity: { file: 'example_mirror_test.go', func: 'Example_identityTransform' },
  validation: { file: 'example_validation_test.go', func: 'Example_validation' },
  regexpFilter: { file: 'example_regexp_filter_test.go', func: 'Example_regularExpressionFilter' },
} as const;
export type GoSdkExample = keyof typeof GO_SDK_EXAMPLES;

async function go(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run('go', args, {
      cwd,
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', ...env },
      timeout: 240_000,
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        'the Go toolchain (go >= 1.21, on PATH) is needed to build the official Go SDK examples',
      );
    }
    throw new Error(`go ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/**
 * Builds one example of the official Go SDK into a wasip1 module (cached per SDK version in the OS temp
 * directory) and returns its path.
 */
export async function buildGoSdkExample(example: GoSdkExample): Promise<string> {
  const { file, func } = GO_SDK_EXAMPLES[example];
  const dir = join(tmpdir(), `ferry-go-sdk-${GO_SDK_VERSION}`, example);
  const wasm = join(dir, `${example}.wasm`);
  if (existsSync(wasm)) return wasm;
  await mkdir(dir, { recursive: true });
  const download = JSON.parse(
    await go(['mod', 'download', '-json', `${GO_SDK_MODULE}@${GO_SDK_VERSION}`], dir),
  ) as {
    Dir?: string;
    Error?: string;
  };
  if (!download.Dir) throw new Error(`cannot fetch ${GO_SDK_MODULE}@${GO_SDK_VERSION}: ${download.Error}`);
  const source = await readFile(join(download.Dir, file), 'utf8');
  const main = source
    .replace(/^package transform_test$/m, 'package main')
    .replace(new RegExp(`^func ${func}\\(\\)`, 'm'), 'func main()');
  if (!main.includes('package main') || !main.includes('func main()')) {
    throw new Error(`${file} of ${GO_SDK_MODULE}@${GO_SDK_VERSION} no longer has ${func}`);
  }
  await writeFile(join(dir, 'main.go'), main);
  await writeFile(
    join(dir, 'go.mod'),
    `module ferry.test/${example.toLowerCase()}\n\ngo 1.21\n\nrequire ${GO_SDK_MODULE} ${GO_SDK_VERSION}\n`,
  );
  const partial = `${wasm}.partial`;
  await go(['build', '-trimpath', '-o', partial, '.'], dir, { GOOS: 'wasip1', GOARCH: 'wasm' });
  await rename(partial, wasm);
  return wasm;
}
