// `ferry transform build`: compiles every transforms/<name>/index.ts with asc (in process, through
// assemblyscript's programmatic API) into a git-ignored folder, then applies the broker's
// deploy-time checks to each module. Builds are cached by a hash of the sources and flags, so
// tests can call this freely.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CheckOptions, checkModule, type ModuleSummary } from './check.ts';
import { ASC_FLAGS } from './preset.ts';

export const REPO_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_TRANSFORMS_DIR: string = join(REPO_ROOT, 'transforms');
export const DEFAULT_OUT_DIR: string = join(REPO_ROOT, 'build', 'wasm');
const SDK_DIR = 'sdk';

export interface BuildOptions {
  /** Transforms to build (folder names under transforms/); default: all of them. */
  readonly names?: readonly string[];
  /** Where <name>.wasm goes; default build/wasm/ (git-ignored). */
  readonly outDir?: string;
  readonly transformsDir?: string;
  /** Rebuild even when the cache says the sources did not change. */
  readonly force?: boolean;
  readonly check?: CheckOptions;
}

export type BuildResult =
  | {
      readonly name: string;
      readonly ok: true;
      readonly wasmPath: string;
      readonly cached: boolean;
      readonly info: ModuleSummary;
    }
  | {
      readonly name: string;
      readonly ok: false;
      /** Compiler errors, or why the broker would refuse the module. */
      readonly reasons: readonly string[];
      readonly wasmPath: string | null;
    };

export interface BuildError extends Error {
  readonly code: 'FERRY_TRANSFORM_BUILD';
  readonly retryable: false;
  readonly results: readonly BuildResult[];
}

export function isBuildError(e: unknown): e is BuildError {
  return e instanceof Error && (e as { code?: unknown }).code === 'FERRY_TRANSFORM_BUILD';
}

/** The transforms in transformsDir: every folder but the SDK that has an index.ts. */
export async function listTransforms(transformsDir: string = DEFAULT_TRANSFORMS_DIR): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(transformsDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === SDK_DIR) continue;
    if (await exists(join(transformsDir, entry.name, 'index.ts'))) names.push(entry.name);
  }
  return names.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}

