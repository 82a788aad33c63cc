// Property tests of the relay's config loader under arbitrary and mutated YAML: it returns either a
// config the relay can be built from or a list of `path: problem` errors; it never throws, never takes
// long, and never echoes a secret that came in through `${ENV}`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createMemoryDedupeStore } from '../../relay/adapters/dedupe-memory.ts';
import { ConfigSchema, parseConfig } from '../../relay/config/index.ts';
import type { ConfigResult } from '../../relay/config/load.ts';
import type { SinkOptions } from '../../relay/core/options.ts';
import { createRelay } from '../../relay/core/relay.ts';
import { createRegistry } from '../../relay/metrics/registry.ts';
import { createMemoryDlq, createScriptedSender } from '../../relay/testing/fakes.ts';
import { createMemorySource } from '../../relay/testing/memory-source.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLE = readFileSync(join(ROOT, 'deploy', 'relay.example.yaml'), 'utf8');

/** Configs of the shapes the tests use: a bad one, a push source, a minimal one with memory dedupe. */
const SEEDS = [
  EXAMPLE,
  `
kafka: { brokers: ["127.0.0.1:19092"] }
routes:
  - topics: clean.orders
    sinks:
      - id: billing
        url: ftp://127.0.0.1/billing
        retry: { attempts: 0 }
        onOpen: sometimes
        auth: { bearer: "\${FERRY_TEST_MISSING_TOKEN}" }
`,
  `
source: push
push: { token: "\${PUSH_TOKEN}", signingSecret: "\${PUSH_SIGNING_SECRET}", timeout: 5s }
adminToken: "\${FERRY_ADMIN_TOKEN}"
commitInterval: 20ms
routes:
  - topics: [orders]
    sinks:
      - id: api
        url: http://127.0.0.1:1/api/{id}?kind={kind}
        timeout: 1s
        retry: { attempts: 3, backoffBase: 5ms, backoffCap: 20ms }
        breaker: { threshold: 5, halfOpenAfter: 100ms }
        dedupe: { store: memory, lease: 2s }
        body: { project: { id: id, kind: kind } }
        filter: [{ field: kind, in: [a, b] }]
`,
];

// ---- secrets in the environment -----------------------------------------------------------------

const SECRET_NAMES = [
  'FERRY_ADMIN_TOKEN',
  'BILLING_TOKEN',
  'BILLING_WEBHOOK_SECRET',
  'PUSH_TOKEN',
  'PUSH_SIGNING_SECRET',
  'SECRET_X',
];

/** `${NAME}` (written so, it is not a template string). */
const ref = (name: string) => ['$', '{', name, '}'].join('');

/** Values no error message could contain by chance. */
const secret = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{12,40}$/).map((s) => `sEcReT${s}`),
  fc.stringMatching(/^[0-9]{16,24}$/),
  fc.constantFrom(
    'sEcReT with spaces: and "quotes"',
    'sEcReT\nline two',
    `sEcReT${ref('NESTED')}`,
    'sEcReT}{',
    'sEcReT#x',
  ),
);

const env = fc
  .tuple(...SECRET_NAMES.map(() => secret))
  .map((values) => Object.fromEntries(SECRET_NAMES.map((n, i) => [n, values[i] as string])));

// ---- documents ----------------------------------------------------------------------------------

/** Values a mutation may put anywhere: JSON of any shape, references to the secrets, near-misses. */
const replacement = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SECRET_NAMES).map(ref) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...SECRET_NAMES), fc.string({ maxLength: 6 }))
      .map(([n, s]) => `${s}${ref(n)}${s}`),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      ref('UNSET_VARIABLE'),
      ref('UNSET_VARIABLE:-'),
      ref('PORT'),
      '$' + '{',
      '-1',
      -1,
      0,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      '10x',
      '5s',
      '99999999999d',
      'http://127.0.0.1:1/x/{id}',
      'http://127.0.0.1:{port}/x',
      'http://h:1\\@other/x',
      'http://h:1/x#{id}',
      'file:///etc/passwd',
      'redis://127.0.0.1:16379',
      [],
      {},
      null,
      true,
    ),
  },
);

type Path = readonly (string | number)[];

/** Every path to a value inside a parsed document, the root included. */
function pathsOf(node: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(node)) {
    for (const [i, x] of node.entries()) out.push(...pathsOf(x, [...at, i]));
  } else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) out.push(...pathsOf(v, [...at, k]));
  return out;
}

type Mutation =
  | { readonly op: 'set'; readonly at: number; readonly value: unknown }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'add'; readonly at: number; readonly key: string; readonly value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: replacement }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'id', 'url'),
    ),
    value: replacement,
  }),
);

