// Bundles the edge relay: one minified ESM module per edge target, with everything it imports inlined
// (Hono, valibot, yaml, cockatiel, @upstash/redis). platform 'neutral' resolves no Node built-in, so
// an import of node:* (or of a package that needs one) fails the build instead of reaching a runtime
// that lacks it. Output: build/edge/<target>.js plus <target>.meta.json (esbuild's metafile, which the
// import-graph test reads). Usage: npm run build:edge [-- --outdir <dir>]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const EDGE_TARGETS = {
  worker: 'relay/entry/worker.ts',
  'deno-deploy': 'relay/entry/deno-deploy.ts',
} as const;
export type EdgeTarget = keyof typeof EDGE_TARGETS;

/** The budget for one bundle, minified. */
export const BUNDLE_BUDGET_BYTES = 1024 * 1024;

export interface EdgeBundle {
  readonly target: EdgeTarget;
  readonly file: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

export async function buildEdge({
  outdir = join(ROOT, 'build/edge'),
  targets = Object.keys(EDGE_TARGETS) as EdgeTarget[],
}: {
  outdir?: string;
  targets?: readonly EdgeTarget[];
} = {}): Promise<EdgeBundle[]> {
  mkdirSync(outdir, { recursive: true });
  const out: EdgeBundle[] = [];
  for (const target of targets) {
    const file = join(outdir, `${target}.js`);
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: [EDGE_TARGETS[target]],
      outfile: file,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      // Packages' browser/worker builds first: they use fetch and web crypto, never node:*.
      conditions: target === 'worker' ? ['workerd', 'worker', 'browser'] : ['deno', 'worker', 'browser'],
      mainFields: ['browser', 'module', 'main'],
      minify: true,
      metafile: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    writeFileSync(join(outdir, `${target}.meta.json`), JSON.stringify(result.metafile));
    const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0] as string]?.bytes ?? 0;
    out.push({ target, file, bytes, metafile: result.metafile });
  }
  return out;
}

/** Every module path and import a bundle's metafile lists (bundled inputs and external imports). */
export function importGraph(metafile: Metafile): { inputs: string[]; imports: string[] } {
  const inputs = Object.keys(metafile.inputs);
  const imports = new Set<string>();
  for (const input of Object.values(metafile.inputs)) for (const i of input.imports) imports.add(i.path);
  return { inputs, imports: [...imports] };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--outdir');
  const bundles = await buildEdge(i > 0 ? { outdir: process.argv[i + 1] as string } : {});
  let over = false;
  for (const b of bundles) {
    const kib = (b.bytes / 1024).toFixed(1);
    const share = ((b.bytes / BUNDLE_BUDGET_BYTES) * 100).toFixed(0);
    console.log(`${b.target.padEnd(12)} ${b.file}  ${kib} KiB minified (${share}% of the 1 MiB budget)`);
    if (b.bytes > BUNDLE_BUDGET_BYTES) over = true;
  }
  if (over) {
    console.error('build:edge: a bundle is over the 1 MiB budget');
    process.exit(1);
  }
}
