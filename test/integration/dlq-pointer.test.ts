// A record that cannot be dead-lettered whole must never freeze its partition: on the real stack, a
// value that fits its source topic but not the DLQ topic once the ferry-error-* headers are added
// (and a 10 MB value on a topic allowing 20 MB) is written to the DLQ as a pointer record, the
// committed offset passes it, later records are delivered and nothing is written twice; a replay of
// a pointer reads the original back from the source topic and delivers its exact bytes, and reports
// it missing once the source no longer has it.
import { createHash, randomUUID } from 'node:crypto';
import { Admin, Producer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { createKafkaDlqReader } from '../../relay/adapters/dlq-reader.ts';
import { type DeadLetter, parseDeadLetter } from '../../relay/core/dlq-headers.ts';
import { setTopicLimit } from '../support/relay-kafka.ts';
import { lagIsZero, relayDocument, startTestRelay } from '../support/relay-run.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' };
/** Fits the broker's default 1 MiB limit by itself; with the DLQ headers it does not. */
const NEAR_LIMIT = 1_048_376;
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

async function produce(messages: Array<{ topic: string; key: string; value: Buffer; id: string }>) {
  const producer = new Producer({
    clientId: 'ferry-test-dlq-pointer',
    bootstrapBrokers: [KAFKA_BOOTSTRAP],
    idempotent: true,
    acks: -1,
  });
  try {
    // One send per record: the near-limit one must be a batch of its own to fit its topic.
    for (const m of messages)
      await producer.send({
        messages: [
          {
            topic: m.topic,
            key: Buffer.from(m.key),
            value: m.value,
            headers: new Map([[Buffer.from('ferry-event-id'), Buffer.from(m.id)]]),
          },
        ],
      });
  } finally {
    await producer.close();
  }
}

async function deadLetters(dlqTopic: string): Promise<Array<DeadLetter & { bytes: number }>> {
  const reader = createKafkaDlqReader({ brokers: [KAFKA_BOOTSTRAP], topic: dlqTopic });
  try {
    const out: Array<DeadLetter & { bytes: number }> = [];
    for await (const r of reader.read()) {
      const dead = parseDeadLetter(r);
      if (dead) out.push({ ...dead, bytes: r.value?.byteLength ?? 0 });
    }
    return out;
  } finally {
    await reader.close();
  }
}

const good = (run: string, i: number) => ({
  key: 'k1',
  value: Buffer.from(JSON.stringify({ key: 'k1', seq: i, run })),
  id: `${run}-${i}`,
});

