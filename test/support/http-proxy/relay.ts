// A relay core pulling through the test HTTP Proxy, with the adapters an edge host would use where the
// stack has them: the HTTP Proxy source, the fetch sender, Redis dedupe (real Redis) and the Kafka DLQ
// writer. `produceClean` writes records shaped like clean events (`eventId` in the value; the proxy
// drops headers) so the mock API's ledger can account for every one by `<run>-<i>`.
import { Producer } from '@platformatic/kafka';
import { createRedisDedupeStore } from '../../../relay/adapters/dedupe-redis.ts';
import { createKafkaDlqWriter } from '../../../relay/adapters/dlq-kafka.ts';
import { createFetchSender } from '../../../relay/adapters/http-fetch.ts';
import {
  createHttpProxyClient,
  createHttpProxySource,
  type DrainReport,
  type HttpProxySource,
  type ProxyAuth,
} from '../../../relay/adapters/http-proxy/index.ts';
import { resolveConfig } from '../../../relay/config/load.ts';
import type { Logger } from '../../../relay/core/contracts.ts';
import { createRelay, type Relay } from '../../../relay/core/relay.ts';
import { createRegistry } from '../../../relay/metrics/registry.ts';
import { committedOffsets, readTopic } from '../kafka.ts';
import type { MockApi } from '../mock-api/index.ts';
import { KAFKA_BROKERS, REDIS_URL } from '../stack-env.ts';

export interface ProxyRelay {
  readonly relay: Relay;
  readonly source: HttpProxySource;
  readonly logs: Array<{ level: string; message: string; fields?: Readonly<Record<string, unknown>> }>;
  drain(options?: { budgetMs?: number; maxRecords?: number; maxInFlight?: number }): Promise<DrainReport>;
  stop(): Promise<void>;
}

export async function startProxyRelay({
  proxyUrl,
  topic,
  group,
  sinkUrl,
  instanceId,
  auth,
  sink = {},
}: {
  proxyUrl: string;
  topic: string;
  group: string;
  sinkUrl: string;
  instanceId: string;
  auth?: ProxyAuth;
  sink?: Record<string, unknown>;
}): Promise<ProxyRelay> {
  const resolved = resolveConfig(
    {
      commitInterval: '100ms',
      revokeTimeout: '500ms',
      shutdownTimeout: '2s',
      routes: [
        {
          topics: topic,
          sinks: [
            {
              id: 'api',
              url: sinkUrl,
              timeout: '2s',
              retry: { attempts: 3, backoffBase: '20ms', backoffCap: '100ms' },
              breaker: { threshold: 20, halfOpenAfter: '200ms' },
              dedupe: { store: 'redis', lease: '5s' },
              ...sink,
            },
          ],
        },
      ],
    },
    {},
  );
  if (!resolved.ok) throw new Error(`bad relay config:\n${resolved.errors.join('\n')}`);
  const logs: ProxyRelay['logs'] = [];
  const logger: Logger = {
    info: (message, fields) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    error: (message, fields) => logs.push({ level: 'error', message, fields }),
  };
  const source = createHttpProxySource({
    client: createHttpProxyClient({ url: proxyUrl, auth }),
    group,
    topics: [topic],
    instanceName: `ferry-${instanceId}`,
    fetchTimeoutMs: 100,
    logger,
  });
  const dedupe = createRedisDedupeStore({ instanceId, url: REDIS_URL });
  const dlq = createKafkaDlqWriter({
    brokers: KAFKA_BROKERS,
    topic: `dlq-${topic}`,
    clientId: `dlq-${instanceId}`,
  });
  const sender = createFetchSender();
  const relay = createRelay({
    config: resolved.config.relay,
    source,
    senders: { api: sender },
    dedupe: { redis: dedupe },
    dlq,
    metrics: createRegistry(),
    instanceId,
    logger,
  });
  await relay.start();
  return {
    relay,
    source,
    logs,
    drain: ({ budgetMs = 20_000, maxRecords = 100_000, maxInFlight } = {}) =>
      source.drain({ budgetMs, maxRecords, maxInFlight, flush: () => relay.commitNow() }),
    async stop() {
      await relay.stop({ deadlineMs: 1000 });
      await Promise.allSettled([sender.close(), dedupe.close(), dlq.close()]);
    },
  };
}

/** Clean-event-shaped records `<run>-<from>` … on `keys` keys: `{ eventId, key, seq, i }`. */
export async function produceClean(
  topic: string,
  { run, from = 0, count, keys = 20 }: { run: string; from?: number; count: number; keys?: number },
): Promise<void> {
  const producer = new Producer({
    clientId: 'ferry-test-clean-producer',
    bootstrapBrokers: KAFKA_BROKERS,
    idempotent: true,
    acks: -1,
  });
  try {
    for (let start = from; start < from + count; start += 500) {
      const messages = [];
      for (let i = start; i < Math.min(from + count, start + 500); i++) {
        const key = `k${i % keys}`;
        messages.push({
          topic,
          key: Buffer.from(key),
          value: Buffer.from(JSON.stringify({ eventId: `${run}-${i}`, key, seq: Math.floor(i / keys), i })),
        });
      }
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
}

/**
 * Records (`partition@offset`, at most 10) below the group's committed offsets whose clean event the
 * API's endpoint never applied: empty when no commit passed a record that is not terminal.
 */
export async function committedNotApplied(
  api: MockApi,
  {
    endpoint,
    group,
    topic,
    partitions,
  }: { endpoint: string; group: string; topic: string; partitions: number },
): Promise<string[]> {
  const committed = await committedOffsets(group, topic, partitions);
  const applied = new Set(api.ledger(endpoint).appliedKeys);
  const past: string[] = [];
  for (const r of await readTopic(topic)) {
    const id = (JSON.parse(r.value ?? '{}') as { eventId?: string }).eventId ?? '';
    if (r.offset < (committed.get(r.partition) ?? -1n) && !applied.has(id))
      past.push(`${r.partition}@${r.offset}`);
  }
  return past.slice(0, 10);
}
