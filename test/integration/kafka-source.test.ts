import { afterAll, describe, expect, it } from 'vitest';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { createKafkaSource, type KafkaSource } from '../../relay/adapters/kafka-source.ts';
import type { SourceHandler, SourceRecord, TopicPartition } from '../../relay/core/contracts.ts';
import { endOffsets } from '../support/kafka.ts';
import { createTopic, createTopicProducer, deleteTopics } from '../support/relay-kafka.ts';

const until = async (cond: () => boolean, timeoutMs = 60_000, what = 'condition') => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** A stand-in core: keeps records, commits what it has seen per partition, tracks assignment. */
function collector(source: () => KafkaSource) {
  const records: SourceRecord[] = [];
  const owned = new Set<string>();
  const revocations: TopicPartition[][] = [];
  const next = new Map<string, { tp: TopicPartition; offset: bigint }>();
  const handler: SourceHandler = {
    onRecords(batch) {
      for (const r of batch) {
        records.push(r);
        next.set(`${r.topic}:${r.partition}`, { tp: r, offset: r.offset + 1n });
      }
    },
    async onRevoked(tps) {
      revocations.push([...tps]);
      for (const tp of tps) owned.delete(`${tp.topic}:${tp.partition}`);
      // Finish: commit what we saw of the revoked partitions (the source may drop it as stale).
      await source().commit(
        tps.flatMap((tp) => {
          const n = next.get(`${tp.topic}:${tp.partition}`);
          return n === undefined ? [] : [{ ...tp, offset: n.offset }];
        }),
      );
      for (const tp of tps) next.delete(`${tp.topic}:${tp.partition}`);
    },
    onAssigned(tps) {
      for (const tp of tps) owned.add(`${tp.topic}:${tp.partition}`);
    },
  };
  const commitAll = () =>
    source().commit(
      [...next.values()].map(({ tp, offset }) => ({ topic: tp.topic, partition: tp.partition, offset })),
    );
  return { handler, records, owned, revocations, commitAll };
}

describe('Kafka source', () => {
  const topics: string[] = [];
  const producer = createTopicProducer();
  afterAll(async () => {
    await producer.close();
    await deleteTopics(...topics);
  });

  it('consumes every record once, commits, pauses and resumes per partition, restarts from the commit', async () => {
    const topic = await createTopic('src', 4);
    topics.push(topic);
    const groupId = `g-${topic}`;
    const run = 'r1';
    await producer.produce(topic, 0, 2000, { keys: 50, run });
    let source!: KafkaSource;
    const c = collector(() => source);
    source = createKafkaSource({ brokers: [KAFKA_BOOTSTRAP], groupId, topics: [topic] });
    await source.start(c.handler);
    expect(source.isConnected()).toBe(true);
    await until(() => c.records.length >= 2000, 30_000, '2000 records');
    expect(new Set(c.records.map((r) => `${r.partition}:${r.offset}`)).size).toBe(2000);
    const first = c.records[0]!;
    expect(first.headers.find((h) => h.key === 'ferry-event-id')).toBeDefined();
    expect(Buffer.from(first.value!).toString()).toContain('"seq"');
    await c.commitAll();
    await until(() => source.lag().length === 4 && source.lag().every((l) => l.lag === 0n), 30_000, 'lag 0');

    // Pause partition 0: nothing more arrives from it while others flow.
    source.pause([{ topic, partition: 0 }]);
    const before = c.records.length;
    await producer.produce(topic, 2000, 400, { keys: 50, run });
    await until(() => source.lag().some((l) => l.partition === 0 && l.lag > 0n), 30_000, 'lag on p0');
    await new Promise((r) => setTimeout(r, 1000));
    const during = c.records.slice(before);
    expect(during.some((r) => r.partition === 0)).toBe(false);
    expect(during.length).toBeGreaterThan(0);
    source.resume([{ topic, partition: 0 }]);
    await until(() => c.records.length >= 2400, 20_000, '2400 records');
    expect(new Set(c.records.map((r) => `${r.partition}:${r.offset}`)).size).toBe(2400);

    // Commit only half of partition 1, restart: it resumes from the commit.
    const p1 = c.records.filter((r) => r.partition === 1);
    const mid = p1[Math.floor(p1.length / 2)]!;
    await c.commitAll();
    await source.commit([{ topic, partition: 1, offset: mid.offset }]);
    await source.stop();
    let second!: KafkaSource;
    const c2 = collector(() => second);
    second = createKafkaSource({ brokers: [KAFKA_BOOTSTRAP], groupId, topics: [topic] });
    await second.start(c2.handler);
    await until(() => c2.records.length >= p1.length - Math.floor(p1.length / 2), 20_000, 'p1 tail');
    await new Promise((r) => setTimeout(r, 500));
    expect(c2.records.every((r) => r.partition === 1)).toBe(true);
    expect(c2.records[0]!.offset).toBe(mid.offset);
    await second.stop();
  });

  it('two members: a rebalance revokes before reassigning, nothing lost, stale commits dropped', async () => {
    const topic = await createTopic('reb', 6);
    topics.push(topic);
    const groupId = `g-${topic}`;
    const run = 'r2';
    await producer.produce(topic, 0, 3000, { keys: 60, run });
    let a!: KafkaSource;
    let b!: KafkaSource;
    const ca = collector(() => a);
    const cb = collector(() => b);
    a = createKafkaSource({
      brokers: [KAFKA_BOOTSTRAP],
      groupId,
      topics: [topic],
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 300,
    });
    await a.start(ca.handler);
    await until(() => ca.records.length >= 3000, 30_000, 'a read all');
    await ca.commitAll();
    await producer.produce(topic, 3000, 3000, { keys: 60, run });

    b = createKafkaSource({
      brokers: [KAFKA_BOOTSTRAP],
      groupId,
      topics: [topic],
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 300,
    });
    await b.start(cb.handler);
    await until(() => ca.owned.size + cb.owned.size === 6 && cb.owned.size > 0, 30_000, 'split assignment');
    expect(ca.revocations.length).toBeGreaterThan(0);
    for (const k of ca.owned) expect(cb.owned.has(k)).toBe(false);
    // A stale commit for a partition a lost is dropped by a's source.
    const lost = ca.revocations.flat()[0]!;
    await a.commit([{ ...lost, offset: 999_999n }]);

    const seen = () => new Set([...ca.records, ...cb.records].map((r) => `${r.partition}:${r.offset}`));
    await until(() => seen().size >= 6000, 60_000, 'all 6000 seen');
    await Promise.all([ca.commitAll(), cb.commitAll()]);
    await a.stop();
    // b takes everything after a leaves.
    await until(() => cb.owned.size === 6, 30_000, 'b owns all');
    await producer.produce(topic, 6000, 600, { keys: 60, run });
    await until(() => seen().size >= 6600, 30_000, 'all 6600 seen');
    await cb.commitAll();
    await b.stop();
    // The stale 999999 commit never landed: a new member starts every partition at a real offset.
    let c!: KafkaSource;
    const cc = collector(() => c);
    c = createKafkaSource({ brokers: [KAFKA_BOOTSTRAP], groupId, topics: [topic] });
    await c.start(cc.handler);
    const positions = c.positions();
    expect(positions.length).toBe(6);
    const ends = await endOffsets(topic);
    for (const p of positions) expect(p.position).toBe(ends.get(p.partition));
    await c.stop();
  });
});
