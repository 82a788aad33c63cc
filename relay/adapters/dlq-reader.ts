// DlqReader for dlq.relay: reads every partition from its start up to the end offsets seen when
// `read` is called, then ends. No consumer group (nothing is committed): a plain fetch loop, so a
// replay never disturbs the relay's own group. Filtering (sink, time, offset range) is the core's,
// on parseDeadLetter(record). `original` reads one record of a source topic back by position, for
// replaying a pointer record (the dead letter that did not fit the DLQ topic).
import { type ClusterTopicMetadata, Consumer, findErrorBy, ListOffsetTimestamps } from '@platformatic/kafka';
import { type KafkaConnection, kafkaClientOptions } from '../../wasm/index.ts';
import type { DlqReader, SourceRecord } from '../core/contracts.ts';
import { decodeBatches } from './kafka-records.ts';

/** Options of the Kafka DLQ reader. */
export interface KafkaDlqReaderOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** DLQ topic (default `dlq.relay`). */
  readonly topic?: string;
  /** Kafka client id. */
  readonly clientId?: string;
  /** Longest wait of one fetch. */
  readonly maxWaitMs?: number;
  /** TLS and SASL (absent: plaintext). */
  readonly connection?: KafkaConnection;
}

/** Reads the DLQ topic back for replay, from its beginning to the end offsets seen when reading starts. */
export function createKafkaDlqReader({
  brokers,
  topic = 'dlq.relay',
  clientId = 'ferry-relay-dlq-reader',
  maxWaitMs = 200,
  connection,
}: KafkaDlqReaderOptions): DlqReader {
  const consumer = new Consumer({
    ...kafkaClientOptions(connection),
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
    async original(sourceTopic, partition, offset, signal) {
      let meta: ClusterTopicMetadata | undefined;
      try {
        meta = (await consumer.metadata({ topics: [sourceTopic], autocreateTopics: false })).topics.get(
          sourceTopic,
        );
      } catch (err) {
        if (/unknown topic/i.test(String((err as Error)?.message))) return undefined;
        throw err;
      }
      const leader = meta?.partitions[partition]?.leader;
      if (meta === undefined || leader === undefined || signal?.aborted) return undefined;
      let batches: Parameters<typeof decodeBatches>[2];
      try {
        const res = await consumer.fetch({
          node: leader,
          maxWaitTime: maxWaitMs,
          minBytes: 1,
          // The broker returns the first batch whole even when it is larger than these limits.
          maxBytes: 1024 * 1024,
          topics: [
            {
              topicId: meta.id,
              partitions: [
                {
                  partition,
                  fetchOffset: offset,
                  partitionMaxBytes: 1024 * 1024,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
        });
        batches = res.responses[0]?.partitions.find((x) => x.partitionIndex === partition)?.records ?? [];
      } catch (err) {
        // Gone by retention (or never there): the record is missing, not an error of the reader.
        const gone = ['OFFSET_OUT_OF_RANGE', 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'].some(
          (id) => findErrorBy(err as Error, 'apiId', id) !== null,
        );
        if (gone) return undefined;
        throw err;
      }
      const { records } = decodeBatches(sourceTopic, partition, batches, offset);
      return records.find((r) => r.offset === offset);
    },
    async close(): Promise<void> {
      await consumer.close(true);
    },
  };
}
