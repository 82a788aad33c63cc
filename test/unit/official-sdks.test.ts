// The host runs modules built with Redpanda's official SDKs, not only Ferry's: the Go SDK's and the Rust
// SDK's own examples (test/support/official-sdks.ts). They use ABI v2 (check_abi_version_2,
// write_record_with_options for routing), their runtimes' WASI (clocks, random, environ, args, fd_write,
// poll_oneoff, sched_yield), REDPANDA_OUTPUT_TOPIC_<n> and user environment variables, and stderr logs.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkModule } from '../../wasm/build/index.ts';
import { createTransformHost, type HostRecord, type TransformHost } from '../../wasm/index.ts';
import {
  buildGoSdkExample,
  buildRustSdkExamples,
  type GoSdkExample,
  type RustSdkExample,
} from '../support/official-sdks.ts';
import { plain } from '../support/sdk-outputs.ts';

// A standard-Go module starts at ~2.4 MiB of linear memory, over the broker's default 2 MiB
// (data_transforms_per_function_memory_limit); these tests run it as a broker configured with 16 MiB.
const MEMORY_LIMIT = 16 * 1024 * 1024;
const modules = new Map<`go:${GoSdkExample}` | `rust:${RustSdkExample}`, Uint8Array>();

beforeAll(async () => {
  // Sequential: the first Go build compiles Go's standard library for wasip1, the others reuse it; the
  // Rust examples build in one cargo run. Both are cached in the OS temp directory between runs.
  for (const example of ['identity', 'validation', 'regexpFilter'] as const) {
    modules.set(`go:${example}`, new Uint8Array(await readFile(await buildGoSdkExample(example))));
  }
  for (const [example, path] of Object.entries(await buildRustSdkExamples())) {
    modules.set(`rust:${example as RustSdkExample}`, new Uint8Array(await readFile(path)));
  }
}, 900_000);

const enc = new TextEncoder();

function records(values: Array<{ key: string | null; value: string | null }>, base = 100n): HostRecord[] {
  return values.map(({ key, value }, i) => ({
    key: key === null ? null : enc.encode(key),
    value: value === null ? null : enc.encode(value),
    headers: [{ key: 'ferry-event-id', value: enc.encode(`e${i}`) }],
    offset: base + BigInt(i),
    timestamp: 1_764_000_000_000 + i,
  }));
}

async function withHost<T>(
  example: `go:${GoSdkExample}` | `rust:${RustSdkExample}`,
  options: { outputTopics?: string[]; env?: Record<string, string> },
  body: (host: TransformHost, logs: string[]) => Promise<T>,
): Promise<T> {
  const logs: string[] = [];
  const host = await createTransformHost({
    module: modules.get(example)!,
    name: example.replace(':', '-'),
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
    const module = modules.get('go:validation')!;
    const checked = checkModule(module, { memoryLimitBytes: MEMORY_LIMIT });
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(checked.info.abiVersion).toBe(2);
    const refused = checkModule(module);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reasons.join('; ')).toMatch(/over the per-transform memory limit/);
  });

  it('identity: every record comes out unchanged, in order, across several batches', async () => {
    await withHost('go:identity', {}, async (host) => {
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
    await withHost('go:validation', { outputTopics: ['clean.shipments', 'invalid_json'] }, async (host) => {
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
    await withHost('go:regexpFilter', { env: { PATTERN: '^SHP-[0-9]+$' } }, async (host) => {
      const input = ['SHP-1', 'TRL-2', 'SHP-33', 'SHP-x', null].map((key) => ({ key, value: 'v' }));
      const { outputs } = await host.process({ baseOffset: 100n, records: records(input) });
      expect(plain(outputs).map((o) => o.key)).toEqual(['SHP-1', 'SHP-33']);
    });
  });

  it('regexp filter without its variable: the panic at start-up is a trap with the guest message', async () => {
    const logs: string[] = [];
    await expect(
      createTransformHost({
        module: modules.get('go:regexpFilter')!,
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

describe("modules built with Redpanda's official Rust SDK", () => {
  it('pass the deploy checks at the default 2 MiB limit', () => {
    for (const example of ['identity', 'identity_logging', 'tee', 'validation_filter'] as const) {
      const checked = checkModule(modules.get(`rust:${example}`)!);
      expect(checked.ok, example).toBe(true);
      if (checked.ok) expect(checked.info.abiVersion).toBe(2);
    }
  });

  it('identity: keys, values (null included) and headers come out unchanged, in order', async () => {
    await withHost('rust:identity', {}, async (host) => {
      const input = Array.from({ length: 250 }, (_, i) => ({
        key: i % 5 === 0 ? null : `k${i}`,
        value: i % 9 === 0 ? null : `v${i}-${'y'.repeat(i * 3)}`,
      }));
      const { outputs } = await host.process({ baseOffset: 0n, records: records(input, 0n) });
      expect(plain(outputs)).toEqual(
        input.map(({ key, value }, i) => ({
          topic: 'clean.shipments',
          key,
          value,
          headers: [['ferry-event-id', `e${i}`]],
        })),
      );
    });
  });

  it('tee: finds its output topics in REDPANDA_OUTPUT_TOPIC_<n> and writes each record to all of them', async () => {
    const topics = ['clean.shipments', 'audit.shipments', 'dlq.transform'];
    await withHost('rust:tee', { outputTopics: topics }, async (host) => {
      const { outputs } = await host.process({
        baseOffset: 7n,
        records: records(
          [
            { key: 'a', value: '1' },
            { key: 'b', value: '2' },
          ],
          7n,
        ),
      });
      expect(plain(outputs).map((o) => [o.topic, o.key])).toEqual([
        ...topics.map((t) => [t, 'a']),
        ...topics.map((t) => [t, 'b']),
      ]);
    });
  });

  it('identity_logging: what the guest writes to stderr reaches the log callback, one line per record', async () => {
    await withHost('rust:identity_logging', {}, async (host, logs) => {
      const { outputs } = await host.process({
        baseOffset: 0n,
        records: records(
          [
            { key: 'SHP-1', value: '{"a":1}' },
            { key: 'SHP-2', value: 'x' },
          ],
          0n,
        ),
      });
      expect(outputs).toHaveLength(2);
      // one message per fd_write (eprintln! writes a line at once), newline included, as the broker logs it
      expect(logs).toEqual(['SHP-1:{"a":1}\n', 'SHP-2:x\n']);
    });
  });

  it('validation_filter: drops what is not JSON', async () => {
    await withHost('rust:validation_filter', {}, async (host) => {
      const input = ['{"id":1}', '{"id":', '[true]', 'nope', '"s"'].map((value, i) => ({
        key: `k${i}`,
        value,
      }));
      const { outputs } = await host.process({ baseOffset: 0n, records: records(input, 0n) });
      expect(plain(outputs).map((o) => o.value)).toEqual(['{"id":1}', '[true]', '"s"']);
    });
  });
});
