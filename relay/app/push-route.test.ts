import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createSystemClock } from '../core/clock.ts';
import { createPushSource } from '../core/push-source.ts';
import { createRelay, type Relay } from '../core/relay.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender } from '../testing/fakes.ts';
import { createApp } from './app.ts';

const TOKEN = 'push-token-0123456789';
const relays: Relay[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop({ deadlineMs: 100 });
});

async function setup() {
  const api = createScriptedSender(() => ({ kind: 'response', status: 200 }), 2);
  const source = createPushSource();
  const dlq = createMemoryDlq();
  const metrics = createRegistry();
  const relay = createRelay({
    config: testConfig({
      routes: [{ topics: 'orders', sinks: [testSink('api', { bulkhead: { maxInFlight: 4, buffer: 4 } })] }],
    }).relay,
    source,
    senders: { api },
    dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
    dlq,
    metrics,
    instanceId: 'i1',
  });
  relays.push(relay);
  const app = createApp({
    relay,
    metrics,
    adminToken: undefined,
    clock: createSystemClock(),
    push: { source, token: TOKEN, timeoutMs: 5000 },
  });
  await relay.start();
  const push = (records: unknown[], token = TOKEN) =>
    app.request('/push/batches', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records }),
    });
  return { api, dlq, push, source, relay };
}

const rec = (offset: number, extra: Record<string, unknown> = {}) => ({
  topic: 'orders',
  partition: 0,
  offset,
  key: `k${offset % 3}`,
  value: { id: offset },
  ...extra,
});

describe('HTTP push source', () => {
  it('answers once every record of the batch is terminal, and a re-push is acknowledged without re-delivery', async () => {
    const { api, dlq, push } = await setup();
    const batch = [
      rec(0),
      rec(1),
      rec(2, { valueText: '{oops' }),
      rec(3, { headers: { 'ferry-event-id': 'evt-3' } }),
    ];
    const res = await push(batch);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'committed', accepted: 4, alreadyDone: 0 });
    expect(api.requests).toHaveLength(3);
    expect(api.requests.map((r) => r.headers['idempotency-key'])).toContain('evt-3');
    expect(dlq.records.map((d) => d.reason.code)).toEqual(['FERRY_RECORD_UNPARSEABLE']);
    const again = await push(batch);
    expect(await again.json()).toMatchObject({ status: 'committed', alreadyDone: 4 });
    expect(api.requests).toHaveLength(3);
  });

  it('rejects bad tokens, bad batches and offsets that go backwards; says 429 while a sink is full', async () => {
    const { push, relay } = await setup();
    expect((await push([rec(0)], 'wrong-token-0123456789')).status).toBe(401);
    expect((await push([{ topic: 'orders' }])).status).toBe(400);
    expect((await push([rec(5), rec(4)])).status).toBe(400);
    relay.pauseSink('api');
    const pending = push(Array.from({ length: 10 }, (_, i) => rec(i)));
    // Wait for the condition (the relay paused the partition: the sink's buffer is full), not a fixed time.
    const deadline = Date.now() + 10_000;
    while (!relay.state().partitions.some((p) => p.paused)) {
      if (Date.now() > deadline) throw new Error('the partition was never paused');
      await new Promise((r) => setTimeout(r, 10));
    }
    const busy = await push([rec(20)]);
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('1');
    relay.resumeSink('api');
    expect((await pending).status).toBe(200);
    expect((await push([rec(20)])).status).toBe(200);
  });
});
