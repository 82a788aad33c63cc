// Kafka helpers for the relay tests: a fresh topic per test, and a producer of numbered JSON records
// (`{ key, seq, pad }`, keyed by `key`, stamped with `ferry-event-id`) so the mock API can check
// per-key order and the tests can account for every record.
import { randomUUID } from 'node:crypto';
import { Admin, ConfigResourceTypes, Producer } from '@platformatic/kafka';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';

export async function createTopic(
  prefix: string,
  partitions: number,
  bootstrap = KAFKA_BOOTSTRAP,
): Promise<string> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const admin = new Admin({ clientId: 'ferry-test-admin', bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({ topics: [name], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
  return name;
}

/** Deletes the topics and the consumer groups the relay tests name after them (`g-<topic>`, `relay-<topic>`). */
export async function deleteTopics(...names: string[]): Promise<void> {
  if (names.length === 0) return;
  const admin = new Admin({ clientId: 'ferry-test-admin', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  try {
    await admin.deleteTopics({ topics: names }).catch(() => {});
    await admin
      .deleteGroups({ groups: names.flatMap((n) => [`g-${n}`, `relay-${n}`, `consume-only-${n}`]) })
      .catch(() => {});
  } finally {
    await admin.close();
  }
}

export interface NumberedRecords {
  /** Distinct ordering keys. */
  readonly keys: number;
  /** Approximate value size in bytes. */
  readonly valueBytes?: number;
  /** Event id prefix (unique per test run). */
  readonly run: string;
}

export function numberedValue(
  run: string,
  i: number,
  keys: number,
  valueBytes = 200,
): { key: string; value: string } {
  const key = `k${i % keys}`;
  const seq = Math.floor(i / keys);
  const head = JSON.stringify({ key, seq, i, run, producedAt: Date.now() });
  const pad = Math.max(0, valueBytes - head.length - 10);
  return { key, value: head.slice(0, -1) + `,"pad":"${'x'.repeat(pad)}"}` };
}

export interface TopicProducer {
  produce(topic: string, from: number, count: number, opts: NumberedRecords): Promise<void>;
  close(): Promise<void>;
}

export function createTopicProducer(bootstrap = KAFKA_BOOTSTRAP): TopicProducer {
  const producer = new Producer({
    clientId: 'ferry-test-producer',
    bootstrapBrokers: [bootstrap],
    idempotent: true,
    acks: -1,
  });
  return {
    async produce(topic, from, count, { keys, valueBytes, run }) {
      const batch = 500;
      for (let start = from; start < from + count; start += batch) {
        const messages = [];
        for (let i = start; i < Math.min(from + count, start + batch); i++) {
          const { key, value } = numberedValue(run, i, keys, valueBytes);
          messages.push({
            topic,
            key: Buffer.from(key),
            value: Buffer.from(value),
            headers: new Map([[Buffer.from('ferry-event-id'), Buffer.from(`${run}-${i}`)]]),
          });
        }
        await producer.send({ messages });
      }
    },
    close: () => producer.close(),
  };
}

/** Sets a topic's `max.message.bytes` (the DLQ tests make records that do not fit). */
export async function setTopicLimit(
  topic: string,
  bytes: number,
  bootstrap = KAFKA_BOOTSTRAP,
): Promise<void> {
  const admin = new Admin({ clientId: 'ferry-test-admin', bootstrapBrokers: [bootstrap] });
  try {
    await admin.alterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configs: [{ name: 'max.message.bytes', value: String(bytes) }],
        },
      ],
    });
  } finally {
    await admin.close();
  }
}
