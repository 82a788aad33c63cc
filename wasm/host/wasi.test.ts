// docs/abi.md §7 (schema registry without a registry), §8 (WASI subset) and §9 (environment).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_TS, run, startProbe } from '../../test/support/probe-host.ts';
import { isFerryWasmError } from './errors.ts';
import type { LogLevel, TransformHost } from './types.ts';

let host: TransformHost;
const logs: Array<[LogLevel, string]> = [];
beforeAll(async () => {
  host = await startProbe({
    name: 'probe-wasi',
    env: { REGION: 'eu-west', EMPTYISH: ' ' },
    onLog: (l, s) => logs.push([l, s]),
  });
}, 120_000); // compiling the probe guest takes a while on a loaded machine
afterAll(async () => {
  await host.close();
});

describe('§8 args and environ', () => {
  it('argv = [transform name]', async () => {
    expect(await run(host, ['args'])).toEqual(['probe-wasi']);
  });
  it('REDPANDA_INPUT_TOPIC, REDPANDA_OUTPUT_TOPIC_<i> in declared order, then user variables (§9)', async () => {
    expect(await run(host, ['env'])).toEqual([
      'REDPANDA_INPUT_TOPIC=cdc.in\nREDPANDA_OUTPUT_TOPIC_0=clean.out\nREDPANDA_OUTPUT_TOPIC_1=dlq.transform\nREGION=eu-west\nEMPTYISH= ',
    ]);
  });
});

describe('§9 user variables are validated like a deploy', () => {
  const bad: Array<[string, Record<string, string>]> = [
    ['reserved prefix', { REDPANDA_X: '1' }],
    ['= in key', { 'A=B': '1' }],
    ['empty value', { A: '' }],
    ['value over 2 KiB', { A: 'x'.repeat(2049) }],
    ['control character', { 'A\nB': '1' }],
    ['too many', Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`K${i}`, 'v']))],
  ];
  it.each(bad)('refuses %s', async (_label, env) => {
    await expect(startProbe({ env })).rejects.toSatisfy(
      (e: unknown) => isFerryWasmError(e) && e.code === 'FERRY_WASM_CONFIG',
    );
  });
  it('refuses 0 or more than 8 output topics, and duplicates', async () => {
    for (const outputTopics of [[], ['a', 'a'], Array.from({ length: 9 }, (_, i) => `t${i}`)]) {
      await expect(startProbe({ outputTopics })).rejects.toMatchObject({ code: 'FERRY_WASM_CONFIG' });
    }
  });
});

describe('§8 clocks', () => {
  it('REALTIME = current record timestamp; MONOTONIC/PROCESS/THREAD = one counter +1 ms per call; others INVAL', async () => {
    const [line] = await run(host, ['nothing', 'clock'], 0n);
    const now = `${BigInt(BASE_TS + 1) * 1_000_000n}`;
    const m = /^0:0:(\d+) 1:0:(\d+) 2:0:(\d+) 3:0:(\d+) 4:16:- mono2:(\d+) res:0:1000000 res9:16$/.exec(
      line!,
    );
    expect(m).not.toBeNull();
    expect(m![1]).toBe(now);
    const [a, b, c, d] = [m![2]!, m![3]!, m![4]!, m![5]!].map((x) => BigInt(x)) as [
      bigint,
      bigint,
      bigint,
      bigint,
    ];
    expect([b - a, c - b, d - c]).toEqual([1_000_000n, 1_000_000n, 1_000_000n]);
  });
});

describe('§8 random, logs, poll, the rest', () => {
  it('random_get fills with 9s (deterministic)', async () => {
    expect(await run(host, ['random'])).toEqual(['0909090909090909']);
  });
  it('fd_write: fd 1 -> info, fd 2 -> warn, other fds NOSYS; nwritten = bytes', async () => {
    logs.length = 0;
    expect(await run(host, ['log'])).toEqual(['0 0 52 11']);
    expect(logs).toEqual([
      ['info', 'hello info\n'],
      ['warn', 'hello warn\n'],
    ]);
  });
  it('log messages are cut at data_transforms_logging_line_max_bytes (1 KiB)', async () => {
    logs.length = 0;
    await run(host, ['biglog']);
    expect(logs).toEqual([['info', 'x'.repeat(1024)]]);
  });
  it('poll_oneoff: clock subscriptions fire at once (no sleep), fd subscriptions NOSYS per event', async () => {
    expect(await run(host, ['poll'])).toEqual(['0 2 7:0 8:52']);
  });
  it('fd_prestat_get 0-2 NOSYS, others BADF; fd_read NOSYS; sched_yield SUCCESS', async () => {
    expect(await run(host, ['misc'])).toEqual(['52 8 52 0']);
  });
});

describe('§7 schema registry v0 without a registry', () => {
  it('answers -1 (not enabled)', async () => {
    expect(await run(host, ['sr'])).toEqual(['-1']);
  });
});
