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
  /** Most dead letters in one produce request. */
  readonly maxBatch?: number;
}

export function createKafkaDlqWriter({
  brokers,
  topic = 'dlq.relay',
  clientId = 'ferry-relay-dlq',
  autocreateTopic = true,
  maxBatch = 500,
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
  type Message = {
    topic: string;
    key: Buffer | undefined;
    value: Buffer | undefined;
    headers: Map<Buffer, Buffer>;
  };
  type Pending = { message: Message; resolve: () => void; reject: (e: unknown) => void };
  // Dead letters written in the same tick go out in one produce request (a DLQ storm of thousands
  // of malformed records must not become thousands of sequential acks=all round trips).
  let batch: Pending[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const sending = batch;
    batch = [];
    producer.send({ messages: sending.map((p) => p.message) }).then(
      () => {
        for (const p of sending) p.resolve();
      },
      (err: unknown) => {
        const e = new FerryError('FERRY_DLQ_WRITE_FAILED', `dead-letter write to ${topic} failed`, {
          retryable: true,
          cause: err,
        });
        for (const p of sending) p.reject(e);
      },
    );
  };
  return {
    write(record: SourceRecord, reason: DeadLetterReason): Promise<void> {
      const headers = new Map<Buffer, Buffer>();
      for (const h of deadLetterHeaders(record, reason)) {
        headers.set(Buffer.from(h.key), toBuffer(h.value) ?? Buffer.alloc(0));
      }
      const message = { topic, key: toBuffer(record.key), value: toBuffer(record.value), headers };
      return new Promise<void>((resolve, reject) => {
        batch.push({ message, resolve, reject });
        if (batch.length >= maxBatch) flush();
        else if (!scheduled) {
          scheduled = true;
          queueMicrotask(flush);
        }
      });
    },
    async close(): Promise<void> {
      await producer.close();
    },
  };
}
