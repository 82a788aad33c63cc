// One event id on two keys of one sink, on one instance: the store's claim is re-entrant for its own
// instance, so the core must not send the second while the first is in flight.
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import { createRelay, type Relay } from './relay.ts';

const running: Relay[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop({ deadlineMs: 200 });
});

describe('dedupe on one instance', () => {
  it('delivers an event id once when two keys carry it at the same time', async () => {
    const source = createMemorySource({ batchSize: 10 });
    const metrics = createRegistry();
    // Slow enough that the second key starts while the first request is in flight.
    const api = createScriptedSender(undefined, 50);
    const relay = createRelay({
      config: testConfig({
        routes: [
          {
            topics: 'orders',
            sinks: [
              testSink('api', {
                bulkhead: { maxInFlight: 4, buffer: 10 },
                dedupe: { store: 'memory', lease: '10s' },
              }),
            ],
          },
        ],
      }).relay,
      source,
      senders: { api },
      dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
      dlq: createMemoryDlq(),
      metrics,
      instanceId: 'i1',
    });
    running.push(relay);
    const headers = [{ key: 'ferry-event-id', value: text('evt-same') }];
    source.produce('orders', 0, [
      { key: text('k1'), value: json({ id: 1 }), headers },
      { key: text('k2'), value: json({ id: 1 }), headers },
    ]);
    await relay.start();

    await waitUntil(() => source.committed.get('orders/0') === 2n, 5_000, 'the commit past both records');
    expect(api.requests.map((r) => r.headers['idempotency-key'])).toEqual(['evt-same']);
    expect(metrics.total('ferry_records_delivered_total', { sink: 'api' })).toBe(1);
    expect(metrics.total('ferry_records_deduplicated_total', { sink: 'api' })).toBe(1);
  });
});
