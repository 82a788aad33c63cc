// The relay's adapters, for a program that wires its own relay (relay/index.ts wires them from a
// config): HTTP senders (undici, fetch), the Kafka source, dedupe stores (Redis, Upstash, memory),
// the Kafka DLQ writer and reader.
export {
  createMemoryDedupeStore,
  type MemoryDedupeOptions,
  type MemoryDedupeStore,
  type MemoryDedupeTable,
} from './dedupe-memory.ts';
export { createRedisDedupeStore, type RedisDedupeOptions, type RedisDedupeStore } from './dedupe-redis.ts';
export { createUpstashDedupeStore, type UpstashDedupeOptions } from './dedupe-upstash.ts';
export { createKafkaDlqWriter, type KafkaDlqWriterOptions } from './dlq-kafka.ts';
export { createKafkaDlqReader, type KafkaDlqReaderOptions } from './dlq-reader.ts';
export { createFetchSender, type FetchSenderOptions } from './http-fetch.ts';
export { createUndiciSender, type UndiciSenderOptions } from './http-undici.ts';
export { createKafkaSource, type KafkaSource, type KafkaSourceOptions } from './kafka-source.ts';
