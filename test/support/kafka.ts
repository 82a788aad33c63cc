// Kafka for tests: read a topic from given offsets (default: the beginning) until a condition
// holds, snapshot end offsets before an action, count records. Each read uses a throw-away consumer
// group that is deleted afterwards.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { countRecords, createAdmin, topicOffsets } from '../../deploy/local/topic-counts.ts';

export { countRecords, createAdmin, KAFKA_BOOTSTRAP };

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: string | undefined;
  value: string | undefined;
  headers: Map<string, string>;
}

/** partition → offset */
export type Offsets = Map<number, bigint>;

/** End offsets (next offset to be written) per partition: pass as `from` to read only what comes after. Empty when the topic does not exist yet (then reading starts at its beginning). */
export async function endOffsets(topic: string): Promise<Offsets> {
  const admin = createAdmin({ clientId: 'ferry-test-offsets' });
  try {
    const parts = (await topicOffsets(admin, [topic])).get(topic) ?? [];
    return new Map(parts.map((p) => [p.partition, p.high]));
  } finally {
    await admin.close();
  }
}

export interface ReadOptions {
  /** Start offsets per partition; partitions not listed start at their beginning. */
  from?: Offsets;
  /** Stop once this returns true for the records read so far. Default: the end offsets seen at the start. */
  until?: (records: TopicRecord[]) => boolean;
  timeoutMs?: number;
}

/**
 * Reads `topic` and returns its records in arrival order (per partition in offset order). Without
 * `until` it stops at the end offsets the topic had when the call started; throws on timeout with
 * how many records it had.
 */
export async function readTopic(
  topic: string,
  { from, until, timeoutMs = 30_000 }: ReadOptions = {},
): Promise<TopicRecord[]> {
  const admin = createAdmin({ clientId: 'ferry-test-read' });
  const groupId = `ferry-test-${randomUUID()}`;
  const consumer = new Consumer({
    clientId: 'ferry-test-read',
    groupId,
    bootstrapBrokers: [KAFKA_BOOTSTRAP],
    deserializers: stringDeserializers,
    maxWaitTime: 200,
    timeout: 10_000,
  });
  // The client joins the (throw-away) group even for manual offsets, and reports a failed background
  // rejoin as an 'error' event on the consumer; unheard, Node throws it as an uncaught exception that fails
  // the whole test run. The read does not depend on the group (offsets are manual): note it and go on.
  let groupError: Error | undefined;
  consumer.on('error', (error: Error) => {
    groupError = error;
  });
  const records: TopicRecord[] = [];
  try {
    // The topic may not exist yet (Debezium creates cdc.* topics on a table's first change): wait for it.
    const deadline = Date.now() + timeoutMs;
    let parts = (await topicOffsets(admin, [topic])).get(topic);
    while (!parts) {
      if (Date.now() > deadline)
        throw new Error(`readTopic: topic ${topic} does not exist after ${timeoutMs} ms`);
      await sleep(200);
      parts = (await topicOffsets(admin, [topic])).get(topic);
    }
    const start = new Map(parts.map((p) => [p.partition, from?.get(p.partition) ?? p.low]));
    const ends = new Map(parts.map((p) => [p.partition, p.high]));
    const reachedEnds = () =>
      [...ends].every(([partition, high]) => {
        const last = records.findLast((r) => r.partition === partition);
        return high <= (start.get(partition) ?? 0n) || (last !== undefined && last.offset >= high - 1n);
      });
    const done = until ? () => until(records) : reachedEnds;
    if (done()) return records;
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'manual',
      offsets: [...start].map(([partition, offset]) => ({ topic, partition, offset })),
      autocommit: false,
    });
    const timer = setTimeout(() => stream.destroy(new Error('timeout')), Math.max(1, deadline - Date.now()));
    try {
      for await (const m of stream) {
        records.push({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          timestamp: m.timestamp,
          key: m.key ?? undefined,
          value: m.value ?? undefined,
          headers: new Map([...m.headers].map(([k, v]) => [String(k), String(v)])),
        });
        if (done()) break;
      }
    } catch (error) {
      if ((error as Error).message === 'timeout') {
        throw new Error(
          `readTopic(${topic}): timed out after ${timeoutMs} ms with ${records.length} records` +
            (groupError ? ` (consumer error: ${groupError.message})` : ''),
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => {});
    }
    return records;
  } finally {
    await consumer.close(true).catch(() => {});
    await admin.deleteGroups({ groups: [groupId] }).catch(() => {});
    await admin.close().catch(() => {});
  }
}

/** Parses a record value as JSON (Debezium envelope etc.); undefined for tombstones. */
export const json = <T = Record<string, unknown>>(r: TopicRecord): T | undefined =>
  r.value === undefined || r.value === '' ? undefined : (JSON.parse(r.value) as T);

/** Committed next offsets of a consumer group per partition (-1 where it committed none). */
export async function committedOffsets(group: string, topic: string, partitions: number): Promise<Offsets> {
  const admin = createAdmin({ clientId: 'ferry-test-committed' });
  try {
    const [g] = await admin.listConsumerGroupOffsets({
      groups: [
        { groupId: group, topics: [{ name: topic, partitionIndexes: [...Array(partitions).keys()] }] },
      ],
    });
    const out: Offsets = new Map();
    for (const t of g?.topics ?? [])
      for (const p of t.partitions) out.set(p.partitionIndex, p.committedOffset);
    return out;
  } finally {
    await admin.close();
  }
}
