// The dependency rules of docs/architecture.md, checked over the import graph (every static import and
// export, and every dynamic import(), as TypeScript's own pre-processor reads them):
//   - relay/core imports neither an adapter nor anything outside relay/core, nor a runtime module
//     (node:* or a Node builtin, bun, cloudflare:*, Deno's npm:/jsr: specifiers);
//   - transforms/ imports nothing outside transforms/ (no host code, no relay);
//   - wasm/ never imports relay/ (except the metrics registry, a leaf both processes render with);
//   - product code (relay/, wasm/, cli/, deploy/; not their *.test.ts files) never imports test/.
// Known violations are listed below, each with the reason it is still there.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Product code importing test/ today. The layout move (the mock API and what else the CLI ships, out of
 * test/ into a product folder) removes these; until then they are the only ones allowed, and an entry
 * that no longer occurs fails the test so the list only shrinks.
 */
const KNOWN_TEST_IMPORTS: ReadonlyArray<readonly [from: string, to: string]> = [
  ['cli/commands/mock-api.ts', 'test/support/mock-api/server.ts'], // `ferry mock-api` serves the mock API
  ['cli/demo/demo.ts', 'test/support/mock-api/index.ts'], // the demo's four mock external APIs
  ['cli/demo/demo.ts', 'test/support/kafka.ts'], // the demo reads the topics it accounts for
  ['cli/demo/plan.ts', 'test/support/mock-api/core.ts'],
  ['cli/demo/plan.ts', 'test/support/mock-api/faults.ts'],
  ['cli/demo/plan.ts', 'test/support/mock-api/ledger.ts'],
];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    if (name === 'node_modules' || name === 'build' || name.startsWith('.')) continue;
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...tsFiles(rel));
    else if (name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

interface Edge {
  from: string;
  specifier: string;
  /** Repository path the specifier resolves to, for relative specifiers. */
  to: string | null;
}

function importsOf(file: string): Edge[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles.map(({ fileName }) => ({
    from: file,
    specifier: fileName,
    to: fileName.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), fileName)) : null,
  }));
}

const isTest = (file: string) => /\.test\.ts$/.test(file);
const inside = (path: string | null, folder: string) => path?.startsWith(`${folder}/`) === true;
const NODE_BUILTINS = new Set(builtinModules);

function runtimeModule(specifier: string): boolean {
  return (
    specifier.startsWith('node:') ||
    NODE_BUILTINS.has(specifier) ||
    specifier === 'bun' ||
    specifier.startsWith('bun:') ||
    specifier.startsWith('cloudflare:') ||
    specifier.startsWith('npm:') ||
    specifier.startsWith('jsr:')
  );
}

/** Every rule broken by these edges, one line each, with the edge that broke it. */
function violations(edges: readonly Edge[]): Array<{ edge: Edge; rule: string }> {
  const out: Array<{ edge: Edge; rule: string }> = [];
  const push = (edge: Edge, rule: string) =>
    out.push({ edge, rule: `${edge.from} imports ${edge.specifier}: ${rule}` });
  for (const e of edges) {
    if (inside(e.from, 'relay/core') && !isTest(e.from)) {
      if (runtimeModule(e.specifier)) push(e, 'relay/core is runtime-free (no runtime modules)');
      else if (e.to !== null && !inside(e.to, 'relay/core'))
        push(e, 'relay/core imports nothing outside itself (adapters come in as arguments)');
    }
    if (inside(e.from, 'transforms') && e.to !== null && !inside(e.to, 'transforms'))
      push(e, 'transforms/ stand alone (no host or relay code)');
    // The one shared leaf: the runner renders its metrics with the relay's Prometheus registry, so both
    // processes expose (and escape) metrics the same way. Tests may read relay helpers.
    if (
      inside(e.from, 'wasm') &&
      !isTest(e.from) &&
      inside(e.to, 'relay') &&
      e.to !== 'relay/metrics/registry.ts'
    )
      push(e, 'wasm/ never imports relay/ (except the metrics registry)');
    const product = ['relay', 'wasm', 'cli', 'deploy'].some((f) => inside(e.from, f)) && !isTest(e.from);
    if (product && inside(e.to, 'test')) push(e, 'product code never imports test/');
  }
  return out;
}

const edges = ['relay', 'wasm', 'cli', 'deploy', 'transforms'].flatMap(tsFiles).flatMap(importsOf);
const known = (e: Edge) => KNOWN_TEST_IMPORTS.some(([from, to]) => e.from === from && e.to === to);

describe('import boundaries', () => {
  it('reads the import graph of every product folder', () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges.some((e) => e.from.startsWith('relay/core/') && e.specifier === 'cockatiel')).toBe(true);
  });

  it('no import breaks a rule, except the known ones listed above', () => {
    expect(
      violations(edges)
        .filter((v) => !known(v.edge))
        .map((v) => v.rule),
    ).toEqual([]);
  });

  it('every known violation still occurs (the list only shrinks)', () => {
    const found = violations(edges);
    for (const [from, to] of KNOWN_TEST_IMPORTS) {
      expect(
        found.some((v) => v.edge.from === from && v.edge.to === to),
        `${from} -> ${to}`,
      ).toBe(true);
    }
  });

  it('catches each kind of violation (made-up imports between real files)', () => {
    const edge = (from: string, specifier: string, to: string | null = null): Edge => ({
      from,
      specifier,
      to,
    });
    expect(
      violations([
        edge('relay/core/relay.ts', 'node:fs'),
        edge('relay/core/relay.ts', 'fs'),
        edge('relay/core/relay.ts', 'cloudflare:sockets'),
        edge('relay/core/relay.ts', '../adapters/http-undici.ts', 'relay/adapters/http-undici.ts'),
        edge('transforms/sdk/payload.ts', '../../wasm/host/payload.ts', 'wasm/host/payload.ts'),
        edge('wasm/host/host.ts', '../../relay/core/errors.ts', 'relay/core/errors.ts'),
        edge(
          'cli/commands/demo.ts',
          '../../test/support/mock-api/server.ts',
          'test/support/mock-api/server.ts',
        ),
      ]),
    ).toHaveLength(7);
    expect(
      violations([
        edge('relay/core/relay.ts', './errors.ts', 'relay/core/errors.ts'),
        edge('relay/core/relay.ts', 'cockatiel'),
        edge('relay/core/relay.test.ts', '../adapters/dedupe-memory.ts', 'relay/adapters/dedupe-memory.ts'),
        edge(
          'wasm/runner/partition.test.ts',
          '../../test/support/probe-host.ts',
          'test/support/probe-host.ts',
        ),
        edge('relay/adapters/kafka-source.ts', 'node:net'),
      ]),
    ).toEqual([]);
  });
});
