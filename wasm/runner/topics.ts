// Creates the output topics that do not exist yet, with the input topic's partition count.
import { Admin } from '@platformatic/kafka';
import { type KafkaConnection, kafkaClientOptions } from '../kafka/connection.ts';

function alreadyExists(error: unknown, seen = new Set<unknown>()): boolean {
  if (typeof error !== 'object' || error === null || seen.has(error)) return false;
  seen.add(error);
  const e = error as {
    apiId?: unknown;
    message?: unknown;
    errors?: unknown;
    cause?: unknown;
    response?: unknown;
  };
  if (e.apiId === 'TOPIC_ALREADY_EXISTS' || String(e.message ?? '').includes('TOPIC_ALREADY_EXISTS'))
    return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => alreadyExists(x, seen))) return true;
  // CreateTopics error code 36 = TOPIC_ALREADY_EXISTS
  const topics = (e.response as { topics?: Array<{ errorCode?: number }> } | undefined)?.topics;
  if (
    Array.isArray(topics) &&
    topics.length > 0 &&
    topics.every((t) => t.errorCode === 36 || t.errorCode === 0)
  ) {
    return true;
  }
  return alreadyExists(e.cause, seen);
}

export async function ensureTopics(
  brokers: string[],
  inputTopic: string,
  outputTopics: string[],
  connection: KafkaConnection = {},
): Promise<string[]> {
  const admin = new Admin({
    ...kafkaClientOptions(connection),
    clientId: 'ferry-transform-admin',
    bootstrapBrokers: brokers,
    timeout: 10_000,
  });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = outputTopics.filter((t) => !existing.has(t));
    if (missing.length === 0) return [];
    let partitions = 1;
    if (existing.has(inputTopic)) {
      const meta = await admin.metadata({ topics: [inputTopic] });
      partitions = meta.topics.get(inputTopic)?.partitionsCount ?? 1;
    }
    const made: string[] = [];
    for (const topic of missing) {
      try {
        await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
        made.push(topic);
      } catch (error) {
        // Another runner (of another transform sharing dlq.transform) may have created it meanwhile.
        if (!alreadyExists(error)) throw error;
      }
    }
    return made;
  } finally {
    await admin.close();
  }
}
