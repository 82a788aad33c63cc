// Permanent faults through the whole core (memory source, scripted sender, memory DLQ): a malformed
// event id and a request the HTTP client refuses are dead-lettered at once even with
// onExhausted: block, never parked, never counted against the breaker, and the key flows on.
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import type { SinkResponse } from './contracts.ts';
import { createRelay, type Relay } from './relay.ts';

const running: Relay[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop({ deadlineMs: 200 });
});

const enc = new TextEncoder();
const blocking = testSink('api', {
  onExhausted: 'block',
  parkFor: '10m',
  retry: { attempts: 3, backoffBase: '1ms', backoffCap: '2ms' },
  breaker: { threshold: 2, halfOpenAfter: '10m' },
});

function setup(respond: (eventId: string) => SinkResponse) {
  const config = testConfig({ routes: [{ topics: 'orders', sinks: [blocking] }] });
  const source = createMemorySource({ batchSize: 50 });
  const dlq = createMemoryDlq();
  const metrics = createRegistry();
  const api = createScriptedSender((r) => respond(r.headers['idempotency-key'] ?? ''));
  const relay = createRelay({
    config: config.relay,
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

const record = (id: string, seq: number) => ({
  key: text('k1'),
  value: json({ key: 'k1', seq }),
  headers: [{ key: 'ferry-event-id', value: enc.encode(id) }],
});

describe('permanent faults', () => {
  it('dead-letters an event id with CR/LF before any request; the key is not parked and flows on', async () => {
    const { relay, source, dlq, metrics, api } = setup(() => ({ kind: 'response', status: 200 }));
    source.produce('orders', 0, [record('e-bad\r\nx-injected: 1', 0), record('e-1', 1), record('e-2', 2)]);
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 3n, 5000, 'commit of all 3');
    expect(api.requests.map((r) => r.headers['idempotency-key'])).toEqual(['e-1', 'e-2']);
    expect(dlq.records.map((r) => r.reason.code)).toEqual(['FERRY_EVENT_ID_INVALID']);
    expect(dlq.records[0]?.reason.message).toContain('U+000D');
    expect(dlq.records[0]?.reason.attempts).toBe(0);
    expect(metrics.value('ferry_keys_parked_total', { sink: 'api' }) ?? 0).toBe(0);
    expect(metrics.value('ferry_breaker_opened_total', { sink: 'api' }) ?? 0).toBe(0);
  });

  it('dead-letters an over-long event id the same way', async () => {
    const { relay, source, dlq, api } = setup(() => ({ kind: 'response', status: 200 }));
    source.produce('orders', 0, [record(`e-${'x'.repeat(100 * 1024)}`, 0), record('e-1', 1)]);
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 2n, 5000, 'commit of both');
    expect(api.requests).toHaveLength(1);
    expect(dlq.records[0]?.reason.code).toBe('FERRY_EVENT_ID_INVALID');
    expect(dlq.records[0]?.reason.message.length).toBeLessThan(200);
  });

  it('treats a request the client refuses as permanent: one attempt, no park, no breaker failure', async () => {
    const { relay, source, dlq, metrics, api } = setup((id) =>
      id === 'e-0'
        ? { kind: 'invalid-request', message: 'UND_ERR_INVALID_ARG: invalid x header' }
        : { kind: 'response', status: 200 },
    );
    source.produce('orders', 0, [record('e-0', 0), record('e-1', 1), record('e-2', 2)]);
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 3n, 5000, 'commit of all 3');
    expect(api.requests.map((r) => r.headers['idempotency-key'])).toEqual(['e-0', 'e-1', 'e-2']);
    expect(dlq.records.map((r) => [r.reason.code, r.reason.attempts])).toEqual([
      ['FERRY_REQUEST_INVALID', 1],
    ]);
    expect(metrics.value('ferry_keys_parked_total', { sink: 'api' }) ?? 0).toBe(0);
    expect(metrics.value('ferry_retries_total', { sink: 'api' }) ?? 0).toBe(0);
    expect(relay.state().sinks[0]?.mode).toBe('running');
  });
});
