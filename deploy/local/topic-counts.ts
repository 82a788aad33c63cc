// Record counts per topic from offsets alone: for each partition, high-water mark minus log start
// offset. Cheap (two ListOffsets requests), no consuming. Used by `ferry topics watch`, tests and
// benchmarks. (Transaction markers would count too; nothing in the local stack writes them.)
import { Admin } from '@platformatic/kafka';
import { type KafkaConnection, kafkaClientOptions } from '../../wasm/index.ts';
import { KAFKA_BOOTSTRAP } from './config.ts';

export interface PartitionOffsets {
  partition: number;
  low: bigint;
  high: bigint;
}

export interface TopicCount {
  topic: string;
  records: number;
  partitions: PartitionOffsets[];
}

export function createAdmin({
  bootstrap = KAFKA_BOOTSTRAP,
  clientId = 'ferry-topics',
  connection = {},
}: {
  bootstrap?: string;
  clientId?: string;
  connection?: KafkaConnection;
} = {}): Admin {
  return new Admin({
    ...kafkaClientOptions(connection),
    clientId,
    bootstrapBrokers: [bootstrap],
    timeout: 10_000,
  });
}

/** Low and high offsets of every partition of `topics` (topics that do not exist are left out). */
export async function topicOffsets(admin: Admin, topics: string[]): Promise<Map<string, PartitionOffsets[]>> {
  const result = new Map<string, PartitionOffsets[]>();
  // Asking metadata for a topic that does not exist fails the whole request: keep to existing ones.
  const existing = new Set(await admin.listTopics());
  topics = topics.filter((t) => existing.has(t));
  if (topics.length === 0) return result;
  const metadata = await admin.metadata({ topics, forceUpdate: true, autocreateTopics: false });
  const request = (timestamp: bigint) =>
    [...metadata.topics.entries()]
      .filter(([name]) => topics.includes(name))
      .map(([name, meta]) => ({
        name,
        partitions: Array.from({ length: meta.partitionsCount }, (_, partitionIndex) => ({
          partitionIndex,
          timestamp,
        })),
      }));
  const req = request(-1n);
  if (req.length === 0) return result;
  const [highs, lows] = await Promise.all([
    admin.listOffsets({ topics: req }),
    admin.listOffsets({ topics: request(-2n) }),
  ]);
  for (const topic of highs) {
    const low = lows.find((t) => t.name === topic.name);
    result.set(
      topic.name,
      topic.partitions
        .map((p) => ({
          partition: p.partitionIndex,
          high: p.offset,
          low: low?.partitions.find((l) => l.partitionIndex === p.partitionIndex)?.offset ?? 0n,
        }))
        .sort((a, b) => a.partition - b.partition),
    );
  }
  return result;
}

/** Number of records currently in a topic (0 when it does not exist). */
export async function countRecords(topic: string, { admin }: { admin?: Admin } = {}): Promise<number> {
  const own = admin ?? createAdmin();
  try {
    const offsets = (await topicOffsets(own, [topic])).get(topic) ?? [];
    return offsets.reduce((sum, p) => sum + Number(p.high - p.low), 0);
  } finally {
    if (!admin) await own.close();
  }
}

/** Counts for every topic whose name starts with one of `prefixes`, sorted by name. */
export async function countTopics(
  admin: Admin,
  prefixes: string[] = ['cdc.', 'clean.', 'dlq.'],
): Promise<TopicCount[]> {
  const all = await admin.listTopics();
  const wanted = all.filter((t) => prefixes.some((p) => t.startsWith(p))).sort();
  const offsets = await topicOffsets(admin, wanted);
  return wanted.map((topic) => {
    const partitions = offsets.get(topic) ?? [];
    return { topic, partitions, records: partitions.reduce((s, p) => s + Number(p.high - p.low), 0) };
  });
}
