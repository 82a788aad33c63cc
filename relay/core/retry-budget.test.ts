// A record's retry budget across breaker requeues (onOpen: pause). The breaker's half-open delay is
// cockatiel's own (Date.now), so these run on the system clock and wait on conditions with a deadline.
// The half-open delay (50 ms) is far above the retry backoff (at most 2 ms), so the retry after a
// failure that opens the breaker meets the open breaker, as it does in production (seconds vs ms).
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import type { SinkResponse } from './contracts.ts';
import { createRelay, type Relay } from './relay.ts';

const unavailable: SinkResponse = { kind: 'response', status: 503, body: 'down' };

const running: Relay[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop({ deadlineMs: 200 });
});

function setup(sink: Record<string, unknown>, respond: () => SinkResponse = () => unavailable) {
  const source = createMemorySource({ batchSize: 10 });
  const dlq = createMemoryDlq();
  const metrics = createRegistry();
  const api = createScriptedSender(respond);
  const relay = createRelay({
    config: testConfig({
      routes: [
        {
          topics: 'orders',
          sinks: [
            testSink('api', {
              onOpen: 'pause',
              retry: { attempts: 2, backoffBase: '1ms', backoffCap: '2ms' },
              breaker: { threshold: 1, halfOpenAfter: '50ms' },
              ...sink,
            }),
          ],
        },
      ],
    }).relay,
    source,
    senders: { api },
    dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
    dlq,
    metrics,
    instanceId: 'i1',
  });
  running.push(relay);
  return { relay, source, dlq, metrics, api };
}

describe('retry budget with the breaker pausing the sink', () => {
  it('dead-letters a record that always fails after retry.attempts, though each failure reopens the breaker', async () => {
    const { relay, source, dlq, metrics, api } = setup({ onExhausted: 'deadletter' });
    source.produce('orders', 0, [{ key: text('k'), value: json({ id: 1 }) }]);
    await relay.start();

    await waitUntil(() => source.committed.get('orders/0') === 1n, 2_000, 'the commit past the record');
    expect(dlq.records).toHaveLength(1);
    const reason = dlq.records[0]?.reason;
    expect(reason?.code).toBe('FERRY_RETRIES_EXHAUSTED');
    expect(reason?.attempts).toBe(2);
    expect(reason?.message).toContain('503');
    // The first attempt, then the half-open probe: two requests in all, not one per breaker opening.
    expect(api.requests).toHaveLength(2);
    expect(metrics.total('ferry_retries_exhausted_total', { sink: 'api' })).toBe(1);
  });

  it('spends the budget once over three attempts with threshold 2, then the next record probes', async () => {
    let calls = 0;
    // Three 503s (the first record's whole budget), then the API is back.
    const { relay, source, dlq, api } = setup(
      {
        onExhausted: 'deadletter',
        retry: { attempts: 3, backoffBase: '1ms', backoffCap: '2ms' },
        breaker: { threshold: 2, halfOpenAfter: '50ms' },
      },
      () => (++calls <= 3 ? unavailable : { kind: 'response', status: 200 }),
    );
    source.produce('orders', 0, [
      { key: text('k'), value: json({ id: 1 }) },
      { key: text('k'), value: json({ id: 2 }) },
    ]);
    await relay.start();

    await waitUntil(() => source.committed.get('orders/0') === 2n, 2_000, 'the commit past both records');
    expect(dlq.records.map((d) => [d.record.offset, d.reason.attempts])).toEqual([[0n, 3]]);
    expect(api.requests).toHaveLength(4);
    expect(relay.state().sinks[0]?.breaker).toBe('closed');
  });

  it('parks the key (onExhausted: block) once the budget is spent, and tries again with a fresh one after the park', async () => {
    let calls = 0;
    // Two 503s spend the first budget; the retry after the park succeeds.
    const { relay, source, dlq, metrics, api } = setup({ onExhausted: 'block', parkFor: '20ms' }, () =>
      ++calls <= 2 ? unavailable : { kind: 'response', status: 200 },
    );
    source.produce('orders', 0, [{ key: text('k'), value: json({ id: 1 }) }]);
    await relay.start();

    await waitUntil(() => source.committed.get('orders/0') === 1n, 2_000, 'the commit past the record');
    expect(dlq.records).toEqual([]);
    expect(metrics.total('ferry_keys_parked_total', { sink: 'api' })).toBe(1);
    expect(metrics.total('ferry_records_delivered_total', { sink: 'api' })).toBe(1);
    expect(api.requests).toHaveLength(3);
  });
});
