// DlqReader for dlq.relay: reads every partition from its start up to the end offsets seen when
// `read` is called, then ends. No consumer group (nothing is committed): a plain fetch loop, so a
// replay never disturbs the relay's own group. Filtering (sink, time, offset range) is the core's,
// on parseDeadLetter(record).
import { type ClusterTopicMetadata, Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import type { DlqReader, SourceRecord } from '../core/contracts.ts';
import { decodeBatches } from './kafka-records.ts';

export interface KafkaDlqReaderOptions {
  readonly brokers: readonly string[];
  readonly topic?: string;
  readonly clientId?: string;
  readonly maxWaitMs?: number;
}

export function createKafkaDlqReader({
  brokers,
  topic = 'dlq.relay',
  clientId = 'ferry-relay-dlq-reader',
  maxWaitMs = 200,
}: KafkaDlqReaderOptions): DlqReader {
  const consumer = new Consumer({
    clientId,
    groupId: `${clientId}-unused`,
    bootstrapBrokers: [...brokers],
    autocommit: false,
  });
  return {
    async *read({ signal } = {}): AsyncIterable<SourceRecord> {
      let meta: ClusterTopicMetadata | undefined;
      try {
        meta = (await consumer.metadata({ topics: [topic], autocreateTopics: false })).topics.get(topic);
      } catch (err) {
        // No dlq topic yet means nothing was ever dead-lettered.
        if (/unknown topic/i.test(String((err as Error)?.message))) return;
        throw err;
      }
      if (meta === undefined) return;
      const partitions = Array.from({ length: meta.partitionsCount }, (_, i) => i);
      const opts = { topics: [topic], partitions: { [topic]: partitions } };
      const [low, high] = await Promise.all([
        consumer.listOffsets({ ...opts, timestamp: ListOffsetTimestamps.EARLIEST }),
        consumer.listOffsets({ ...opts, timestamp: ListOffsetTimestamps.LATEST }),
      ]);
      for (const p of partitions) {
        let position = low.get(topic)?.[p] ?? 0n;
        const end = high.get(topic)?.[p] ?? 0n;
        while (position < end) {
          if (signal?.aborted) return;
          const leader = meta.partitions[p]?.leader ?? -1;
          const res = await consumer.fetch({
            node: leader,
            maxWaitTime: maxWaitMs,
            minBytes: 1,
            maxBytes: 4 * 1024 * 1024,
            topics: [
              {
                topicId: meta.id,
                partitions: [
                  {
                    partition: p,
                    fetchOffset: position,
                    partitionMaxBytes: 4 * 1024 * 1024,
                    currentLeaderEpoch: -1,
                    lastFetchedEpoch: -1,
                  },
                ],
              },
            ],
          });
          const batches = res.responses[0]?.partitions.find((x) => x.partitionIndex === p)?.records ?? [];
          if (batches.length === 0) break;
          const { records, next } = decodeBatches(topic, p, batches, position);
          for (const r of records) if (r.offset < end) yield r;
          if (next === undefined || next <= position) break;
          position = next;
        }
      }
    },
    async close(): Promise<void> {
      await consumer.close(true);
    },
  };
}
