// A lane whose module fails at start-up (docs/abi.md §11): the lane starts it again after the broker's
// backoff, never sooner, for as long as it takes, and does not stop the runner. The module is the probe
// guest (test/support/guests/probe.as) started with PROBE_START=exit, so its _start calls proc_exit
// before it takes a batch: a real trap at start-up. The backoff runs on a fake clock.
import { describe, expect, it } from 'vitest';
import { startProbe } from '../../test/support/probe-host.ts';
import { waitUntil } from '../../test/support/wait.ts';
import type { OutputRecord, TransformHost } from '../host/types.ts';
import { createPartitionLane, type LaneClock } from './partition.ts';

interface Sleep {
  ms: number;
  until: number;
  resolve(): void;
}

function fakeClock() {
  let now = 0;
  const sleeps: Sleep[] = [];
  const clock: LaneClock = {
    now: () => now,
    sleep(ms, wake) {
      return new Promise((resolve) => {
        sleeps.push({ ms, until: now + ms, resolve });
        wake.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
  return {
    clock,
    sleeps,
    advance(ms: number) {
      now += ms;
      for (const s of sleeps) if (s.until <= now) s.resolve();
    },
  };
}

/** Lets pending promise callbacks and worker messages run (no timer involved). */
const settle = () => new Promise((r) => setImmediate(r));

function startupLane(failures: number, { slowSecondStart = 0 } = {}) {
  const time = fakeClock();
  const produced: string[] = [];
  const events: string[] = [];
  const traps: Error[] = [];
  const fatal: unknown[] = [];
  const hosts: TransformHost[] = [];
  let calls = 0;
  const lane = createPartitionLane({
    topic: 'cdc.in',
    partition: 0,
    maxBatchRecords: 10,
    clock: time.clock,
    async createHost() {
      calls++;
      if (calls === 2 && slowSecondStart > 0) time.advance(slowSecondStart);
      const host = await startProbe(calls <= failures ? { env: { PROBE_START: 'exit' } } : {});
      hosts.push(host);
      return host;
    },
    async produce(outputs: OutputRecord[]) {
      for (const o of outputs) produced.push(new TextDecoder().decode(o.value ?? new Uint8Array()));
    },
    async commit() {},
    onBatch() {},
    onTrap: (e) => traps.push(e),
    onEvent: (line) => events.push(line),
    onFatal: (e) => fatal.push(e),
  });
  return { lane, time, produced, events, traps, fatal, hosts, calls: () => calls };
}

const message = (i: number) => ({
  key: null,
  value: Buffer.from(`echo ${i}`),
  headerEntries: [],
  offset: BigInt(i),
  timestamp: 1_700_000_000_000n + BigInt(i),
});

describe('partition lane: a module that fails at start-up', () => {
  it('is started again after 1, 2, 4 s (never sooner) and then transforms; nothing is fatal', async () => {
    const t = startupLane(3);
    try {
      t.lane.push(message(0));
      for (const [i, delay] of [1000, 2000, 4000].entries()) {
        await waitUntil(() => t.time.sleeps.length === i + 1, { timeoutMs: 60_000, intervalMs: 20 });
        expect(t.time.sleeps[i]!.ms).toBe(delay);
        expect(t.calls()).toBe(i + 1);
        t.time.advance(delay - 1);
        for (let k = 0; k < 5; k++) await settle();
        expect(t.calls()).toBe(i + 1); // one millisecond early: no new host yet
        t.time.advance(1);
      }
      await waitUntil(() => t.produced.length === 1, { timeoutMs: 60_000, intervalMs: 20 });
      expect(t.produced).toEqual(['echo 0']);
      expect(t.calls()).toBe(4);
      expect(t.traps.map((e) => (e as { kind?: string }).kind)).toEqual([
        'proc_exit',
        'proc_exit',
        'proc_exit',
      ]);
      expect(t.events.filter((e) => e.includes('failed at start-up'))).toEqual([
        'partition cdc.in/0: the transform failed at start-up; starting it again in 1000 ms',
        'partition cdc.in/0: the transform failed at start-up; starting it again in 2000 ms',
        'partition cdc.in/0: the transform failed at start-up; starting it again in 4000 ms',
      ]);
      expect(t.fatal).toEqual([]);
    } finally {
      await t.lane.stop();
    }
  }, 180_000);

  it('starts over at 1 s when a start attempt lasted more than 10 s', async () => {
    const t = startupLane(2, { slowSecondStart: 10_001 });
    try {
      t.lane.push(message(0));
      await waitUntil(() => t.time.sleeps.length === 1, { timeoutMs: 60_000, intervalMs: 20 });
      t.time.advance(t.time.sleeps[0]!.ms);
      await waitUntil(() => t.time.sleeps.length === 2, { timeoutMs: 60_000, intervalMs: 20 });
      t.time.advance(t.time.sleeps[1]!.ms);
      await waitUntil(() => t.produced.length === 1, { timeoutMs: 60_000, intervalMs: 20 });
      // without the reset the second wait would be 2000 ms
      expect(t.time.sleeps.map((s) => s.ms)).toEqual([1000, 1000]);
      expect(t.fatal).toEqual([]);
    } finally {
      await t.lane.stop();
    }
  }, 180_000);

  it('stop() ends the wait at once and starts no host after it', async () => {
    const t = startupLane(1);
    t.lane.push(message(0));
    await waitUntil(() => t.time.sleeps.length === 1, { timeoutMs: 60_000, intervalMs: 20 });
    await t.lane.stop();
    expect(t.calls()).toBe(1);
    expect(t.hosts).toEqual([]);
    expect(t.fatal).toEqual([]);
  }, 120_000);
});