function mutate(document: unknown, mutations: readonly Mutation[]): unknown {
  let doc = structuredClone(document);
  for (const m of mutations) {
    const paths = pathsOf(doc);
    const path = paths[m.at % paths.length] as Path;
    if (path.length === 0) {
      if (m.op === 'set') doc = m.value;
      continue;
    }
    let parent = doc as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
    const last = path.at(-1) as string | number;
    if (m.op === 'set') parent[last] = structuredClone(m.value);
    else if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else {
      const target = parent[last];
      if (target !== null && typeof target === 'object' && !Array.isArray(target))
        Object.defineProperty(target, m.key, {
          value: structuredClone(m.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
  }
  return doc;
}

const seedDocument = fc.constantFrom(...SEEDS.map((text) => parseYaml(text) as unknown));

const mutatedDocument = fc
  .tuple(seedDocument, fc.array(mutation, { minLength: 1, maxLength: 5 }))
  .map(([doc, ms]) => stringifyYaml(mutate(doc, ms)));

/** The seed text cut, spliced or with a `${SECRET}` dropped in at some position. */
const mutatedText = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.nat(),
    fc.nat({ max: 40 }),
    fc.oneof(fc.string({ maxLength: 8 }), replacement.map(String)),
  )
  .map(([text, at, cut, insert]) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + insert + text.slice(i + cut);
  });

const hostileYaml = fc.constantFrom(
  '',
  '~',
  '[]',
  '42',
  '"routes"',
  '---\nroutes: []\n---\nroutes: []\n',
  'routes: !!binary aGVsbG8=',
  'routes: !unknown-tag x',
  'a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
  'routes: &r\n  - topics: t\n    sinks: *r\n',
  '<<: {routes: x}\nroutes: []',
  `${'['.repeat(3000)}${']'.repeat(3000)}`,
  `routes:\n${'  '.repeat(1)}- ${'{ a: '.repeat(1500)}1${' }'.repeat(1500)}`,
  '__proto__: { routes: [] }\nroutes: 1',
  'routes:\n  - topics: x\n    sinks:\n      - id: a\n        url: http://127.0.0.1:1/x\n        __proto__: { polluted: true }\n',
  `adminToken: ${'1'.repeat(20)}\nroutes: []`,
  '\ufeffroutes: []',
  'routes: [\u0000]',
);

const yamlText = fc.oneof(
  { weight: 4, arbitrary: mutatedDocument },
  { weight: 3, arbitrary: mutatedText },
  { weight: 1, arbitrary: hostileYaml },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => stringifyYaml(v)) },
);

// ---- the properties -----------------------------------------------------------------------------

/** Builds the relay the entry point would build from this config, with in-memory parts. */
function buildRelay(result: Extract<ConfigResult, { ok: true }>) {
  return createRelay({
    config: result.config.relay,
    source: createMemorySource(),
    senders: () => createScriptedSender(),
    dedupe: {
      memory: createMemoryDedupeStore({ instanceId: 'cfg' }),
      redis: createMemoryDedupeStore({ instanceId: 'cfg' }),
      upstash: createMemoryDedupeStore({ instanceId: 'cfg' }),
    },
    dlq: createMemoryDlq(),
    metrics: createRegistry(),
    instanceId: 'cfg',
  });
}

function validHeaderValue(text: string): boolean {
  try {
    new Headers({ x: text });
    return true;
  } catch {
    return false;
  }
}

function base64(text: string): boolean {
  try {
    atob(text.startsWith('whsec_') ? text.slice('whsec_'.length) : text);
    return true;
  } catch {
    return false;
  }
}

/** A sink no request of which can be sent: the loader must refuse it. */
function brokenAtRunTime(sink: SinkOptions): boolean {
  return (
    !Object.values(sink.headers).every(validHeaderValue) ||
    !Object.keys(sink.headers).every(
      (name) => validHeaderValue(name) && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name),
    ) ||
    (sink.auth.bearer !== undefined && !validHeaderValue(`Bearer ${sink.auth.bearer}`)) ||
    (sink.auth.webhookSecret !== undefined && !base64(sink.auth.webhookSecret)) ||
    /[\\#]/.test(sink.url)
  );
}

function topLevelKeys(text: string): Set<string> {
  try {
    const doc = parseYaml(text) as unknown;
    return new Set(doc !== null && typeof doc === 'object' ? Object.keys(doc) : []);
  } catch {
    return new Set();
  }
}

