// Modules built with Redpanda's official transform SDKs, so the host is tested against guests it did not
// write. No Go or Rust source lives in this repository: both SDKs are fetched at pinned versions and their
// own examples are built.
// - Go: the SDK module from the Go module proxy; each example file it ships (example_*_test.go) is built as
//   a main package, its Example_ function renamed to main, which is what a project from rpk's Go template
//   is. rpk builds Go with TinyGo; the standard toolchain's wasip1 target (Go >= 1.21) calls the same SDK
//   and ABI imports, plus more of WASI, and starts with ~2.4 MiB of memory (over the default 2 MiB limit).
// - Rust: the SDK crate from crates.io (checksum pinned), whose examples/ are built with cargo for
//   wasm32-wasip1 (`rustup target add wasm32-wasip1`, done by .ci/run), as `rpk transform build` does.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

async function tool(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  missing: string,
): Promise<string> {
  try {
    const { stdout } = await run(command, args, {
      cwd,
      env: { ...process.env, ...env },
      timeout: 600_000,
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${command} not found: ${missing}`);
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

const go = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  tool(
    'go',
    args,
    cwd,
    { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod', ...env },
    'Go >= 1.21 builds the Go SDK examples',
  );

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

export const RUST_SDK_CRATE = 'redpanda-transform-sdk';
export const RUST_SDK_VERSION = '1.1.0';
const RUST_SDK_SHA256 = '79bdc61d89cdc71257d19cb043f7e41445c2d7145e5670d6d04f2f9b153396d5';

/** The examples the Rust SDK crate ships (examples/<name>.rs). */
export type RustSdkExample = 'identity' | 'identity_logging' | 'tee' | 'validation_filter';
const RUST_SDK_EXAMPLES: readonly RustSdkExample[] = [
  'identity',
  'identity_logging',
  'tee',
  'validation_filter',
];

/**
 * Fetches the SDK crate (checksum checked) and builds its examples (cached per version in the OS temp
 * directory); resolves with the path of each example's module.
 */
export async function buildRustSdkExamples(): Promise<Record<RustSdkExample, string>> {
  const paths = (dir: string) =>
    Object.fromEntries(RUST_SDK_EXAMPLES.map((e) => [e, join(dir, `${e}.wasm`)])) as Record<
      RustSdkExample,
      string
    >;
  const root = join(tmpdir(), `ferry-rust-sdk-${RUST_SDK_VERSION}`);
  const out = join(root, 'target', 'wasm32-wasip1', 'release', 'examples');
  if (RUST_SDK_EXAMPLES.every((e) => existsSync(join(out, `${e}.wasm`)))) return paths(out);
  const src = join(root, `${RUST_SDK_CRATE}-${RUST_SDK_VERSION}`);
  if (!existsSync(join(src, 'Cargo.lock'))) {
    const url = `https://static.crates.io/crates/${RUST_SDK_CRATE}/${RUST_SDK_CRATE}-${RUST_SDK_VERSION}.crate`;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== RUST_SDK_SHA256) throw new Error(`${url}: sha256 ${sha}, expected ${RUST_SDK_SHA256}`);
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    const crate = join(root, 'sdk.crate');
    await writeFile(crate, bytes);
    await tool('tar', ['xzf', crate], root, {}, 'tar unpacks the SDK crate');
  }
  await tool(
    'cargo',
    [
      'build',
      '--release',
      '--locked',
      '--target',
      'wasm32-wasip1',
      ...RUST_SDK_EXAMPLES.flatMap((e) => ['--example', e]),
    ],
    src,
    { CARGO_TARGET_DIR: join(root, 'target') },
    'Rust (cargo, with `rustup target add wasm32-wasip1`) builds the Rust SDK examples',
  );
  return paths(out);
}
