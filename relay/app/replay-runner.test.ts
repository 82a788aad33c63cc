import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createSystemClock } from '../core/clock.ts';
import type { DlqReader, SourceRecord } from '../core/contracts.ts';
import { deadLetterHeaders } from '../core/dlq-headers.ts';
import { createRelay, type Relay } from '../core/relay.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import { createReplayRunner } from './replay-runner.ts';

const relays: Relay[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop({ deadlineMs: 100 });
});

function deadLetter(offset: number): SourceRecord {
  const original: SourceRecord = {
    topic: 'orders',
    partition: 0,
    offset: BigInt(offset),
    key: text(`k${offset}`),
    value: json({ id: offset }),
    headers: [],
    timestamp: 0,
  };
  const reason = {
    stage: 'deliver' as const,
    code: 'FERRY_SINK_REJECTED',
    message: 'HTTP 400',
    sink: 'api',
    attempts: 1,
    firstFailureAt: 1,
    lastFailureAt: 1,
  };
  return { ...original, topic: 'dlq.relay', headers: deadLetterHeaders(original, reason) };
}

async function setup(reader: DlqReader) {
  const relay = createRelay({
    config: testConfig({ routes: [{ topics: 'orders', sinks: [testSink('api')] }] }).relay,
    source: createMemorySource(),
    senders: { api: createScriptedSender() },
    dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
    dlq: createMemoryDlq(),
    metrics: createRegistry(),
    instanceId: 'i1',
  });
  relays.push(relay);
  await relay.start();
  const errors: string[] = [];
  const runner = createReplayRunner({
    reader,
    relay,
    clock: createSystemClock(),
    perSecond: 1000,
    logger: { info() {}, warn() {}, error: (m) => errors.push(m) },
  });
  return { runner, errors };
}

describe('replay runner', () => {
  it('runs one replay at a time and reports progress until the report', async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const reader: DlqReader = {
      async *read() {
        yield deadLetter(1);
        await gate;
        yield deadLetter(2);
      },
      async close() {},
    };
    const { runner } = await setup(reader);
    expect(runner.last()).toBeUndefined();
    const job = runner.start({ sink: 'api' });
    expect(job).toMatchObject({ sink: 'api', dryRun: false, running: true });
    await waitUntil(() => runner.last()?.progress.matched === 1, 2000, 'first record matched');
    expect(runner.start({ sink: 'api' })).toBe('busy');
    expect(await runner.run({ sink: 'api', dryRun: true })).toBe('busy');
    release();
    await waitUntil(() => runner.last()?.running === false, 2000, 'replay done');
    expect(runner.last()).toMatchObject({
      running: false,
      progress: { matched: 2, sent: 2, outcomes: { delivered: 2 } },
      report: { matched: 2, sent: 2 },
    });
    // Free again once it is done.
    expect(await runner.run({ sink: 'api', dryRun: true })).toMatchObject({ matched: 2, sent: 0 });
  });

  it('marks a replay whose reader fails as failed, logs it, and frees the slot', async () => {
    const reader: DlqReader = {
      // biome-ignore lint/correctness/useYield: a reader that fails before its first record
      async *read() {
        throw new Error('broker gone');
      },
      async close() {},
    };
    const { runner, errors } = await setup(reader);
    runner.start({ sink: 'api' });
    await waitUntil(() => runner.last()?.running === false, 2000, 'replay ended');
    expect(runner.last()).toMatchObject({ failed: true, running: false });
    expect(errors).toEqual(['DLQ replay failed']);
    expect(runner.start({ sink: 'api' })).not.toBe('busy');
  });
});
