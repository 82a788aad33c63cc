// The edge bundles (npm run build:edge) hold no Kafka client, no TCP Redis client, no database
// driver, no undici and nothing from node:* or the file system, checked on esbuild's metafile: every
// bundled input and every import any of them makes. And each stays under the 1 MiB budget.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES, buildEdge, type EdgeBundle, importGraph } from '../../deploy/edge/build.ts';

const FORBIDDEN = [
  /node_modules\/@platformatic\/kafka\//,
  /node_modules\/ioredis\//,
  /node_modules\/pg(-[a-z]+)?\//,
  /node_modules\/undici\//,
  /^node:/,
  /^(fs|net|tls|crypto|path|os|child_process|worker_threads|stream|http|https|dns|zlib)(\/|$)/,
  /^(bun|deno):/,
  /relay\/adapters\/(kafka-source|dlq-kafka|dlq-reader|dedupe-redis|http-undici)\.ts$/,
  /relay\/(host-node|main|index)\.ts$/,
  /^wasm\/index\.ts$/,
];

describe('edge bundles', () => {
  let bundles: EdgeBundle[] = [];
  beforeAll(async () => {
    bundles = await buildEdge({ outdir: mkdtempSync(join(tmpdir(), 'ferry-edge-test-')) });
  }, 60_000);

  it('builds one module per edge target', () => {
    expect(bundles.map((b) => b.target).sort()).toEqual(['deno-deploy', 'worker']);
  });

  it.each(['worker', 'deno-deploy'] as const)(
    '%s: no Kafka, ioredis, pg, undici, node:* or fs in the import graph',
    (target) => {
      const bundle = bundles.find((b) => b.target === target) as EdgeBundle;
      const { inputs, imports } = importGraph(bundle.metafile);
      // The graph is the real one: the relay's core, the app and the edge root are in it.
      expect(inputs).toEqual(
        expect.arrayContaining(['relay/edge.ts', 'relay/core/relay.ts', 'relay/app/app.ts']),
      );
      expect(inputs.some((i) => i.includes('node_modules/@upstash/redis/'))).toBe(true);
      const offending = [...inputs, ...imports].filter((p) => FORBIDDEN.some((f) => f.test(p)));
      expect(offending).toEqual([]);
      const external = Object.values(bundle.metafile.inputs).flatMap((i) =>
        i.imports.filter((x) => x.external),
      );
      expect(external).toEqual([]);
    },
  );

  it.each(['worker', 'deno-deploy'] as const)('%s: within the 1 MiB budget, minified', (target) => {
    const bundle = bundles.find((b) => b.target === target) as EdgeBundle;
    expect(bundle.bytes).toBeGreaterThan(50_000);
    expect(bundle.bytes).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });
});
