// Runs a relay in this process with the real adapters (Kafka source, undici senders, Redis dedupe,
// Kafka DLQ writer/reader), from a config document like the YAML file, for the relay integration tests.
import { createUndiciSender } from '../../relay/adapters/http-undici.ts';
import { resolveConfig } from '../../relay/config/load.ts';
import type { Logger } from '../../relay/core/contracts.ts';
import { buildRelay, type RelayRuntime } from '../../relay/index.ts';
import { KAFKA_BROKERS, REDIS_URL } from './stack-env.ts';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>> | undefined;
}

export interface TestRelay {
  readonly runtime: RelayRuntime;
  readonly logs: LogLine[];
  /** Max in-flight deliveries seen per sink (sampled every 10 ms). */
  readonly maxInFlight: Map<string, number>;
  stop(): Promise<void>;
}

export function relayDocument({
  groupId,
  routes,
  extra = {},
}: {
  groupId: string;
  routes: unknown[];
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    kafka: { brokers: KAFKA_BROKERS, groupId },
    redis: { url: REDIS_URL },
    adminToken: 'test-admin-token-0123456789',
    commitInterval: '100ms',
    revokeTimeout: '5s',
    shutdownTimeout: '5s',
    routes,
    ...extra,
  };
}

/** A relay with one route, `topic` to `sinks`, in consumer group `g-<topic>` (deleteTopics removes it). */
export function topicRelayDocument(topic: string, sinks: unknown[]): Record<string, unknown> {
  return relayDocument({ groupId: `g-${topic}`, routes: [{ topics: topic, sinks }] });
}

export async function startTestRelay(
  document: Record<string, unknown>,
  instanceId: string,
): Promise<TestRelay> {
  const result = resolveConfig(document, {});
  if (!result.ok) throw new Error(`bad relay config:\n${result.errors.join('\n')}`);
  const logs: LogLine[] = [];
  const logger: Logger = {
    info: (message, fields) => logs.push({ level: 'info', message, fields }),
    warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
    error: (message, fields) => logs.push({ level: 'error', message, fields }),
  };
  const runtime = await buildRelay({
    config: result.config,
    createSender: (sink) => createUndiciSender({ connections: sink.maxInFlight }),
    logger,
    instanceId,
  });
  const maxInFlight = new Map<string, number>();
  const sampler = setInterval(() => {
    for (const s of runtime.relay.state().sinks)
      maxInFlight.set(s.id, Math.max(maxInFlight.get(s.id) ?? 0, s.inFlight));
  }, 10);
  await runtime.relay.start();
  return {
    runtime,
    logs,
    maxInFlight,
    async stop() {
      clearInterval(sampler);
      await runtime.close(5000);
    },
  };
}

/** True once every partition of the relay's topics has lag 0 (from ferry_consumer_lag_records). */
export function lagIsZero(runtime: RelayRuntime, topic: string, partitions: number): boolean {
  for (let p = 0; p < partitions; p++) {
    if (runtime.metrics.value('ferry_consumer_lag_records', { topic, partition: String(p) }) !== 0)
      return false;
  }
  return true;
}
