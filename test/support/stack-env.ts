// Where the integration tests find the local stack: the same place `bin/ferry stack` puts it
// (deploy/local/config.ts, which honours FERRY_PORT_OFFSET), overridable for a private stack.
import { KAFKA_BOOTSTRAP, REDIS_URL as STACK_REDIS_URL } from '../../deploy/local/config.ts';

export const REDIS_URL = process.env.FERRY_TEST_REDIS_URL ?? STACK_REDIS_URL;
export const KAFKA_BROKERS = (process.env.FERRY_TEST_KAFKA_BROKERS ?? KAFKA_BOOTSTRAP).split(',');
