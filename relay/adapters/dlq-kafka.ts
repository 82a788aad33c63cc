// DlqWriter on a Kafka producer with acks=all and idempotence: each dead letter keeps the original
// key, value and headers and adds the ferry-error-* headers (relay/core/dlq-headers.ts, so replay
// reads them back with parseDeadLetter). `write` resolves only once the broker acknowledged it,
// which is what lets the core count the record as terminal and commit past it.
import { Producer } from '@platformatic/kafka';
import type { DeadLetterReason, DlqWriter, SourceRecord } from '../core/contracts.ts';
import { deadLetterHeaders } from '../core/dlq-headers.ts';
import { FerryError } from '../core/errors.ts';

export interface KafkaDlqWriterOptions {
  readonly brokers: readonly string[];
  readonly topic?: string;
  readonly clientId?: string;
  /** Create the topic when it does not exist yet. */
  readonly autocreateTopic?: boolean;
}

export function createKafkaDlqWriter({
  brokers,
  topic = 'dlq.relay',
  clientId = 'ferry-relay-dlq',
  autocreateTopic = true,
}: KafkaDlqWriterOptions): DlqWriter {
  const producer = new Producer({
    clientId,
    bootstrapBrokers: [...brokers],
    acks: -1,
    idempotent: true,
    autocreateTopics: autocreateTopic,
    retries: 5,
    retryDelay: 200,
  });
  const toBuffer = (b: Uint8Array | null) =>
    b === null ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    async write(record: SourceRecord, reason: DeadLetterReason): Promise<void> {
      const headers = new Map<Buffer, Buffer>();
      for (const h of deadLetterHeaders(record, reason)) {
        headers.set(Buffer.from(h.key), toBuffer(h.value) ?? Buffer.alloc(0));
      }
      try {
        await producer.send({
          messages: [{ topic, key: toBuffer(record.key), value: toBuffer(record.value), headers }],
        });
      } catch (err) {
        throw new FerryError('FERRY_DLQ_WRITE_FAILED', `dead-letter write to ${topic} failed`, {
          retryable: true,
          cause: err,
        });
      }
    },
    async close(): Promise<void> {
      await producer.close();
    },
  };
}