describe('dead letters that do not fit the DLQ topic', () => {
  const bed = useRelayTestbed();

  async function oversizedRun(valueBytes: number, sourceLimit?: number) {
    const topic = await bed.topic('dlq-big-src', 1);
    const dlqTopic = await bed.topic('dlq-big', 1);
    if (sourceLimit !== undefined) await setTopicLimit(topic, sourceLimit);
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: ['sink'] });
    const big = Buffer.alloc(valueBytes, 0x7e); // '~' repeated: not JSON
    await produce([
      { topic, ...good(run, 0) },
      { topic, key: 'k2', value: big, id: `${run}-big` },
      ...Array.from({ length: 5 }, (_, i) => ({ topic, ...good(run, i + 1) })),
    ]);
    const document = relayDocument({
      groupId: `g-${topic}`,
      routes: [
        { topics: topic, sinks: [{ id: `s-${run}`, url: `${api.url}/sink`, dedupe: { store: 'redis' } }] },
      ],
    });
    (document.kafka as Record<string, unknown>).dlqTopic = dlqTopic;
    const relay = await startTestRelay(document, `big-${run}`);
    try {
      await waitUntil(() => lagIsZero(relay.runtime, topic, 1), {
        timeoutMs: 60_000,
        message: 'committed past the oversized record',
      });
      expect(api.report('sink').applied).toBe(6);
      expect(api.report('sink').duplicateApplications).toBe(0);
      const dead = await deadLetters(dlqTopic);
      expect(dead).toHaveLength(1); // nothing written twice
      const [pointer] = dead as [DeadLetter & { bytes: number }];
      expect(pointer.reason).toMatchObject({ stage: 'parse', code: 'FERRY_RECORD_UNPARSEABLE', sink: '*' });
      expect(pointer.original).toMatchObject({ topic, partition: 0, offset: 1n });
      expect(pointer.pointer).toEqual({ originalSize: valueBytes, sha256: sha256(big), truncated: false });
      // As much of the value as fits, and it is the original's prefix.
      expect(pointer.bytes).toBeGreaterThan(1_000_000);
      expect(pointer.bytes).toBeLessThan(Math.min(valueBytes, 1_048_588));
      expect(Buffer.from(pointer.original.value!).equals(big.subarray(0, pointer.bytes))).toBe(true);
      const m = relay.runtime.metrics;
      expect(
        m.value('ferry_dlq_writes_total', { sink: '*', code: 'FERRY_RECORD_UNPARSEABLE', kind: 'pointer' }),
      ).toBe(1);
      expect(relay.logs.filter((l) => l.message === 'DLQ write failed, retrying')).toEqual([]);
      expect((await relay.runtime.relay.readiness()).dlq).toBe(true);
    } finally {
      await relay.stop();
    }
  }

  it('a 1,048,376-byte non-JSON value on a default-limit topic becomes a pointer; the partition moves on', async () => {
    await oversizedRun(NEAR_LIMIT);
  });

  it('a 10 MB value on a topic allowing 20 MB becomes a pointer; the partition moves on', async () => {
    await oversizedRun(10 * 1024 * 1024, 20 * 1024 * 1024);
  });

  it('a replay of a pointer delivers the original bytes, and reports it missing once the source lost it', async () => {
    const topic = await bed.topic('dlq-replay-src', 1);
    const dlqTopic = await bed.topic('dlq-replay', 1);
    const run = randomUUID().slice(0, 8);
    const sinkId = `s-${run}`;
    const api = await bed.startApi({ endpoints: ['sink'] });
    api.setFaults('sink', { fixed: { status: 400, count: 1 } });
    const head = JSON.stringify({ key: 'k1', seq: 0, run, pad: '' }).slice(0, -2);
    const text = `${head}${'x'.repeat(NEAR_LIMIT - head.length - 2)}"}`;
    expect(text.length).toBe(NEAR_LIMIT);
    await produce([{ topic, key: 'k1', value: Buffer.from(text), id: `${run}-0` }]);
    const document = relayDocument({
      groupId: `g-${topic}`,
      routes: [
        { topics: topic, sinks: [{ id: sinkId, url: `${api.url}/sink`, dedupe: { store: 'redis' } }] },
      ],
    });
    (document.kafka as Record<string, unknown>).dlqTopic = dlqTopic;
    const relay = await startTestRelay(document, `replay-${run}`);
    const replay = async () => {
      const res = await relay.runtime.app.request('/v1/dlq/replay', {
        method: 'POST',
        headers: ADMIN,
        body: JSON.stringify({ sink: sinkId }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as {
        matched: number;
        missing: number;
        outcomes: Record<string, number>;
        items: Array<{ pointer?: boolean; outcome?: string; missing?: string }>;
      };
    };
    try {
      await waitUntil(() => lagIsZero(relay.runtime, topic, 1), {
        timeoutMs: 60_000,
        message: 'committed past the rejected record',
      });
      const dead = await deadLetters(dlqTopic);
      expect(dead).toHaveLength(1);
      expect(dead[0]?.reason.code).toBe('FERRY_SINK_REJECTED');
      expect(dead[0]?.pointer?.sha256).toBe(sha256(text));
      expect(
        relay.runtime.metrics.value('ferry_dlq_writes_total', {
          sink: sinkId,
          code: 'FERRY_SINK_REJECTED',
          kind: 'pointer',
        }),
      ).toBe(1);

      const first = await replay();
      expect(first).toMatchObject({ matched: 1, missing: 0, outcomes: { delivered: 1 } });
      expect(first.items[0]).toMatchObject({ pointer: true, outcome: 'delivered' });
      const applied = api.ledger('sink').requests.filter((r) => r.outcome === 200);
      expect(applied).toHaveLength(1);
      expect(sha256(applied[0]?.body ?? '')).toBe(sha256(text));
      expect(applied[0]?.headers['idempotency-key']).toBe(`${run}-0`);

      // The source loses the record (retention): the pointer is reported missing, not skipped.
      const admin = new Admin({ clientId: 'ferry-test-admin', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
      try {
        await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 1n }] }] });
      } finally {
        await admin.close();
      }
      const second = await replay();
      expect(second).toMatchObject({ matched: 1, missing: 1, outcomes: { missing: 1 } });
      expect(second.items[0]?.outcome).toBe('missing');
      expect(second.items[0]?.missing).toContain('no longer in the source');
      expect(api.ledger('sink').requests.filter((r) => r.outcome === 200)).toHaveLength(1);
    } finally {
      await relay.stop();
    }
  });
});
