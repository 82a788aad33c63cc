// The forwarder's batching, retry and commit rules, on the in-memory source and a scripted push client,
// with a manual clock: time moves only when the test advances it, so every wait is asserted exactly.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../core/contracts.ts';
import { FerryError } from '../core/errors.ts';
import { waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json } from '../testing/memory-source.ts';
import { createForwarder, type ForwarderOptions } from './forwarder.ts';
import type { PushAnswer } from './push-answer.ts';
import type { PushBatch } from './push-batch.ts';
import type { PushClient } from './push-client.ts';

function manualClock(): Clock & { advance(ms: number): void; sleepers(): number[] } {
  let now = 0;
  const timers = new Set<{ at: number; resolve: () => void }>();
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = { at: now + ms, resolve };
        timers.add(timer);
        signal?.addEventListener(
          'abort',
          () => {
            timers.delete(timer);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
    advance(ms) {
      now += ms;
      for (const t of [...timers]) {
        if (t.at <= now) {
          timers.delete(t);
          t.resolve();
        }
      }
    },
    sleepers: () => [...timers].map((t) => t.at - now).sort((a, b) => a - b),
  };
}

interface Call {
  readonly batch: PushBatch;
  readonly offsets: number[];
  readonly at: number;
  readonly signal: AbortSignal | undefined;
}

/** A push client that answers from a script; `hold` keeps answers back until released. */
function scriptedClient(clock: Clock, answer: (call: Call, n: number) => PushAnswer | Promise<PushAnswer>) {
  const calls: Call[] = [];
  let inFlight = new Map<string, number>();
  let maxPerPartition = 0;
  let maxTotal = 0;
  const client: PushClient = {
    async push(batch, signal) {
      const offsets = (
        JSON.parse(new TextDecoder().decode(batch.body)) as { records: Array<{ offset: string }> }
      ).records.map((r) => Number(r.offset));
      const call = { batch, offsets, at: clock.now(), signal };
      calls.push(call);
      const key = `${batch.topic}/${batch.partition}`;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      maxPerPartition = Math.max(maxPerPartition, ...inFlight.values());
      maxTotal = Math.max(
        maxTotal,
        [...inFlight.values()].reduce((a, b) => a + b, 0),
      );
      try {
        // Like the real client: an aborted push ends at once, as a retry nobody will make.
        const aborted = new Promise<PushAnswer>((resolve) => {
          if (signal?.aborted) resolve({ kind: 'retry', reason: 'abandoned' });
          signal?.addEventListener('abort', () => resolve({ kind: 'retry', reason: 'abandoned' }), {
            once: true,
          });
        });
        return await Promise.race([answer(call, calls.length), aborted]);
      } finally {
        inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      }
    },
  };
  return {
    client,
    calls,
    maxPerPartition: () => maxPerPartition,
    maxTotal: () => maxTotal,
    reset: () => {
      inFlight = new Map();
    },
  };
}

const committed: PushAnswer = { kind: 'committed', alreadyDone: 0 };
const records = (n: number) => Array.from({ length: n }, (_, i) => ({ value: json({ i }) }));

function setup(
  answer: (call: Call, n: number) => PushAnswer | Promise<PushAnswer>,
  options: Partial<ForwarderOptions> = {},
) {
  const clock = manualClock();
  const source = createMemorySource({ batchSize: 1000 });
  const scripted = scriptedClient(clock, answer);
  const forwarder = createForwarder({
    source,
    client: scripted.client,
    clock,
    batchSize: 3,
    lingerMs: 100,
    random: () => 0.5,
    ...options,
  });
  return { clock, source, forwarder, ...scripted };
}

/** A promise the test resolves later, for answers held back. */
function deferred<T>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('push forwarder: batching and the commit rule', () => {
  it('sends full batches at once, the rest after the linger time, and commits each only after 200 committed', async () => {
    const { clock, source, forwarder, calls } = setup(() => committed);
    source.produce('orders', 0, records(5));
    await forwarder.start();
    await waitUntil(() => calls.length === 1, 2000, 'the full batch');
    expect(calls[0]?.offsets).toEqual([0, 1, 2]);
    await waitUntil(() => source.commits.length === 1, 2000, 'its commit');
    expect(source.commits[0]?.offset).toBe(3n);
    // Two records wait for the linger time, not a moment less.
    await waitUntil(() => clock.sleepers().includes(100), 2000, 'the linger timer');
    clock.advance(99);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await waitUntil(() => source.commits.length === 2, 2000, 'the second commit');
    expect(calls[1]?.offsets).toEqual([3, 4]);
    expect(calls[1]?.at).toBe(100);
    expect(source.commits.map((c) => c.offset)).toEqual([3n, 5n]);
    expect(forwarder.stats()).toMatchObject({ pushedRecords: 5, committedRecords: 5, committedBatches: 2 });
    await forwarder.stop();
  });

  it('keeps a batch within maxBytes, one record at least', async () => {
    const { source, forwarder, calls } = setup(() => committed, {
      batchSize: 100,
      maxBytes: 250,
      lingerMs: 0,
    });
    source.produce('orders', 0, [{ value: json({ pad: 'x'.repeat(400) }) }, ...records(6)]);
    await forwarder.start();
    await waitUntil(() => source.committed.get('orders/0') === 7n, 2000, 'everything committed');
    expect(calls[0]?.offsets).toEqual([0]);
    for (const c of calls) expect(c.batch.body.length <= 250 || c.offsets.length === 1).toBe(true);
    await forwarder.stop();
  });

  it('keeps one batch in flight per partition, and partitions in flight side by side', async () => {
    const held: Array<() => void> = [];
    const { source, forwarder, calls, maxPerPartition, maxTotal } = setup(
      () =>
        new Promise<PushAnswer>((resolve) => {
          held.push(() => resolve(committed));
        }),
      { lingerMs: 0 },
    );
    source.produce('orders', 0, records(9));
    source.produce('orders', 1, records(9));
    await forwarder.start();
    for (let round = 0; round < 3; round++) {
      await waitUntil(() => held.length === 2, 2000, `two batches in flight (round ${round})`);
      for (const release of held.splice(0)) release();
    }
    await waitUntil(() => source.committed.get('orders/0') === 9n && source.committed.get('orders/1') === 9n);
    expect(maxPerPartition()).toBe(1);
    expect(maxTotal()).toBe(2);
    // In log order per partition.
    const p0 = calls.filter((c) => c.batch.partition === 0).flatMap((c) => c.offsets);
    expect(p0).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    await forwarder.stop();
  });

  it('pauses a partition whose lane is full and resumes it once a batch is taken', async () => {
    const gate = deferred<PushAnswer>();
    const { source, forwarder } = setup(() => gate.promise, { maxBufferedRecords: 6, lingerMs: 0 });
    source.produce('orders', 0, records(20));
    await forwarder.start();
    await waitUntil(() => source.isPaused({ topic: 'orders', partition: 0 }), 2000, 'the pause');
    gate.resolve(committed);
    await waitUntil(() => source.committed.get('orders/0') === 20n, 2000, 'everything committed');
    expect(source.resumeEvents).toBeGreaterThan(0);
    await forwarder.stop();
  });
});

describe('push forwarder: retries', () => {
  it('pushes the same bytes again: at once after 202, after backoff with jitter after 503 and network errors', async () => {
    const script: PushAnswer[] = [
      { kind: 'retry', reason: '503 stopped' },
      { kind: 'retry', reason: 'network: ECONNREFUSED' },
      { kind: 'again' },
      committed,
    ];
    const { clock, source, forwarder, calls } = setup((_c, n) => script[n - 1] ?? committed, { lingerMs: 0 });
    source.produce('orders', 0, records(3));
    await forwarder.start();
    await waitUntil(() => calls.length === 1, 2000, 'the first push');
    // random() = 0.5: half of 200 ms, then half of 400 ms.
    await waitUntil(() => clock.sleepers()[0] === 100, 2000, 'the first backoff');
    expect(source.commits).toHaveLength(0);
    clock.advance(100);
    await waitUntil(() => calls.length === 2, 2000, 'the second push');
    await waitUntil(() => clock.sleepers()[0] === 200, 2000, 'the second backoff');
    clock.advance(200);
    // 202: again at once, no time passes; then 200 committed.
    await waitUntil(() => source.commits.length === 1, 2000, 'the commit');
    expect(calls.map((c) => c.at)).toEqual([0, 100, 300, 300]);
    expect(new Set(calls.map((c) => new TextDecoder().decode(c.batch.body))).size).toBe(1);
    expect(new Set(calls.map((c) => c.batch.id))).toEqual(new Set(['orders/0/0-2']));
    expect(forwarder.stats()).toMatchObject({
      retries: 2,
      repushes: 1,
      pushedBatches: 1,
      committedBatches: 1,
    });
    expect(forwarder.stats().lastRetryReason).toBe('network: ECONNREFUSED');
    await forwarder.stop();
  });

  it('honours Retry-After on 429, and caps the exponential backoff', async () => {
    const script: PushAnswer[] = [
      { kind: 'retry', reason: '429 too many pushes', retryAfterMs: 5000 },
      ...Array.from({ length: 8 }, () => ({ kind: 'retry', reason: '500' }) as const),
    ];
    const { clock, source, forwarder, calls } = setup((_c, n) => script[n - 1] ?? committed, {
      lingerMs: 0,
      backoffCapMs: 1000,
      random: () => 0.999,
    });
    source.produce('orders', 0, records(3));
    await forwarder.start();
    await waitUntil(() => clock.sleepers()[0] === 5000, 2000, 'the Retry-After wait');
    clock.advance(4999);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toHaveLength(1);
    clock.advance(1);
    const waits: number[] = [];
    while (source.commits.length === 0) {
      await waitUntil(() => clock.sleepers().length > 0 || source.commits.length > 0, 2000, 'a backoff');
      const next = clock.sleepers()[0];
      if (next === undefined) break;
      waits.push(next);
      clock.advance(next);
    }
    await waitUntil(() => source.commits.length === 1, 2000, 'the commit');
    // The 429 was attempt 1; the 500s go on from attempt 2, up to the cap.
    expect(waits).toEqual([399, 799, 999, 999, 999, 999, 999, 999]);
    await forwarder.stop();
  });

  it('stops for good on a refused batch: failed resolves, nothing of it is committed, other lanes are abandoned', async () => {
    const stuck = deferred<PushAnswer>();
    const conflict = new FerryError('FERRY_PUSH_REFUSED', 'the relay refused the batch as a conflict (409)', {
      status: 409,
    });
    const { source, forwarder, calls } = setup(
      (call) => (call.batch.partition === 0 ? { kind: 'fatal', error: conflict } : stuck.promise),
      { lingerMs: 0 },
    );
    source.produce('orders', 1, records(3));
    source.produce('orders', 0, records(3));
    await forwarder.start();
    const error = await forwarder.failed;
    expect(error).toMatchObject({ code: 'FERRY_PUSH_REFUSED', status: 409, retryable: false });
    // The other partition's push was abandoned: its signal aborted, and even a late 200 commits nothing.
    await waitUntil(() => calls.some((c) => c.batch.partition === 1 && c.signal?.aborted === true));
    stuck.resolve(committed);
    await forwarder.stop();
    expect(source.commits).toHaveLength(0);
    source.produce('orders', 0, records(3));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toHaveLength(2);
  });
});

describe('push forwarder: stop and revocation', () => {
  it('on stop, commits a push the relay commits within the grace period and abandons one that does not answer', async () => {
    const p0 = deferred<PushAnswer>();
    const { clock, source, forwarder, calls } = setup(
      (call) => (call.batch.partition === 0 ? p0.promise : new Promise<PushAnswer>(() => {})),
      { lingerMs: 0 },
    );
    source.produce('orders', 0, records(3));
    source.produce('orders', 1, records(3));
    await forwarder.start();
    await waitUntil(() => calls.length === 2, 2000, 'both pushes on the wire');
    const stopped = forwarder.stop({ graceMs: 5000 });
    p0.resolve(committed);
    await waitUntil(() => source.commits.length === 1, 2000, 'the commit within the grace period');
    await waitUntil(() => clock.sleepers().includes(5000), 2000, 'the grace timer');
    clock.advance(5000);
    await stopped;
    expect(source.commits).toEqual([{ topic: 'orders', partition: 0, offset: 3n }]);
    expect(calls.find((c) => c.batch.partition === 1)?.signal?.aborted).toBe(true);
    expect(source.isConnected()).toBe(false);
  });

  it('starts no new attempt after stop: a batch waiting to retry is abandoned at once', async () => {
    const { clock, source, forwarder, calls } = setup(() => ({ kind: 'retry', reason: '503' }), {
      lingerMs: 0,
    });
    source.produce('orders', 0, records(3));
    await forwarder.start();
    await waitUntil(() => clock.sleepers().length === 1, 2000, 'the backoff');
    await forwarder.stop({ graceMs: 60_000 });
    expect(calls).toHaveLength(1);
    expect(source.commits).toHaveLength(0);
  });

  it('abandons a revoked partition at once, and the next owner pushes from the committed offset', async () => {
    let hold = true;
    const { source, forwarder, calls } = setup(() => (hold ? new Promise<PushAnswer>(() => {}) : committed), {
      lingerMs: 0,
    });
    source.produce('orders', 0, records(6));
    await forwarder.start();
    await waitUntil(() => calls.length === 1, 2000, 'the first push');
    hold = false;
    await source.revoke([{ topic: 'orders', partition: 0 }]);
    expect(calls[0]?.signal?.aborted).toBe(true);
    // The partition comes back (to this forwarder, as the next owner): fed from the committed offset (none: 0).
    source.produce('orders', 0, []);
    await waitUntil(() => source.committed.get('orders/0') === 6n, 2000, 'everything committed');
    expect(calls.slice(1).flatMap((c) => c.offsets)).toEqual([0, 1, 2, 3, 4, 5]);
    await forwarder.stop();
  });
});
