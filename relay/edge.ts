// The edge relay's composition root (Cloudflare Workers, Deno Deploy): records arrive on
// POST /push/batches (the push source) or are pulled from Redpanda's HTTP Proxy in bounded drains on
// a schedule (`source: http-proxy`), dedupe runs on Upstash over HTTP (or in memory: per isolate,
// for tests), and dead letters go through Redpanda's HTTP Proxy produce API or to a DLQ sink URL.
// Every piece speaks web fetch: nothing here imports a Kafka client, ioredis, node:* or the file
// system (a test checks the bundle's import graph). The rest of the wiring is relay/wiring.ts, shared
// with the long-lived root (relay/index.ts).
//
// DLQ replay needs a reader of the DLQ topic; the edge has none, so POST /v1/dlq/replay answers 501
// and says to replay from a long-lived relay.
import { createMemoryDedupeStore, type MemoryDedupeTable } from './adapters/dedupe-memory.ts';
import { createUpstashDedupeStore } from './adapters/dedupe-upstash.ts';
import { httpDlqWriterFor } from './adapters/dlq-http.ts';
import { createFetchSender } from './adapters/http-fetch.ts';
import {
  type DrainReport,
  type HttpProxySource,
  httpProxySourceFromConfig,
} from './adapters/http-proxy/index.ts';
import type { ClientAddress } from './app/client-address.ts';
import type { RelayConfig } from './config/load.ts';
import type { Logger } from './core/contracts.ts';
import { createPushSource } from './core/push-source.ts';
import { createRedactor, type Redactor } from './core/redact.ts';
import { createRegistry, type Registry } from './metrics/registry.ts';
import { configSecrets } from './secrets.ts';
import { type RelayRuntime, type StoreSet, usedStores, wireRelay } from './wiring.ts';

export { type ConfigResult, parseConfig, type RelayConfig } from './config/load.ts';
export type { RelayRuntime } from './wiring.ts';

export const EDGE_REPLAY_UNSUPPORTED =
  'DLQ replay is not available on the edge relay (it has no DLQ reader): replay from a long-lived relay (ferry relay replay)';

/** `path: problem` lines for settings the edge relay cannot honour (beside the schema's own checks). */
export function edgeConfigProblems(config: RelayConfig): string[] {
  const out: string[] = [];
  if (config.source === 'kafka')
    out.push('source: kafka needs a long-lived process; the edge relay takes source: push or http-proxy');
  const stores = usedStores(config);
  if (stores.has('redis'))
    out.push('dedupe.store: redis needs a TCP connection; on the edge use upstash (or memory, per isolate)');
  if (config.dlq.to === 'kafka')
    out.push('dlq.to: kafka needs a Kafka client; on the edge use http-proxy (Redpanda HTTP Proxy) or url');
  if (config.http.client === 'undici')
    out.push('http.client: undici is not available on the edge (use fetch)');
  return out;
}

/** The edge relay: with `source: http-proxy`, `drain` runs one bounded pull (the cron's job). */
export interface EdgeRelayRuntime extends RelayRuntime {
  readonly drain?: (() => Promise<DrainReport>) | undefined;
}

export interface BuildEdgeRelayOptions {
  readonly config: RelayConfig;
  readonly logger: Logger;
  readonly instanceId?: string | undefined;
  /**
   * The deployment slot's stable id, naming the HTTP Proxy consumer instance (`<prefix>-<slot>`) so a
   * drain takes over what a crashed one left; two Workers on one group need two slots. Default: the
   * instance id.
   */
  readonly slot?: string | undefined;
  /** Scrubs outside text of the config's secrets; built from `config` when not given. */
  readonly redact?: Redactor;
  readonly clientAddress?: ClientAddress | undefined;
  /** Shared by the relays one isolate builds (one per request on Workers), so counters add up. */
  readonly metrics?: Registry;
  /** The memory store's table, shared by the relays one isolate builds (memory dedupe is per isolate). */
  readonly memoryTable?: MemoryDedupeTable;
  /** The runtime's fetch (default: the global one, called unbound as Workers require). */
  readonly fetch?: typeof globalThis.fetch;
}

/** Builds the edge relay; throws when edgeConfigProblems(config) is not empty. */
export function buildEdgeRelay({
  config,
  logger,
  instanceId: givenId,
  redact = createRedactor({ secrets: configSecrets(config) }),
  clientAddress,
  metrics = createRegistry(),
  memoryTable,
  fetch: doFetch = (input, init) => fetch(input, init),
  slot,
}: BuildEdgeRelayOptions): EdgeRelayRuntime {
  const problems = edgeConfigProblems(config);
  if (problems.length > 0) throw new Error(`config not usable on the edge: ${problems.join('; ')}`);
  const instanceId = givenId ?? config.instanceId ?? `edge-${crypto.randomUUID().slice(0, 8)}`;
  const topics = [...new Set(config.relay.routes.flatMap((r) => r.topics))];
  const pushSource = config.source === 'push' ? createPushSource() : undefined;
  const pullSource: HttpProxySource | undefined =
    config.source === 'http-proxy' && config.httpProxy
      ? httpProxySourceFromConfig(config.httpProxy, {
          topics,
          instanceId: slot ?? instanceId,
          fetch: doFetch,
          logger,
        })
      : undefined;
  const source = pushSource ?? pullSource;
  if (!source) throw new Error('config not usable on the edge: no push or http-proxy source');

  const used = usedStores(config);
  const stores: StoreSet = {};
  if (used.has('upstash') && config.upstash)
    stores.upstash = createUpstashDedupeStore({
      instanceId,
      url: config.upstash.url,
      token: config.upstash.token,
    });
  if (used.has('memory'))
    stores.memory = createMemoryDedupeStore(
      memoryTable ? { instanceId, table: memoryTable } : { instanceId },
    );

  const dlq = httpDlqWriterFor(config, doFetch);

  const runtime = wireRelay({
    config,
    instanceId,
    metrics,
    logger,
    redact,
    createSender: () => createFetchSender({ fetch: doFetch, redact }),
    source,
    pushSource,
    stores,
    dlq,
    replayUnsupported: EDGE_REPLAY_UNSUPPORTED,
    clientAddress,
  });
  const proxy = config.httpProxy;
  const drain =
    pullSource && proxy
      ? () =>
          pullSource.drain({
            budgetMs: proxy.drainBudgetMs,
            maxRecords: proxy.drainMaxRecords,
            maxInFlight: proxy.drainMaxInFlight,
            flush: () => runtime.relay.commitNow(),
          })
      : undefined;
  return { ...runtime, drain };
}
