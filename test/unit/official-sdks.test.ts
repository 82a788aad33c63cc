// The host runs modules built with Redpanda's official Go SDK (issue: "modules built with any of Redpanda's
// official SDKs"): the SDK's own examples, built with the standard Go toolchain's wasip1 target. They use
// ABI v2 (check_abi_version_2, write_record_with_options for routing), the Go runtime's WASI (clocks,
// random, environ, args, fd_write, poll_oneoff, sched_yield) and environment variables.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkModule } from '../../wasm/build/index.ts';
import {
  createTransformHost,
  type HostRecord,
  type OutputRecord,
  type TransformHost,
} from '../../wasm/index.ts';
import { buildGoSdkExample, type GoSdkExample } from '../support/official-go-sdk.ts';

// A standard-Go module starts at ~2.4 MiB of linear memory, over the broker's default 2 MiB
// (data_transforms_per_function_memory_limit); these tests run it as a broker configured with 16 MiB.
const MEMORY_LIMIT = 16 * 1024 * 1024;
const modules = new Map<GoSdkExample, Uint8Array>();

beforeAll(async () => {
  // Sequential: the first build compiles Go's standard library for wasip1, the others reuse it.
  for (const example of ['identity', 'validation', 'regexpFilter'] as const) {
    modules.set(example, new Uint8Array(await readFile(await buildGoSdkExample(example))));
  }
}, 600_000);

const enc = new TextEncoder();
const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString());

function records(values: Array<{ key: string | null; value: string | null }>, base = 100n): HostRecord[] {
  return values.map(({ key, value }, i) => ({
    key: key === null ? null : enc.encode(key),
    value: value === null ? null : enc.encode(value),
    headers: [{ key: 'ferry-event-id', value: enc.encode(`e${i}`) }],
    offset: base + BigInt(i),
    timestamp: 1_764_000_000_000 + i,
  }));
}

function plain(outputs: OutputRecord[]) {
  return outputs.map((o) => ({
    topic: o.topic,
    key: text(o.key),
    value: text(o.value),
    headers: o.headers.map((h) => [h.key, text(h.value)]),
  }));
}

async function withHost<T>(
  example: GoSdkExample,
  options: { outputTopics?: string[]; env?: Record<string, string> },
  body: (host: TransformHost, logs: string[]) => Promise<T>,
): Promise<T> {
  const logs: string[] = [];
  const host = await createTransformHost({
    module: modules.get(example)!,
    name: `go-${example}`,
    inputTopic: 'cdc.public.shipments',
    outputTopics: options.outputTopics ?? ['clean.shipments'],
    env: options.env ?? {},
    memoryLimitBytes: MEMORY_LIMIT,
    onLog: (_level, line) => logs.push(line),
  });
  try {
    return await body(host, logs);
  } finally {
    await host.close();
  }
}

describe("modules built with Redpanda's official Go SDK", () => {
  it('pass the deploy checks at the limit the broker is configured with, and not at the 2 MiB default', () => {
    const module = modules.get('validation')!;
    const checked = checkModule(module, { memoryLimitBytes: MEMORY_LIMIT });
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(checked.info.abiVersion).toBe(2);
    const refused = checkModule(module);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reasons.join('; ')).toMatch(/over the per-transform memory limit/);
  });

  it('identity: every record comes out unchanged, in order, across several batches', async () => {
    await withHost('identity', {}, async (host) => {
      const input = Array.from({ length: 300 }, (_, i) => ({
        key: i % 7 === 0 ? null : `k${i}`,
        value: i % 11 === 0 ? null : `{"i":${i},"pad":"${'x'.repeat(i)}"}`,
      }));
      const seen: ReturnType<typeof plain> = [];
      for (let from = 0; from < input.length; from += 100) {
        const batch = records(input.slice(from, from + 100), BigInt(from));
        seen.push(...plain((await host.process({ baseOffset: BigInt(from), records: batch })).outputs));
      }
      expect(seen).toEqual(
        input.map(({ key, value }, i) => ({
          topic: 'clean.shipments',
          key,
          value,
          headers: [['ferry-event-id', `e${i % 100}`]],
        })),
      );
      expect(host.stats).toMatchObject({ traps: 0, restarts: 0, recordsIn: 300, recordsOut: 300 });
    });
  });

  it('validation: invalid JSON is routed to the second output topic with write_record_with_options', async () => {
    await withHost('validation', { outputTopics: ['clean.shipments', 'invalid_json'] }, async (host) => {
      const input = [
        { key: 'a', value: '{"id":1}' },
        { key: 'b', value: '{"id":' },
        { key: 'c', value: '[1,2,3]' },
        { key: 'd', value: 'not json' },
      ];
      const { outputs } = await host.process({ baseOffset: 100n, records: records(input) });
      expect(plain(outputs).map((o) => [o.topic, o.key, o.value])).toEqual([
        ['clean.shipments', 'a', '{"id":1}'],
        ['invalid_json', 'b', '{"id":'],
        ['clean.shipments', 'c', '[1,2,3]'],
        ['invalid_json', 'd', 'not json'],
      ]);
    });
  });

  it('regexp filter: reads its pattern from the environment variables given at deploy', async () => {
    await withHost('regexpFilter', { env: { PATTERN: '^SHP-[0-9]+$' } }, async (host) => {
      const input = ['SHP-1', 'TRL-2', 'SHP-33', 'SHP-x', null].map((key) => ({ key, value: 'v' }));
      const { outputs } = await host.process({ baseOffset: 100n, records: records(input) });
      expect(plain(outputs).map((o) => o.key)).toEqual(['SHP-1', 'SHP-33']);
    });
  });

  it('regexp filter without its variable: the panic at start-up is a trap with the guest message', async () => {
    const logs: string[] = [];
    await expect(
      createTransformHost({
        module: modules.get('regexpFilter')!,
        name: 'go-regexp-no-env',
        inputTopic: 'cdc.public.shipments',
        outputTopics: ['clean.shipments'],
        memoryLimitBytes: MEMORY_LIMIT,
        backoff: { initialMs: 10, maxMs: 10, resetAfterMs: 1000 },
        onLog: (_level, line) => logs.push(line),
      }),
    ).rejects.toMatchObject({ code: 'FERRY_WASM_TRAP', kind: 'proc_exit' });
    expect(logs.join('\n')).toContain('Missing PATTERN variable');
  });
});
