import { describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import type { Clock, DeadLetterReason, Logger, SourceRecord } from './contracts.ts';
import { createDeadLetterer, DLQ_BLOCKED_PROBE_MS, DLQ_LOG_INTERVAL_MS, DlqWriteError } from './dlq-write.ts';
import { createRelay } from './relay.ts';

/**
 * A clock whose sleeps take one macrotask each and then advance virtual time by their length: hours
 * of retrying pass in milliseconds, without starving the event loop.
 */
function fastClock(): Clock & { advanced: () => number } {
  let now = 0;
  return {
    now: () => now,
    advanced: () => now,
    sleep(ms, signal) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          now += ms;
          resolve();
        }, 0);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Readonly<Record<string, unknown>> }> = [];
  const logger: Logger = {
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
  return { lines, logger };
}

const refused = () => new DlqWriteError('dead-letter pointer write refused', 'authorization', true);

describe('a DLQ that refuses a record for a permanent reason', () => {
  it('holds the record (no commit past it, not ready, counted) without flooding the log, and lets go once the DLQ takes it', async () => {
    const clock = fastClock();
    const { lines, logger } = recordingLogger();
    const source = createMemorySource();
    const dlq = createMemoryDlq();
    dlq.failWith = refused();
    const metrics = createRegistry();
    const relay = createRelay({
      config: testConfig({ routes: [{ topics: 'orders', sinks: [testSink('api')] }] }).relay,
      source,
      senders: { api: createScriptedSender() },
      dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
      dlq,
      metrics,
      clock,
      logger,
      instanceId: 'i1',
    });
    source.produce('orders', 0, [
      { key: text('a'), value: text('{not json') },
      { key: text('b'), value: json({ id: 1 }) },
    ]);
    await relay.start();
    try {
      // Half an hour of a refusing DLQ.
      await waitUntil(() => clock.advanced() > 1800_000, 10_000, 'half a virtual hour');
      const failures = lines.filter((l) => l.message === 'DLQ write failed, retrying');
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.length).toBeLessThanOrEqual(1 + clock.advanced() / DLQ_LOG_INTERVAL_MS);
      expect(failures.at(-1)?.fields).toMatchObject({ reason: 'authorization', permanent: true });
      expect(failures.at(-1)?.fields?.suppressed).toBeGreaterThan(0);
      expect(source.committed.get('orders/0') ?? 0n).toBe(0n);
      expect(await relay.readiness()).toMatchObject({ ready: false, dlq: false });
      expect(metrics.value('ferry_dlq_blocked_records', {})).toBe(1);
      const permanent = metrics.value('ferry_dlq_write_failures_total', {
        reason: 'authorization',
        class: 'permanent',
      });
      // Probed again every DLQ_BLOCKED_PROBE_MS, not in a tight loop.
      expect(permanent).toBeGreaterThan(1);
      expect(permanent).toBeLessThanOrEqual(1 + clock.advanced() / DLQ_BLOCKED_PROBE_MS);

      dlq.failWith = undefined; // the operator fixed the ACL
      await waitUntil(() => source.committed.get('orders/0') === 2n, 10_000, 'commit past it');
      expect(dlq.records).toHaveLength(1);
      expect(await relay.readiness()).toMatchObject({ dlq: true });
      expect(metrics.value('ferry_dlq_blocked_records', {})).toBe(0);
      expect(
        metrics.value('ferry_dlq_writes_total', {
          sink: '*',
          code: 'FERRY_RECORD_UNPARSEABLE',
          kind: 'full',
        }),
      ).toBe(1);
    } finally {
      await relay.stop({ deadlineMs: 100 });
    }
  });
});

describe('createDeadLetterer', () => {
  const record: SourceRecord = {
    topic: 't',
    partition: 0,
    offset: 5n,
    key: null,
    value: text('x'),
    headers: [],
    timestamp: 0,
  };
  const reason: DeadLetterReason = {
    stage: 'deliver',
    code: 'FERRY_SINK_REJECTED',
    message: 'HTTP 400',
    sink: 's',
    attempts: 1,
    firstFailureAt: 0,
    lastFailureAt: 0,
  };

  it('retries a retryable failure with capped exponential backoff until acknowledged', async () => {
    const clock = fastClock();
    const slept: number[] = [];
    const sleep = clock.sleep;
    clock.sleep = (ms, signal) => {
      slept.push(ms);
      return sleep(ms, signal);
    };
    const dlq = createMemoryDlq();
    dlq.failNext = 8;
    const metrics = createRegistry();
    const writer = createDeadLetterer({ dlq, metrics, clock, logger: recordingLogger().logger });
    const kind = await writer.write(record, reason, () => true, new AbortController().signal);
    expect(kind).toBe('full');
    expect(slept).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(metrics.value('ferry_dlq_write_failures_total', { reason: 'unknown', class: 'retryable' })).toBe(
      8,
    );
    expect(
      metrics.value('ferry_dlq_writes_total', { sink: 's', code: 'FERRY_SINK_REJECTED', kind: 'full' }),
    ).toBe(1);
    expect(writer.blocked()).toBe(0);
  });

  it('stops retrying, and stops holding, when the record is no longer current or the relay stops', async () => {
    const clock = fastClock();
    const dlq = createMemoryDlq();
    dlq.failWith = refused();
    const metrics = createRegistry();
    const writer = createDeadLetterer({ dlq, metrics, clock, logger: recordingLogger().logger });
    let current = true;
    const revoked = writer.write(record, reason, () => current, new AbortController().signal);
    const stopper = new AbortController();
    const stopped = writer.write(record, reason, () => true, stopper.signal);
    await waitUntil(() => writer.blocked() === 2, 5000, 'both held');
    expect(metrics.value('ferry_dlq_blocked_records', {})).toBe(2);
    current = false;
    stopper.abort();
    expect(await revoked).toBeUndefined();
    expect(await stopped).toBeUndefined();
    expect(writer.blocked()).toBe(0);
    expect(metrics.value('ferry_dlq_blocked_records', {})).toBe(0);
    expect(dlq.records).toHaveLength(0);
  });
});

describe('a held record on a revoked partition', () => {
  it('is let go within a second of the revoke, not at the next 30 s probe', async () => {
    const slept: number[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (ms, signal) => {
        slept.push(ms);
        return new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 1);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        });
      },
    };
    const dlq = createMemoryDlq();
    dlq.failWith = new DlqWriteError('refused', 'authorization', true);
    const writer = createDeadLetterer({
      dlq,
      metrics: createRegistry(),
      clock,
      logger: recordingLogger().logger,
    });
    let current = true;
    const record: SourceRecord = {
      topic: 't',
      partition: 0,
      offset: 1n,
      key: null,
      value: null,
      headers: [],
      timestamp: 0,
    };
    const held = writer.write(
      record,
      {
        stage: 'parse',
        code: 'FERRY_RECORD_UNPARSEABLE',
        message: 'x',
        sink: '*',
        attempts: 0,
        firstFailureAt: 0,
        lastFailureAt: 0,
      },
      () => current,
      new AbortController().signal,
    );
    await waitUntil(() => slept.length >= 3, 5000, 'holding');
    current = false;
    expect(await held).toBeUndefined();
    expect(Math.max(...slept)).toBeLessThanOrEqual(1000);
    expect(writer.blocked()).toBe(0);
  });
});
