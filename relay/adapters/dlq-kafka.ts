// DlqWriter on a Kafka producer with acks=all and idempotence: each dead letter keeps the original
// key, value and headers and adds the ferry-error-* headers (relay/core/dlq-headers.ts, so replay
// reads them back with parseDeadLetter). `write` resolves only once the broker acknowledged it,
// which is what lets the core count the record as terminal and commit past it.
//
// A dead letter always fits: the DLQ topic's max.message.bytes is read once at start (the broker's
// message.max.bytes while the topic does not exist, logged). A record that would not fit with its
// headers is written as a pointer instead (source position, original size, sha-256 of the value, as
// much of the value as fits, marked truncated); if the broker still says too large, the pointer drops
// the value, key and original headers. Other failures are classified (kafka-produce-errors.ts) and
// reported to the core as DlqWriteError, permanent or retryable.
//
// Dead letters written while a produce is in flight go out together, but each produce request holds
// one partition and at most max.message.bytes: a failure then concerns only that request's members,
// so a retry never re-sends a member that was already acknowledged.
import { createHash } from 'node:crypto';
import {
  Admin,
  ConfigResourceTypes,
  type ConfigResourceTypeValue,
  defaultPartitioner,
  Producer,
} from '@platformatic/kafka';
import { type KafkaConnection, kafkaClientOptions } from '../../wasm/index.ts';
import { silentLogger } from '../core/clock.ts';
import type {
  DeadLetterReason,
  DlqWriteKind,
  DlqWriter,
  Logger,
  RecordHeader,
  SourceRecord,
} from '../core/contracts.ts';
import { deadLetterHeaders } from '../core/dlq-headers.ts';
import { DlqWriteError } from '../core/dlq-write.ts';
import { errorMessage } from '../core/errors.ts';
import { classifyProduceError } from './kafka-produce-errors.ts';

/** Kafka's default message.max.bytes (1 MiB + 12 bytes of log overhead). */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** Record batch header (61) plus room for the size estimate's rounding. */
const BATCH_OVERHEAD = 61 + 512;

/** Options of the Kafka DLQ writer. */
export interface KafkaDlqWriterOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** TLS and SASL (absent: plaintext). */
  readonly connection?: KafkaConnection;
  /** DLQ topic (default `dlq.relay`). */
  readonly topic?: string;
  /** Kafka client id. */
  readonly clientId?: string;
  /** Create the topic when it does not exist yet. */
  readonly autocreateTopic?: boolean;
  /** Most dead letters taken into one round of produce requests. */
  readonly maxBatch?: number;
  /** Overrides the limit read from the broker (tests). */
  readonly maxMessageBytes?: number;
  /** Where producer problems are logged. */
  readonly logger?: Logger;
}

type Message = {
  topic: string;
  partition: number;
  key: Buffer | undefined;
  value: Buffer | undefined;
  headers: Map<Buffer, Buffer>;
};

/** One dead letter on its way; `form` steps down on a too-large refusal: full → pointer → bare. */
interface Pending {
  readonly record: SourceRecord;
  readonly reason: DeadLetterReason;
  form: 'full' | 'pointer' | 'bare';
  message: Message | undefined;
  size: number;
  partition: number | undefined;
  readonly resolve: (kind: DlqWriteKind) => void;
  readonly reject: (e: unknown) => void;
}

const toBuffer = (b: Uint8Array | null) =>
  b === null ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Upper bound of a record's size in a v2 record batch (varints counted at their widest). */
function recordSize(key: Uint8Array | null, valueBytes: number, headers: readonly RecordHeader[]): number {
  let n = 21 + (key?.byteLength ?? 0) + 5 + valueBytes + 5;
  for (const h of headers) n += 10 + Buffer.byteLength(h.key) + (h.value?.byteLength ?? 0);
  return n;
}

const headerBytes = (headers: readonly RecordHeader[]) =>
  headers.reduce((n, h) => n + 10 + Buffer.byteLength(h.key) + (h.value?.byteLength ?? 0), 0);

