import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import { createSystemClock } from './clock.ts';
import type { DeadLetterReason, DlqReader, SinkRequest, SourceRecord } from './contracts.ts';
import { deadLetterHeaders, parseDeadLetter } from './dlq-headers.ts';
import { createRelay, type Relay } from './relay.ts';
import { replayDeadLetters } from './replay.ts';

const relays: Relay[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop({ deadlineMs: 100 });
});

const reason: DeadLetterReason = {
  stage: 'deliver',
  code: 'FERRY_SINK_REJECTED',
  message: 'HTTP 400',
  sink: 'api',
  attempts: 1,
  firstFailureAt: 1_700_000_000_000,
  lastFailureAt: 1_700_000_000_000,
};

/** The source record and the pointer the DLQ holds for it (a 12-byte prefix of the value). */
function pointerFor(original: SourceRecord): SourceRecord {
  const value = original.value as Uint8Array;
  return {
    topic: 'dlq.relay',
    partition: 0,
    offset: 0n,
    key: original.key,
    value: value.subarray(0, 12),
    headers: deadLetterHeaders(original, reason, {
      originalSize: value.byteLength,
      sha256: createHash('sha256').update(value).digest('hex'),
      truncated: false,
    }),
    timestamp: 0,
  };
}

function setup() {
  const api = createScriptedSender();
  const relay = createRelay({
    config: testConfig({ routes: [{ topics: 'orders', sinks: [testSink('api')] }] }).relay,
    source: createMemorySource(),
    senders: { api },
    dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
    dlq: createMemoryDlq(),
    metrics: createRegistry(),
    instanceId: 'i1',
  });
  relays.push(relay);
  return { api, relay };
}

const sourceRecord: SourceRecord = {
  topic: 'orders',
  partition: 2,
  offset: 41n,
  key: text('k1'),
  value: json({ id: 7, key: 'k1', note: 'x'.repeat(100) }),
  headers: [{ key: 'ferry-event-id', value: text('ev-7') }],
  timestamp: 0,
};

async function replayPointer(found: SourceRecord | undefined, withOriginal = true) {
  const { api, relay } = setup();
  await relay.start();
  const reader: DlqReader = {
    async *read() {
      yield pointerFor(sourceRecord);
    },
    ...(withOriginal ? { original: async () => found } : {}),
    async close() {},
  };
  const report = await replayDeadLetters({
    reader,
    relay,
    clock: createSystemClock(),
    filter: { sink: 'api' },
  });
  return { report, requests: api.requests };
}

const body = (r: SinkRequest | undefined) =>
  typeof r?.body === 'string' ? r.body : new TextDecoder().decode(r?.body as Uint8Array);

describe('replay of pointer records', () => {
  it('parseDeadLetter marks a pointer and keeps its size and hash', () => {
    const dead = parseDeadLetter(pointerFor(sourceRecord));
    expect(dead?.pointer).toEqual({
      originalSize: sourceRecord.value?.byteLength,
      sha256: createHash('sha256')
        .update(sourceRecord.value as Uint8Array)
        .digest('hex'),
      truncated: false,
    });
    expect(dead?.original).toMatchObject({ topic: 'orders', partition: 2, offset: 41n });
    expect(
      parseDeadLetter({ ...pointerFor(sourceRecord), headers: deadLetterHeaders(sourceRecord, reason) })
        ?.pointer,
    ).toBeUndefined();
  });

  it('sends the original read back from the source, not the prefix', async () => {
    const { report, requests } = await replayPointer(sourceRecord);
    expect(report).toMatchObject({ matched: 1, sent: 1, missing: 0, outcomes: { delivered: 1 } });
    expect(report.items[0]).toMatchObject({ pointer: true, outcome: 'delivered' });
    expect(requests).toHaveLength(1);
    expect(body(requests[0])).toBe(new TextDecoder().decode(sourceRecord.value as Uint8Array));
  });

  it('reports missing when the source no longer has the record', async () => {
    const { report, requests } = await replayPointer(undefined);
    expect(report).toMatchObject({ matched: 1, sent: 0, missing: 1, outcomes: { missing: 1 } });
    expect(report.items[0]?.missing).toContain('orders/2@41 is no longer in the source');
    expect(requests).toHaveLength(0);
  });

  it('reports missing when the source holds other bytes at that offset (hash mismatch)', async () => {
    const other = { ...sourceRecord, value: json({ id: 8, key: 'k1', note: 'y'.repeat(100) }) };
    const { report, requests } = await replayPointer(other);
    expect(report).toMatchObject({ missing: 1, outcomes: { missing: 1 } });
    expect(report.items[0]?.missing).toContain('differs');
    expect(requests).toHaveLength(0);
  });

  it('reports missing when the reader cannot read source topics', async () => {
    const { report } = await replayPointer(sourceRecord, false);
    expect(report).toMatchObject({ missing: 1, outcomes: { missing: 1 } });
  });

  it('a dry run marks pointers and reads nothing', async () => {
    const { relay } = setup();
    await relay.start();
    let reads = 0;
    const reader: DlqReader = {
      async *read() {
        yield pointerFor(sourceRecord);
      },
      original: async () => {
        reads++;
        return sourceRecord;
      },
      async close() {},
    };
    const report = await replayDeadLetters({
      reader,
      relay,
      clock: createSystemClock(),
      filter: { sink: 'api', dryRun: true },
    });
    expect(report).toMatchObject({ dryRun: true, matched: 1, sent: 0, missing: 0 });
    expect(report.items[0]?.pointer).toBe(true);
    expect(reads).toBe(0);
  });
});
