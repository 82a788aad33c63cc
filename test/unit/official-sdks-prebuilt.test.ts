// The host runs modules built with Redpanda's official C++ and JavaScript SDKs (ABI v1, and schema
// registry v0 for the JS VM and the C++ registry example). Their sources live only on GitHub, which CI
// cannot reach, so these modules were built once from the SDKs' own examples and are kept as fixtures
// (test/fixtures/official-sdk-modules/PROVENANCE.md says how). The Go and Rust SDK modules are built
// from their registries on every run (official-sdks.test.ts).
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkModule } from '../../wasm/build/index.ts';
import { createTransformHost, type HostRecord, type OutputRecord } from '../../wasm/index.ts';
import { plain } from '../support/sdk-outputs.ts';

const FIXTURES = new URL('../fixtures/official-sdk-modules/', import.meta.url);
type Fixture = 'cpp-identity' | 'cpp-identity-logging' | 'cpp-schema-registry' | 'js-json-upper';
const load = async (name: Fixture) =>
  new Uint8Array(gunzipSync(await readFile(new URL(`${name}.wasm.gz`, FIXTURES))));

const enc = new TextEncoder();

/** Keys and values that tell null from empty, a header with a null value, a value of 5000 bytes. */
function records(base: bigint): HostRecord[] {
  return [
    {
      key: enc.encode('k1'),
      value: enc.encode('{"a":1}'),
      headers: [{ key: 'h', value: enc.encode('v') }],
      offset: base,
      timestamp: 1_764_000_000_000,
    },
    { key: null, value: null, headers: [], offset: base + 1n, timestamp: 1_764_000_000_001 },
    {
      key: new Uint8Array(0),
      value: enc.encode('x'.repeat(5000)),
      headers: [{ key: 'n', value: null }],
      offset: base + 2n,
      timestamp: 1_764_000_000_002,
    },
  ];
}

/** Runs two batches through a host of `name`; returns the outputs of both, the logs and the stats. */
async function run(name: Fixture) {
  const logs: string[] = [];
  const host = await createTransformHost({
    module: await load(name),
    name,
    inputTopic: 'cdc.public.shipments',
    outputTopics: ['clean.shipments'],
    onLog: (level, line) => logs.push(`${level}: ${line}`),
  });
  try {
    const outputs: OutputRecord[][] = [];
    for (const base of [7n, 10n])
      outputs.push((await host.process({ baseOffset: base, records: records(base) })).outputs);
    return { outputs: outputs.map(plain), logs, stats: host.stats };
  } finally {
    await host.close();
  }
}

const IDENTITY = [
  { topic: 'clean.shipments', key: 'k1', value: '{"a":1}', headers: [['h', 'v']] },
  { topic: 'clean.shipments', key: null, value: null, headers: [] },
  { topic: 'clean.shipments', key: '', value: 'x'.repeat(5000), headers: [['n', null]] },
];

describe("modules built with Redpanda's official C++ and JavaScript SDKs", () => {
  it('pass the deploy checks at the broker default 2 MiB limit, as ABI v1 modules', async () => {
    for (const name of [
      'cpp-identity',
      'cpp-identity-logging',
      'cpp-schema-registry',
      'js-json-upper',
    ] as const) {
      const checked = checkModule(await load(name));
      expect(checked.ok, name).toBe(true);
      if (!checked.ok) continue;
      expect(checked.info.abiVersion, name).toBe(1);
      // The registry example and the JS VM (which links the registry module) import schema registry v0.
      expect(checked.info.usesSchemaRegistry, name).toBe(
        name === 'cpp-schema-registry' || name === 'js-json-upper',
      );
    }
  });

  it('C++ identity: keys, values and headers come out byte for byte, null and empty kept apart', async () => {
    const { outputs, logs, stats } = await run('cpp-identity');
    expect(outputs).toEqual([IDENTITY, IDENTITY]);
    expect(logs).toEqual([]);
    expect(stats).toMatchObject({ traps: 0, restarts: 0, recordsIn: 6, recordsOut: 6 });
  });

  it("C++ identity_logging: the guest's stderr lines arrive as logs, one per record", async () => {
    const { outputs, logs } = await run('cpp-identity-logging');
    expect(outputs).toEqual([IDENTITY, IDENTITY]);
    // one message per fd_write, as the guest wrote it (its newline included); the long one is cut at 1 KiB
    const perBatch = ['warn: k1:{"a":1}\n', 'warn: :\n', `warn: :${'x'.repeat(5000)}`];
    expect(logs.map((l) => l.slice(0, 60))).toEqual([...perBatch, ...perBatch].map((l) => l.slice(0, 60)));
  });

  it('C++ schema registry example: registry v0 answers as a broker without a registry, the program ends, the host reports it', async () => {
    await expect(
      createTransformHost({
        module: await load('cpp-schema-registry'),
        name: 'cpp-schema-registry',
        inputTopic: 'cdc.public.shipments',
        outputTopics: ['clean.shipments'],
        backoff: { initialMs: 10, maxMs: 10, resetAfterMs: 1000 },
      }),
    ).rejects.toMatchObject({ code: 'FERRY_WASM_TRAP', message: expect.stringMatching(/vm has exited/) });
  });

  it('JavaScript (QuickJS VM): JSON.parse, spread, console.error and .text() work through ABI v1', async () => {
    const { outputs, logs, stats } = await run('js-json-upper');
    const batch = [
      { topic: 'clean.shipments', key: 'k1', value: '{"a":1,"seen":true,"key":"k1"}', headers: [['h', 'v']] },
      // A null value reads as "" in the script: not JSON, so upper-cased (empty) and logged.
      { topic: 'clean.shipments', key: null, value: '', headers: [] },
      { topic: 'clean.shipments', key: '', value: 'X'.repeat(5000), headers: [['n', null]] },
    ];
    expect(outputs).toEqual([batch, batch]);
    const perBatch = ['warn: bad json at key undefined\n', 'warn: bad json at key \n'];
    expect(logs).toEqual([...perBatch, ...perBatch]);
    expect(stats).toMatchObject({ traps: 0, restarts: 0, recordsIn: 6, recordsOut: 6 });
  });
});
