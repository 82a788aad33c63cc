// Where the integration tests find the local stack (fixed ports; overridable for a private stack).
export const REDIS_URL = process.env.FERRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:16379';
export const KAFKA_BROKERS = (process.env.FERRY_TEST_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
