// Creates the output topics that do not exist yet, with the input topic's partition count.
import { Admin } from '@platformatic/kafka';

export async function ensureTopics(
  brokers: string[],
  inputTopic: string,
  outputTopics: string[],
): Promise<string[]> {
  const admin = new Admin({ clientId: 'ferry-transform-admin', bootstrapBrokers: brokers, timeout: 10_000 });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = outputTopics.filter((t) => !existing.has(t));
    if (missing.length === 0) return [];
    let partitions = 1;
    if (existing.has(inputTopic)) {
      const meta = await admin.metadata({ topics: [inputTopic] });
      partitions = meta.topics.get(inputTopic)?.partitionsCount ?? 1;
    }
    try {
      await admin.createTopics({ topics: missing, partitions, replicas: 1 });
    } catch (error) {
      // Another runner may have created them in the meantime.
      const now = new Set(await admin.listTopics());
      if (!missing.every((t) => now.has(t))) throw error;
    }
    return missing;
  } finally {
    await admin.close();
  }
}