function check(text: string, environment: Record<string, string>): void {
  const started = performance.now();
  let result: ConfigResult | undefined;
  expect(() => {
    result = parseConfig(text, environment);
  }, text).not.toThrow();
  expect(performance.now() - started, 'parseConfig took too long').toBeLessThan(2_000);
  if (!result) return;
  if (result.ok) {
    const sinks = result.config.relay.routes.flatMap((r) => r.sinks);
    // A config it accepts is one the relay can be built from, and whose requests can be sent.
    expect(sinks.filter(brokenAtRunTime).map((s) => s.id)).toEqual([]);
    expect(() => buildRelay(result as Extract<ConfigResult, { ok: true }>)).not.toThrow();
    return;
  }
  expect(result.errors.length).toBeGreaterThan(0);
  const heads = ['(root)', '(yaml)', ...Object.keys(ConfigSchema.entries), ...topLevelKeys(text)];
  for (const error of result.errors) {
    // `path: problem`, the path starting at a top-level key of the document or of the schema (or a marker).
    expect(error.includes(': '), error).toBe(true);
    const named = heads.some((h) => error.startsWith(h) && /^[.[:]/.test(error.slice(h.length)));
    expect(named, error).toBe(true);
    for (const name of SECRET_NAMES) {
      const value = environment[name] as string;
      expect(error.includes(value), `${name} echoed in: ${error}`).toBe(false);
    }
  }
}

describe('relay config loader under arbitrary YAML', () => {
  it('answers a config or path-named errors, never throws or hangs, never echoes a secret', () => {
    fc.assert(fc.property(yamlText, env, check), { numRuns: 400 });
  }, 60_000);

  // What the property found, pinned as examples.
  it('refuses a recursive alias with a path-named error instead of overflowing the stack', () => {
    const r = parseConfig('routes: &r\n  - topics: t\n    sinks: *r\n', {});
    expect(r.ok).toBe(false);
    // Named at the cycle, or at the root when a depth bound catches it first.
    if (!r.ok) expect(r.errors[0]).toMatch(/^(routes\[0\]\.sinks|\(root\)): /);
  });

  it('takes a __proto__ key for an unknown setting, not for the prototype of the settings', () => {
    const sink = '{ id: a, url: "http://127.0.0.1:1/x" }';
    const top = parseConfig(`__proto__: { routes: [{ topics: t, sinks: [${sink}] }] }\n`, {});
    expect(top.ok).toBe(false);
    if (!top.ok) expect(top.errors).toContain('__proto__: unknown setting (check the spelling)');
    const nested = parseConfig(
      'routes: [{ topics: t, sinks: [{ id: a, url: "http://127.0.0.1:1/x", __proto__: { method: GET } }] }]\n',
      {},
    );
    expect(nested.ok).toBe(false);
    if (!nested.ok)
      expect(nested.errors).toEqual(['routes[0].sinks[0].__proto__: unknown setting (check the spelling)']);
  });

  it('refuses a header or projected field named __proto__, constructor or prototype instead of dropping it', () => {
    const sinkWith = (extra: string) =>
      parseConfig(`routes: [{ topics: t, sinks: [{ id: a, url: "http://127.0.0.1:1/x", ${extra} }] }]\n`, {});
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const headers = sinkWith(`headers: { ${name}: x, a: b }`);
      expect(headers.ok, name).toBe(false);
      if (!headers.ok)
        expect(headers.errors).toEqual([
          'routes[0].sinks[0].headers: cannot use __proto__, constructor or prototype as a name',
        ]);
      const project = sinkWith(`body: { project: { ${name}: id, b: id } }`);
      expect(project.ok, name).toBe(false);
      if (!project.ok) expect(project.errors[0]).toMatch(/^routes\[0\]\.sinks\[0\]\.body: /);
    }
    // A list is not a map of names (v.record alone took it as { "0": ... }).
    const list = sinkWith('headers: [a]');
    expect(list.ok).toBe(false);
    if (!list.ok)
      expect(list.errors).toEqual(['routes[0].sinks[0].headers: must be a map of header names to values']);
    // Other names still pass through.
    const fine = sinkWith('headers: { x-a: b }, body: { project: { b: id } }');
    expect(fine.ok).toBe(true);
    if (fine.ok) expect(fine.config.relay.routes[0]?.sinks[0]?.headers).toEqual({ 'x-a': 'b' });
  });

  it('says a required setting is missing, not that it is unknown', () => {
    const r = parseConfig('listen: { port: 1 }\n', {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual(['routes: missing (required)']);
    const sink = parseConfig('routes: [{ topics: t, sinks: [{ id: a }] }]\n', {});
    expect(sink.ok).toBe(false);
    if (!sink.ok) expect(sink.errors).toEqual(['routes[0].sinks[0].url: missing (required)']);
  });
});
