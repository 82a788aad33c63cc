// The long-lived relay's composition root: the Kafka source (or the push source), the dedupe stores
// the sinks use (Redis over TCP, Upstash over HTTP, memory), the Kafka DLQ writer and reader. The rest
// (senders, core relay, app, close) is relay/wiring.ts, shared with the edge root (relay/edge.ts).
// Runtime-specific pieces (which HTTP client, how to serve, signals) come from the entry point.

import { createMemoryDedupeStore } from './adapters/dedupe-memory.ts';
import { createRedisDedupeStore } from './adapters/dedupe-redis.ts';
import { httpDlqWriterFor } from './adapters/dlq-http.ts';
import { createKafkaDlqWriter } from './adapters/dlq-kafka.ts';
import { createKafkaDlqReader } from './adapters/dlq-reader.ts';
import { createKafkaSource } from './adapters/kafka-source.ts';
import type { ClientAddress } from './app/client-address.ts';
import type { RelayConfig } from './config/load.ts';
import type { ConfigReader } from './config-reload.ts';
import type { Logger } from './core/contracts.ts';
import { errorMessage } from './core/errors.ts';
import { createPushSource } from './core/push-source.ts';
import { createRedactor, type Redactor } from './core/redact.ts';
import { createRegistry } from './metrics/registry.ts';
import { configSecrets } from './secrets.ts';
import { type CreateSender, type RelayRuntime, type StoreSet, usedStores, wireRelay } from './wiring.ts';

export {
  type KafkaConnection,
  type KafkaSasl,
  type KafkaTls,
  SASL_MECHANISMS,
  type SaslMechanism,
} from '../wasm/index.ts';
export type { ClientAddress } from './app/client-address.ts';
export { type ConfigEnv, type ConfigResult, parseConfig, type RelayConfig } from './config/load.ts';
export type { Registry } from './metrics/registry.ts';
export type { CreateSender, HttpClientName, RelayRuntime } from './wiring.ts';

/** What buildRelay takes. */
export interface BuildRelayOptions {
  /** A validated config (parseConfig). */
  readonly config: RelayConfig;
  /**
   * One sender per sink, on the client the config asks for (`http.client`, undefined = the runtime's
   * default): on Node undici or fetch, on Deno, Bun and edge fetch.
   */
  readonly createSender: CreateSender;
  /** Where the relay logs. */
  readonly logger: Logger;
  /** This relay instance (default: the config's, else a random one). */
  readonly instanceId?: string;
  /** Scrubs outside text of the config's secrets; built from `config` when not given. */
  readonly redact?: Redactor;
  /** How the runtime reads a request's client address (see app/client-address.ts). */
  readonly clientAddress?: ClientAddress;
  /** Reads the config file again, for reloads (SIGHUP, POST /v1/config/reload); none = no reloads. */
  readonly readConfig?: ConfigReader;
}

/** Builds a relay from a validated config: the source, one sender per sink, dedupe stores, DLQ, metrics and the HTTP app. */
export async function buildRelay({
  config,
  createSender,
  logger,
  instanceId: givenId,
  redact = createRedactor({ secrets: configSecrets(config) }),
  clientAddress,
  readConfig,
}: BuildRelayOptions): Promise<RelayRuntime> {
  const instanceId = givenId ?? config.instanceId ?? `relay-${crypto.randomUUID().slice(0, 8)}`;
  const metrics = createRegistry();
  const topics = [...new Set(config.relay.routes.flatMap((r) => r.topics))];

  const pushSource = config.source === 'push' ? createPushSource() : undefined;
  const source =
    pushSource ??
    createKafkaSource({
      brokers: config.kafka.brokers,
      connection: config.kafka.connection,
      groupId: config.kafka.groupId,
      clientId: `${config.kafka.clientId}-${instanceId}`,
      topics,
      onError: (e) => logger.error('kafka source error', { error: redact(errorMessage(e)) }),
      logger,
      metrics,
    });

  const used = usedStores(config);
  const stores: StoreSet = {};
  if (used.has('redis')) {
    const redis = createRedisDedupeStore({ instanceId, url: config.redis.url });
    stores.redis = redis;
    await redis
      .ready()
      .catch((e: unknown) =>
        logger.warn('redis not reachable at startup', { error: redact(errorMessage(e)) }),
      );
  }
  if (used.has('upstash') && config.upstash) {
    // Loaded only when a sink uses it, so @upstash/redis stays off the load path otherwise.
    const { createUpstashDedupeStore } = await import('./adapters/dedupe-upstash.ts');
    stores.upstash = createUpstashDedupeStore({
      instanceId,
      url: config.upstash.url,
      token: config.upstash.token,
    });
  }
  if (used.has('memory')) stores.memory = createMemoryDedupeStore({ instanceId });

  // dlq.to kafka (default): producer and replay reader on the DLQ topic. http-proxy / url: the edge's
  // HTTP writer, whose envelope records the Kafka reader does not read, so replay answers 501.
  const kafkaDlq = config.dlq.to === 'kafka';
  const dlq = kafkaDlq
    ? createKafkaDlqWriter({
        brokers: config.kafka.brokers,
        connection: config.kafka.connection,
        topic: config.kafka.dlqTopic,
        clientId: `${config.kafka.clientId}-dlq-${instanceId}`,
        logger,
      })
    : httpDlqWriterFor(config);
  const dlqReader = kafkaDlq
    ? createKafkaDlqReader({
        brokers: config.kafka.brokers,
        connection: config.kafka.connection,
        topic: config.kafka.dlqTopic,
        clientId: `${config.kafka.clientId}-replay-${instanceId}`,
      })
    : undefined;

  return wireRelay({
    config,
    instanceId,
    metrics,
    logger,
    redact,
    createSender,
    source,
    pushSource,
    stores,
    dlq,
    dlqReader,
    replayUnsupported: kafkaDlq
      ? undefined
      : `DLQ replay reads Kafka DLQ records; dlq.to is ${config.dlq.to}`,
    clientAddress,
    readConfig,
  });
}
