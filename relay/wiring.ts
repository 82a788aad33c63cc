// The wiring every composition root shares: given the runtime pieces a root chose (a source, the
// dedupe stores, a DLQ writer and maybe a reader), it builds one HTTP sender per sink, the core relay,
// the Hono app, and a close() that stops the relay and then every piece. The roots differ only in the
// pieces: relay/index.ts (long-lived: Kafka, Redis, Kafka DLQ) and relay/edge.ts (edge: push or HTTP
// pull, Upstash, DLQ over HTTP).
import { createApp } from './app/app.ts';
import type { ClientAddress } from './app/client-address.ts';
import type { RelayConfig } from './config/load.ts';
import { type ConfigReader, createConfigReloader } from './config-reload.ts';
import { createSystemClock } from './core/clock.ts';
import type { DedupeStore, DlqReader, DlqWriter, HttpSender, Logger, Source } from './core/contracts.ts';
import { errorMessage } from './core/errors.ts';
import type { SinkOptions } from './core/options.ts';
import type { PushSource } from './core/push-source.ts';
import type { Redactor } from './core/redact.ts';
import { redactingDlq } from './core/redacting.ts';
import { createRelay, type DedupeStores, type Relay, type ReloadResult } from './core/relay.ts';
import type { Registry } from './metrics/registry.ts';

export interface RelayRuntime {
  readonly relay: Relay;
  /** Applies the config file's routes again (config-reload.ts); refused when there is no file to read. */
  reloadConfig(): Promise<ReloadResult>;
  readonly app: ReturnType<typeof createApp>;
  readonly metrics: Registry;
  readonly instanceId: string;
  /** Stops the relay (graceful, within the deadline) and closes every adapter. */
  close(deadlineMs?: number): Promise<void>;
}

export type HttpClientName = 'undici' | 'fetch';

/** Makes one sender per sink, on the client the config asks for (undefined = the runtime's default). */
export type CreateSender = (sink: SinkOptions, client: HttpClientName | undefined) => HttpSender;

/** The dedupe stores the enabled sinks use, by name. */
export type StoreSet = { redis?: DedupeStore; upstash?: DedupeStore; memory?: DedupeStore };

export interface WireOptions {
  readonly config: RelayConfig;
  readonly instanceId: string;
  readonly metrics: Registry;
  readonly logger: Logger;
  readonly redact: Redactor;
  readonly createSender: CreateSender;
  readonly source: Source;
  /** Set when the source is the push source: the app then serves /push/batches. */
  readonly pushSource?: PushSource | undefined;
  readonly stores: StoreSet;
  /** Raw writer; wrapped here so reasons are scrubbed on the way to `ferry-error-message`. */
  readonly dlq: DlqWriter;
  /** Without one, POST /v1/dlq/replay answers 501 with `replayUnsupported`. */
  readonly dlqReader?: DlqReader | undefined;
  readonly replayUnsupported?: string | undefined;
  readonly clientAddress?: ClientAddress | undefined;
  /** Reads the config file again, for reloads (SIGHUP, POST /v1/config/reload); none = no reloads. */
  readonly readConfig?: ConfigReader | undefined;
}

/** The stores the config's enabled sinks use. */
export function usedStores(config: RelayConfig): Set<'redis' | 'upstash' | 'memory'> {
  const sinks = config.relay.routes.flatMap((r) => r.sinks);
  return new Set(sinks.filter((s) => s.dedupe.enabled).map((s) => s.dedupe.store));
}

export function wireRelay({
  config,
  instanceId,
  metrics,
  logger,
  redact,
  createSender,
  source,
  pushSource,
  stores,
  dlq: rawDlq,
  dlqReader,
  replayUnsupported,
  clientAddress,
  readConfig,
}: WireOptions): RelayRuntime {
  const clock = createSystemClock();
  const sinks = config.relay.routes.flatMap((r) => r.sinks);
  // Reasons carry what sinks and clients said: scrubbed on the way to `ferry-error-message`.
  const dlq = redactingDlq(rawDlq, redact);
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
    replayUnsupported,
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
          ...[...senders.values(), ...reloadedSenders].map((s) => s.close()),
        ];
        if (dlqReader) closes.push(dlqReader.close());
        for (const store of Object.values(stores)) closes.push(store.close());
        const results = await Promise.allSettled(closes);
        for (const r of results)
          if (r.status === 'rejected') logger.warn('close failed', { error: redact(errorMessage(r.reason)) });
      })();
      return closing;
    },
  };
}