async function sourceHash(transformsDir: string, name: string): Promise<string> {
  const h = createHash('sha256');
  const ascPkg = JSON.parse(
    await readFile(join(REPO_ROOT, 'node_modules/assemblyscript/package.json'), 'utf8'),
  ) as {
    version: string;
  };
  h.update(`asc ${ascPkg.version}\n${ASC_FLAGS.join(' ')}\n`);
  // Every source but other transforms' own folders: the SDK and shared libraries (folders without
  // an index.ts, such as supply-chain/) may be imported by any transform.
  const others = new Set((await listTransforms(transformsDir)).filter((t) => t !== name));
  const files = (await sourceFiles(transformsDir)).filter(
    (f) => !others.has(relative(transformsDir, f).split(/[\\/]/)[0] ?? ''),
  );
  for (const f of files) {
    h.update(relative(transformsDir, f));
    h.update('\0');
    h.update(await readFile(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/** Compiles one transform; returns the compiler's error text, or null on success. */
function compile(transformsDir: string, name: string, outFile: string): Promise<string | null> {
  return compileEntry({ transformsDir, entry: join(name, 'index.ts'), outFile });
}

/**
 * Like compileEntry, but cached in outDir as <name>.wasm by the same source hash as transforms
 * (for test modules such as the SDK harness). Resolves with the module's path; rejects with a
 * BuildError when it does not compile.
 */
export async function compileEntryCached(options: {
  entry: string;
  name: string;
  outDir?: string;
  transformsDir?: string;
}): Promise<string> {
  const { entry, name, outDir = DEFAULT_OUT_DIR, transformsDir = DEFAULT_TRANSFORMS_DIR } = options;
  await mkdir(outDir, { recursive: true });
  const wasmPath = join(outDir, `${name}.wasm`);
  const hash = `${entry}\n${await sourceHash(transformsDir, name)}`;
  if ((await exists(wasmPath)) && (await readFile(`${wasmPath}.sha256`, 'utf8').catch(() => '')) === hash)
    return wasmPath;
  const tmp = `${wasmPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const err = await compileEntry({ entry, outFile: tmp, transformsDir });
  if (err !== null) {
    throw Object.assign(new Error(`${entry} does not compile:\n${err}`), {
      code: 'FERRY_TRANSFORM_BUILD' as const,
      retryable: false as const,
      results: [],
    });
  }
  await rename(tmp, wasmPath);
  await writeFile(`${wasmPath}.sha256`, hash);
  return wasmPath;
}

/**
 * Compiles any AssemblyScript entry under transformsDir with the preset (for SDK test modules that
 * are not transforms). Returns the compiler's error text, or null on success.
 */
export async function compileEntry(options: {
  entry: string;
  outFile: string;
  transformsDir?: string;
}): Promise<string | null> {
  const { entry, outFile, transformsDir = DEFAULT_TRANSFORMS_DIR } = options;
  const asc = (await import('assemblyscript/asc')).default;
  let stderr = '';
  const sink = (append: (s: string) => void) => ({
    write(chunk: string | Uint8Array) {
      append(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
      return true;
    },
  });
  const { error } = await asc.main(['--baseDir', transformsDir, entry, '--outFile', outFile, ...ASC_FLAGS], {
    stdout: sink(() => {}),
    stderr: sink((s) => {
      stderr += s;
    }),
  });
  return error ? `${error.message}\n${stderr}`.trim() : null;
}

/**
 * Builds and checks transforms. Resolves with one result per transform (ok or not, with reasons);
 * use buildTransformsOrThrow when any failure should stop the caller.
 */
export async function buildTransforms(options: BuildOptions = {}): Promise<BuildResult[]> {
  const {
    transformsDir = DEFAULT_TRANSFORMS_DIR,
    outDir = DEFAULT_OUT_DIR,
    force = false,
    check = {},
  } = options;
  const names = options.names ?? (await listTransforms(transformsDir));
  await mkdir(outDir, { recursive: true });
  const results: BuildResult[] = [];
  for (const name of names) {
    if (!(await exists(join(transformsDir, name, 'index.ts')))) {
      results.push({
        name,
        ok: false,
        reasons: [`no transform named "${name}" (missing ${name}/index.ts)`],
        wasmPath: null,
      });
      continue;
    }
    const wasmPath = join(outDir, `${name}.wasm`);
    const hashPath = `${wasmPath}.sha256`;
    const hash = await sourceHash(transformsDir, name);
    const cached =
      !force && (await exists(wasmPath)) && (await readFile(hashPath, 'utf8').catch(() => '')) === hash;
    if (!cached) {
      const tmp = `${wasmPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      const err = await compile(transformsDir, name, tmp);
      if (err !== null) {
        results.push({ name, ok: false, reasons: [err], wasmPath: null });
        continue;
      }
      await rename(tmp, wasmPath);
      await writeFile(hashPath, hash);
    }
    const verdict = checkModule(new Uint8Array(await readFile(wasmPath)), check);
    if (verdict.ok) results.push({ name, ok: true, wasmPath, cached, info: verdict.info });
    else results.push({ name, ok: false, reasons: verdict.reasons, wasmPath });
  }
  return results;
}

/** Like buildTransforms, but rejects with a BuildError (code FERRY_TRANSFORM_BUILD) if any failed. */
export async function buildTransformsOrThrow(options: BuildOptions = {}): Promise<BuildResult[]> {
  const results = await buildTransforms(options);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) {
    const text = failed.map((r) => `${r.name}: ${r.ok ? '' : r.reasons.join('; ')}`).join('\n');
    throw Object.assign(new Error(`transform build failed:\n${text}`), {
      code: 'FERRY_TRANSFORM_BUILD' as const,
      retryable: false as const,
      results,
    });
  }
  return results;
}
