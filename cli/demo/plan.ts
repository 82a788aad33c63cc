// What the demo wires: one transform per entity, and the sinks (mock external APIs) that want each
// clean topic, some of them with faults so that retries, the breaker and the DLQ have work to do.
import type { EndpointConfig } from '../../test/support/mock-api/core.ts';
import type { FaultSpec } from '../../test/support/mock-api/faults.ts';
import type { OrderOptions } from '../../test/support/mock-api/ledger.ts';

export const ENTITIES = ['shipments', 'trailers', 'loads'] as const;
export type Entity = (typeof ENTITIES)[number];

export interface DemoSink {
  /** Sink id in the relay and endpoint name at the mock API. */
  readonly id: string;
  readonly entity: Entity;
  readonly faults?: FaultSpec;
}

export const SINKS: readonly DemoSink[] = [
  { id: 'tms', entity: 'shipments', faults: { latency: { kind: 'normal', meanMs: 4, stdDevMs: 2 } } },
  // Flaky: one answer in twenty is a 503, which the relay retries with backoff.
  { id: 'billing', entity: 'shipments', faults: { errorRate: 0.05, errorStatus: 503 } },
  // Throttles now and then: 429 with Retry-After, honoured by the relay.
  { id: 'yard', entity: 'trailers', faults: { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } } },
  // Rejects its first three requests with a 400: permanent, so they go to dlq.relay.
  { id: 'planning', entity: 'loads', faults: { fixed: { status: 400, count: 3 } } },
];

/**
 * Where a clean event carries its ordering key and sequence: the row id and the change's LSN. The mock
 * API checks per-key order and duplicate applications (the same id and LSN applied under two
 * idempotency keys) on these fields; its defaults (`key`/`seq`) are absent from clean events.
 */
export const CLEAN_EVENT_ORDER: OrderOptions = { keyField: 'id', seqField: 'lsn' };

/** The mock API endpoints the demo's sinks call, with the duplicate and order checks on clean events. */
export function demoMockEndpoints(): EndpointConfig[] {
  return SINKS.map((s) => ({ name: s.id, order: CLEAN_EVENT_ORDER }));
}

export function demoRelayConfig({
  runId,
  apiUrl,
  brokers,
  redisUrl,
  adminToken = crypto.randomUUID(),
}: {
  runId: string;
  apiUrl: string;
  brokers: string;
  redisUrl: string;
  /** The console's and admin API's token: random per run unless given. */
  adminToken?: string;
}): string {
  const sink = (s: DemoSink) => `
      - id: ${s.id}
        url: ${apiUrl}/${s.id}/${s.entity}
        timeout: 2s
        retry: { attempts: 6, backoffBase: 50ms, backoffCap: 2s, jitter: full }
        breaker: { mode: consecutive, threshold: 20, halfOpenAfter: 2s }
        bulkhead: { maxInFlight: 32, buffer: 2000 }
        dedupe: { store: redis, ttl: 1h, lease: 30s, onUnavailable: block }`;
  const routes = ENTITIES.map(
    (entity) => `
  - name: ${entity}
    topics: [clean.${entity}]
    sinks:${SINKS.filter((s) => s.entity === entity)
      .map(sink)
      .join('')}`,
  ).join('');
  return `
instanceId: demo-${runId}
adminToken: ${JSON.stringify(adminToken)}
kafka:
  brokers: ["${brokers}"]
  groupId: ferry-demo-relay-${runId}
  clientId: ferry-demo-relay
  dlqTopic: dlq.relay
redis: { url: "${redisUrl}" }
commitInterval: 500ms
routes:${routes}
`;
}
