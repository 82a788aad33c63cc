// Wires a relay from its config: the Kafka source, one HTTP sender per sink, the dedupe stores the
// sinks use, the Kafka DLQ writer and reader, a metrics registry, and the Hono app. Runtime-specific
// pieces (which HTTP client, how to serve, signals) come from the entry point.

import { createMemoryDedupeStore } from './adapters/dedupe-memory.ts';
import { createRedisDedupeStore } from './adapters/dedupe-redis.ts';
import { createKafkaDlqWriter } from './adapters/dlq-kafka.ts';
import { createKafkaDlqReader } from './adapters/dlq-reader.ts';
import { createKafkaSource } from './adapters/kafka-source.ts';
import { createApp } from './app/app.ts';
import type { ClientAddress } from './app/client-address.ts';
import type { RelayConfig } from './config/load.ts';
import { type ConfigReader, createConfigReloader } from './config-reload.ts';
import { createSystemClock } from './core/clock.ts';
import type { DedupeStore, HttpSender, Logger } from './core/contracts.ts';
import { errorMessage } from './core/errors.ts';
import type { SinkOptions } from './core/options.ts';
import { createPushSource } from './core/push-source.ts';
import { createRedactor, type Redactor } from './core/redact.ts';
import { redactingDlq } from './core/redacting.ts';
import { createRelay, type DedupeStores, type Relay, type ReloadResult } from './core/relay.ts';
import { createRegistry, type Registry } from './metrics/registry.ts';
import { configSecrets } from './secrets.ts';

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

/** A relay built from a config, with its HTTP app and metrics. */
export interface RelayRuntime {
  /** The relay. */
  readonly relay: Relay;
  /** Applies the config file's routes again (config-reload.ts); refused when there is no file to read. */
  reloadConfig(): Promise<ReloadResult>;
  /** The Hono app: health, readiness, metrics, admin API, push endpoint. */
  readonly app: ReturnType<typeof createApp>;
  /** The metrics registry. */
  readonly metrics: Registry;
  /** This relay instance. */
  readonly instanceId: string;
  /** Stops the relay (graceful, within the deadline) and closes every adapter. */
  close(deadlineMs?: number): Promise<void>;
}

/** The HTTP clients a sink can send with. */
export type HttpClientName = 'undici' | 'fetch';

/** What buildRelay takes. */
export interface BuildRelayOptions {
  /** A validated config (parseConfig). */
  readonly config: RelayConfig;
  /**
   * One sender per sink, on the client the config asks for (`http.client`, undefined = the runtime's
   * default): on Node undici or fetch, on Deno, Bun and edge fetch.
   */
  readonly createSender: (sink: SinkOptions, client: HttpClientName | undefined) => HttpSender;
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
  const clock = createSystemClock();
  const metrics = createRegistry();
  const sinks = config.relay.routes.flatMap((r) => r.sinks);
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

  const used = new Set(sinks.filter((s) => s.dedupe.enabled).map((s) => s.dedupe.store));
  const stores: { redis?: DedupeStore; upstash?: DedupeStore; memory?: DedupeStore } = {};
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

  const kafkaDlq = createKafkaDlqWriter({
    brokers: config.kafka.brokers,
    connection: config.kafka.connection,
    topic: config.kafka.dlqTopic,
    clientId: `${config.kafka.clientId}-dlq-${instanceId}`,
    logger,
  });
  // Reasons carry what sinks and clients said: scrubbed on the way to `ferry-error-message`.
  const dlq = redactingDlq(kafkaDlq, redact);
  const dlqReader = createKafkaDlqReader({
    brokers: config.kafka.brokers,
    connection: config.kafka.connection,
    topic: config.kafka.dlqTopic,
    clientId: `${config.kafka.clientId}-replay-${instanceId}`,
  });

  const senders = new Map<string, HttpSender>();
  for (const sink of sinks) senders.set(sink.id, createSender(sink, config.http.client));

  const relay = createRelay({
    config: config.relay,
    source,
    senders: Object.fromEntries(senders),
    dedupe: stores as DedupeStores,
    dlq,
    metrics,
    clock,
    instanceId,
    logger,
    redact,
  });
  const reloadedSenders: HttpSender[] = [];
  const reloader = readConfig
    ? createConfigReloader({
        initial: config,
        read: readConfig,
        relay,
        createSender: (sink, next) => {
          const sender = createSender(sink, next.http.client);
          // Closed with the others at shutdown (a replaced lane may still be using the old one).
          reloadedSenders.push(sender);
          return sender;
        },
      })
    : undefined;
  const reloadConfig = async (): Promise<ReloadResult> => {
    if (!reloader) return { ok: false, errors: ['this relay was not started from a config file'] };
    const result = await reloader.reload();
    if (result.ok) logger.info('config reloaded', { ...result.summary });
    else logger.warn('config reload refused; the running config stays', { errors: result.errors });
    return result;
  };
  const app = createApp({
    relay,
    metrics,
    adminToken: config.adminToken,
    dlqReader,
    clock,
    replayPerSecond: config.replayPerSecond,
    push: pushSource ? { source: pushSource, ...config.push, token: config.push?.token } : undefined,
    clientAddress,
    logger,
    reloadConfig: reloader ? reloadConfig : undefined,
  });

  let closing: Promise<void> | undefined;
  return {
    relay,
    reloadConfig,
    app,
    metrics,
    instanceId,
    close(deadlineMs = config.relay.shutdownTimeoutMs) {
      closing ??= (async () => {
        await relay.stop({ deadlineMs });
        const closes: Array<Promise<unknown>> = [
          dlq.close(),
          dlqReader.close(),
          ...[...senders.values(), ...reloadedSenders].map((s) => s.close()),
        ];
        for (const store of Object.values(stores)) closes.push(store.close());
        const results = await Promise.allSettled(closes);
        for (const r of results)
          if (r.status === 'rejected') logger.warn('close failed', { error: redact(errorMessage(r.reason)) });
      })();
      return closing;
    },
  };
}