/** Writes dead letters to the DLQ topic and resolves each once acknowledged; a record too large for the topic is written as a pointer. */
export function createKafkaDlqWriter({
  brokers,
  topic = 'dlq.relay',
  clientId = 'ferry-relay-dlq',
  autocreateTopic = true,
  maxBatch = 500,
  maxMessageBytes,
  logger = silentLogger,
  connection,
}: KafkaDlqWriterOptions): DlqWriter {
  const producer = new Producer({
    ...kafkaClientOptions(connection),
    clientId,
    bootstrapBrokers: [...brokers],
    acks: -1,
    idempotent: true,
    autocreateTopics: autocreateTopic,
    retries: 5,
    retryDelay: 200,
  });

  let admin: Admin | undefined;
  const limit: Promise<number> =
    maxMessageBytes !== undefined ? Promise.resolve(maxMessageBytes) : readTopicLimit();

  /**
   * The DLQ topic's max.message.bytes; when the topic cannot be described (e.g. it does not exist yet
   * and will be created on first write), the broker's message.max.bytes, which a new topic inherits;
   * when neither can be read, Kafka's default. Logged either way.
   */
  async function readTopicLimit(): Promise<number> {
    admin = new Admin({
      ...kafkaClientOptions(connection),
      clientId: `${clientId}-config`,
      bootstrapBrokers: [...brokers],
    });
    const describe = async (resourceType: ConfigResourceTypeValue, resourceName: string, key: string) => {
      const [described] = await (admin as Admin).describeConfigs({
        resources: [{ resourceType, resourceName, configurationKeys: [key] }],
      });
      const value = Number(described?.configs.find((c) => c.name === key)?.value);
      if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${key} not found`);
      return value;
    };
    try {
      try {
        const value = await describe(ConfigResourceTypes.TOPIC, topic, 'max.message.bytes');
        logger.info('DLQ topic limit read', { topic, maxMessageBytes: value, from: 'topic' });
        return value;
      } catch (topicError) {
        const meta = await admin.metadata({ topics: [] });
        const [node] = meta.brokers.keys();
        if (node === undefined) throw topicError;
        const value = await describe(ConfigResourceTypes.BROKER, String(node), 'message.max.bytes');
        logger.info('DLQ topic limit read', {
          topic,
          maxMessageBytes: value,
          from: 'broker',
          topicError: errorMessage(topicError),
        });
        return value;
      }
    } catch (e) {
      logger.warn('DLQ topic max.message.bytes could not be read, assuming the broker default', {
        topic,
        maxMessageBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
        error: errorMessage(e),
      });
      return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    } finally {
      await admin.close().catch(() => {});
    }
  }

  /** The message for a dead letter in its current form, and its size bound. */
  function build(p: Pending, budget: number): void {
    const { record, reason } = p;
    if (p.form === 'full') {
      const headers = deadLetterHeaders(record, reason);
      const size = recordSize(record.key, record.value?.byteLength ?? 0, headers);
      if (size <= budget) {
        p.message = message(record.key, toBuffer(record.value), headers, p.partition ?? 0);
        p.size = size;
        return;
      }
      p.form = 'pointer';
    }
    const value = record.value ?? new Uint8Array(0);
    const sha256 = createHash('sha256').update(value).digest('hex');
    const original = record.headers.filter((h) => !h.key.startsWith('ferry-error-'));
    const keepMeta =
      p.form === 'pointer' && (record.key?.byteLength ?? 0) + headerBytes(original) <= budget / 4;
    const base: SourceRecord = keepMeta ? record : { ...record, key: null, headers: [] };
    const headers = deadLetterHeaders(base, reason, {
      originalSize: value.byteLength,
      sha256,
      truncated: !keepMeta,
    });
    const room = budget - recordSize(base.key, 0, headers);
    const kept = p.form === 'pointer' ? Math.max(0, Math.min(value.byteLength, room)) : 0;
    p.message = message(
      base.key,
      Buffer.from(value.buffer, value.byteOffset, kept),
      headers,
      p.partition ?? 0,
    );
    p.size = recordSize(base.key, kept, headers);
  }

  function message(
    key: Uint8Array | null,
    value: Buffer | undefined,
    headers: readonly RecordHeader[],
    partition: number,
  ): Message {
    const map = new Map<Buffer, Buffer>();
    for (const h of headers) map.set(Buffer.from(h.key), toBuffer(h.value) ?? Buffer.alloc(0));
    return { topic, partition, key: toBuffer(key), value, headers: map };
  }

  let roundRobin = 0;
  async function partitionCount(): Promise<number> {
    const meta = await producer.metadata({ topics: [topic], autocreateTopics: autocreateTopic });
    return meta.topics.get(topic)?.partitionsCount ?? 1;
  }

  const fail = (e: unknown, form: Pending['form']) => {
    const { reason, permanent } = classifyProduceError(e);
    const what = form === 'full' ? 'dead-letter' : 'dead-letter pointer';
    return new DlqWriteError(`${what} write to ${topic} failed (${reason})`, reason, permanent, e);
  };

  /** Sends one partition's chunk; on too-large, each member alone, stepping down its form. */
  async function send(chunk: Pending[], budget: number): Promise<void> {
    try {
      await producer.send({ messages: chunk.map((p) => p.message as Message) });
      for (const p of chunk) p.resolve(p.form === 'full' ? 'full' : 'pointer');
      return;
    } catch (e) {
      const { reason } = classifyProduceError(e);
      if (reason !== 'too-large') {
        const error = fail(e, chunk[0]?.form ?? 'full');
        for (const p of chunk) p.reject(error);
        return;
      }
      if (chunk.length === 1) {
        const [p] = chunk as [Pending];
        if (p.form === 'bare') {
          p.reject(fail(e, p.form));
          return;
        }
        logger.warn('DLQ topic refused a dead letter as too large, writing a smaller pointer', {
          topic,
          form: p.form,
          bytes: p.size,
        });
        p.form = p.form === 'full' ? 'pointer' : 'bare';
        build(p, budget);
      }
    }
    for (const p of chunk) await send([p], budget);
  }

  let queue: Pending[] = [];
  let pumping = false;
  async function pump(): Promise<void> {
    const budget = (await limit) - BATCH_OVERHEAD;
    while (queue.length > 0) {
      const taken = queue.slice(0, maxBatch);
      queue = queue.slice(maxBatch);
      let partitions: number;
      try {
        partitions = await partitionCount();
      } catch (e) {
        const error = fail(e, 'full');
        for (const p of taken) p.reject(error);
        continue;
      }
      const byPartition = new Map<number, Pending[]>();
      for (const p of taken) {
        const key = toBuffer(p.record.key);
        p.partition =
          (key === undefined ? roundRobin++ : defaultPartitioner({ topic, key }, key)) % partitions;
        build(p, budget);
        const list = byPartition.get(p.partition) ?? [];
        list.push(p);
        byPartition.set(p.partition, list);
      }
      for (const members of byPartition.values()) {
        let chunk: Pending[] = [];
        let bytes = 0;
        for (const p of members) {
          if (chunk.length > 0 && bytes + p.size > budget) {
            await send(chunk, budget);
            chunk = [];
            bytes = 0;
          }
          chunk.push(p);
          bytes += p.size;
        }
        if (chunk.length > 0) await send(chunk, budget);
      }
    }
  }
  const kick = () => {
    if (pumping) return;
    pumping = true;
    queueMicrotask(() => {
      pump()
        .catch((e: unknown) => {
          const error = fail(e, 'full');
          for (const p of queue.splice(0)) p.reject(error);
        })
        .finally(() => {
          pumping = false;
          if (queue.length > 0) kick();
        });
    });
  };

  return {
    write(record: SourceRecord, reason: DeadLetterReason): Promise<DlqWriteKind> {
      return new Promise<DlqWriteKind>((resolve, reject) => {
        queue.push({
          record,
          reason,
          form: 'full',
          message: undefined,
          size: 0,
          partition: undefined,
          resolve,
          reject,
        });
        kick();
      });
    },
    async close(): Promise<void> {
      await admin?.close().catch(() => {});
      await producer.close();
    },
  };
}
