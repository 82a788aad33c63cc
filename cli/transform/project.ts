// A transform's folder as the commands see it: where it is (transforms/<name>/ or any folder with a
// transform.yaml), its rpk project file, and its module, built with the broker's deploy-time checks.
import { mkdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import { parse as parseYaml } from 'yaml';
import { buildTransforms } from '../../wasm/index.ts';
import { CliError } from '../errors.ts';
import { syncRulesModule } from './rules-codegen.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TRANSFORMS_DIR = join(REPO_ROOT, 'transforms');
/** The guest libraries a scaffolded transform imports as ../sdk and ../supply-chain. */
export const SHARED_FOLDERS = ['sdk', 'supply-chain'] as const;

export interface TransformFolder {
  readonly name: string;
  readonly dir: string;
  /** Under transforms/ (built into build/wasm/ with the cache) or elsewhere (built into the folder). */
  readonly inRepo: boolean;
}

const topic = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name'));
const projectSchema = v.object({
  name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, ., _ and -')),
  description: v.optional(v.string()),
  'input-topic': topic,
  'output-topics': v.pipe(v.array(topic), v.minLength(1), v.maxLength(8)),
  env: v.optional(v.nullable(v.record(v.string(), v.union([v.string(), v.number(), v.boolean()])))),
});

/** transform.yaml, the keys of rpk's project file that deploy uses. */
export interface TransformProject {
  readonly name: string;
  readonly inputTopic: string;
  readonly outputTopics: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** `shipments` is transforms/shipments/; anything with a slash (or an existing folder) is a path. */
export async function locateTransform(arg: string): Promise<TransformFolder> {
  const looksLikePath = arg.includes('/') || arg.startsWith('.');
  const dir = looksLikePath ? resolve(arg) : join(TRANSFORMS_DIR, arg);
  if (!(await isDir(dir))) {
    throw new CliError(
      looksLikePath ? `${arg}: no such folder` : `no transform named "${arg}" (no folder transforms/${arg}/)`,
      2,
    );
  }
  return { name: basename(dir), dir, inRepo: dirname(dir) === resolve(TRANSFORMS_DIR) };
}

export async function readProject(t: TransformFolder): Promise<TransformProject> {
  const path = join(t.dir, 'transform.yaml');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(`${path}: no such file (rpk's project file names the topics)`, 2);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new CliError(`${path}: not valid YAML (${(error as Error).message.split('\n')[0]})`, 2);
  }
  const parsed = v.safeParse(projectSchema, doc);
  if (!parsed.success) {
    const i = parsed.issues[0];
    const at = (i.path ?? []).map((p) => String(p.key)).join('.') || '(root)';
    throw new CliError(`${path}: ${at}: ${i.message}`, 2);
  }
  const p = parsed.output;
  const env: Record<string, string> = {};
  for (const [k, value] of Object.entries(p.env ?? {})) env[k] = String(value);
  return { name: p.name, inputTopic: p['input-topic'], outputTopics: p['output-topics'], env };
}

/**
 * Regenerates rules.ts from rules.json, compiles and checks the module. A folder outside the
 * repository is built against this repository's SDK (linked beside it for the compiler) into
 * <folder>/<name>.wasm, as `rpk transform build` leaves its module in the project folder.
 */
export async function buildTransform(t: TransformFolder): Promise<{ wasmPath: string; cached: boolean }> {
  await syncRulesModule(t.dir);
  let transformsDir = TRANSFORMS_DIR;
  let outDir: string | undefined;
  let staging: string | undefined;
  if (!t.inRepo) {
    staging = join(tmpdir(), `ferry-build-${process.pid}-${Math.random().toString(36).slice(2)}`);
    await mkdir(staging, { recursive: true });
    for (const shared of SHARED_FOLDERS) await symlink(join(TRANSFORMS_DIR, shared), join(staging, shared));
    await symlink(t.dir, join(staging, t.name));
    transformsDir = staging;
    outDir = t.dir;
  }
  try {
    const [r] = await buildTransforms({
      names: [t.name],
      transformsDir,
      ...(outDir === undefined ? {} : { outDir, force: true }),
    });
    if (r === undefined || !r.ok) {
      const reasons = r === undefined || r.ok ? ['no result'] : r.reasons;
      throw new CliError(`${t.name}: build failed:\n  ${reasons.join('\n  ').replace(/\n/g, '\n  ')}`);
    }
    return { wasmPath: r.wasmPath, cached: r.cached };
  } finally {
    if (staging !== undefined) await rm(staging, { recursive: true, force: true });
  }
}
