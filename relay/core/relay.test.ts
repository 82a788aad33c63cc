import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore, createMemoryDedupeTable } from '../adapters/dedupe-memory.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import type { DedupeStore, SinkRequest, SinkResponse } from './contracts.ts';
import { parseDeadLetter } from './dlq-headers.ts';
import { createRelay, type Relay } from './relay.ts';

const dec = new TextDecoder();
const bodyOf = (r: SinkRequest) =>
  JSON.parse(typeof r.body === 'string' ? r.body : dec.decode(r.body as Uint8Array));
const ok: SinkResponse = { kind: 'response', status: 200 };

const running: Relay[] = [];
const registries = new Map<Relay, ReturnType<typeof createRegistry>>();
const metricsOf = (relay: Relay) => registries.get(relay);
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop({ deadlineMs: 200 });
});

/**
 * A relay on a memory source, memory DLQ and memory dedupe store (instance i1). `autoStop: false` for
 * tests that stop it themselves (it is otherwise stopped after the test).
 */
function setup(
  document: Record<string, unknown>,
  senders: Record<string, ReturnType<typeof createScriptedSender>>,
  { store, autoStop = true }: { store?: DedupeStore; autoStop?: boolean } = {},
) {
  const config = testConfig(document);
  const source = createMemorySource({ batchSize: 50 });
  const dlq = createMemoryDlq();
  const metrics = createRegistry();
  const memory = store ?? createMemoryDedupeStore({ instanceId: 'i1' });
  const relay = createRelay({
    config: config.relay,
    source,
    senders,
    dedupe: { memory },
    dlq,
    metrics,
    instanceId: 'i1',
  });
  if (autoStop) running.push(relay);
  registries.set(relay, metrics);
  return { relay, source, dlq, metrics, memory };
}

/** A config document with one route: topic `orders` to these sinks. */
const ordersTo = (...sinks: Record<string, unknown>[]) => ({ routes: [{ topics: 'orders', sinks }] });

const orders = (n: number, keys: number) =>
  Array.from({ length: n }, (_, i) => ({
    key: text(`k${i % keys}`),
    value: json({ id: i, key: `k${i % keys}`, seq: Math.floor(i / keys) }),
  }));

describe('createRelay', () => {
  it('fans out to three sinks, keeps per-key order, runs keys concurrently beyond the partition count, commits the end', async () => {
    const senders = {
      a: createScriptedSender(() => ok, 2),
      b: createScriptedSender(() => ok, 1),
      c: createScriptedSender(() => ok, 0),
    };
    const { relay, source, metrics } = setup(ordersTo(testSink('a'), testSink('b'), testSink('c')), senders);
    source.produce('orders', 0, orders(300, 20));
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 300n, 10_000, 'commit of all 300');
    for (const s of Object.values(senders)) {
      expect(s.requests).toHaveLength(300);
      const lastSeq = new Map<string, number>();
      for (const r of s.requests) {
        const b = bodyOf(r);
        expect(b.seq).toBe((lastSeq.get(b.key) ?? -1) + 1);
        lastSeq.set(b.key, b.seq);
        expect(r.headers['idempotency-key']).toBe(`orders-0-${b.id}`);
      }
    }
    // One partition, yet many keys in flight at once.
    expect(senders.a.maxConcurrent).toBeGreaterThan(1);
    expect(metrics.value('ferry_records_delivered_total', { sink: 'b' })).toBe(300);
  });

  it('retries 503s, opens the breaker, pauses the partition when the buffer is full, resumes after a half-open success; nothing lost, the other sink unaffected', async () => {
    let failing = true;
    const flaky = createScriptedSender(() => (failing ? { kind: 'response', status: 503 } : ok));
    const healthy = createScriptedSender(() => ok);
    const { relay, source, metrics } = setup(
      ordersTo(
        testSink('flaky', {
          bulkhead: { maxInFlight: 4, buffer: 20 },
          breaker: { threshold: 3, halfOpenAfter: '50ms' },
        }),
        testSink('healthy'),
      ),
      { flaky, healthy },
    );
    source.produce('orders', 0, orders(200, 50));
    await relay.start();
    await waitUntil(() => source.isPaused({ topic: 'orders', partition: 0 }), 5000, 'partition paused');
    expect(relay.state().sinks.find((s) => s.id === 'flaky')?.mode).toBe('open');
    await waitUntil(() => healthy.requests.length >= 20, 5000, 'healthy sink keeps flowing');
    failing = false;
    await waitUntil(() => source.committed.get('orders/0') === 200n, 10_000, 'all committed after recovery');
    const delivered = new Set(
      flaky.requests.filter((_, i) => i >= 0).map((r) => r.headers['idempotency-key']),
    );
    expect(delivered.size).toBe(200);
    expect(healthy.requests).toHaveLength(200);
    expect(metrics.value('ferry_records_delivered_total', { sink: 'flaky' })).toBe(200);
    expect(
      metrics.value('ferry_records_deadlettered_total', { sink: 'flaky', code: 'FERRY_RETRIES_EXHAUSTED' }),
    ).toBeUndefined();
    expect(metrics.value('ferry_retries_total', { sink: 'flaky' })).toBeGreaterThan(0);
    expect(metrics.value('ferry_breaker_opened_total', { sink: 'flaky' })).toBeGreaterThan(0);
    expect(source.resumeEvents).toBeGreaterThan(0);
    expect(relay.state().sinks.find((s) => s.id === 'flaky')?.breaker).toBe('closed');
  });

  it('sends a 400 to the DLQ with its headers, commits past it, and a replay after the fix delivers it exactly once', async () => {
    let reject = true;
    const api = createScriptedSender((r) =>
      reject && bodyOf(r).id === 3 ? { kind: 'response', status: 400, body: 'bad sku' } : ok,
    );
    const { relay, source, dlq } = setup(ordersTo(testSink('api')), { api });
    source.produce('orders', 0, [
      ...orders(3, 3),
      {
        key: text('k3'),
        value: json({ id: 3 }),
        headers: [
          { key: 'ferry-event-id', value: text('evt-3') },
          { key: 'ferry-schema', value: text('order.v1') },
        ],
      },
      ...orders(2, 2),
    ]);
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 6n, 5000, 'commit past the rejected record');
    expect(dlq.records).toHaveLength(1);
    const [dead] = dlq.records;
    expect(dead?.reason).toMatchObject({
      stage: 'deliver',
      code: 'FERRY_SINK_REJECTED',
      sink: 'api',
      attempts: 1,
    });
    expect(dead?.record.headers.map((h) => h.key)).toContain('ferry-schema');

    // Replay: read the DLQ record back as dlq.relay holds it, through the same lane.
    const { deadLetterHeaders } = await import('./dlq-headers.ts');
    const asStored = {
      ...(dead?.record as NonNullable<typeof dead>['record']),
      topic: 'dlq.relay',
      offset: 0n,
      headers: deadLetterHeaders(dead!.record, dead!.reason),
    };
    const back = parseDeadLetter(asStored);
    expect(back?.original.offset).toBe(3n);
    reject = false;
    const before = api.requests.length;
    expect(await relay.replay('api', back!.original)).toBe('delivered');
    expect(await relay.replay('api', back!.original)).toBe('deduplicated');
    expect(api.requests.length - before).toBe(1);
    expect(api.requests.at(-1)?.headers['idempotency-key']).toBe('evt-3');
  });

  it('dead-letters unparseable records at once and keeps going', async () => {
    const api = createScriptedSender(() => ok);
    const { relay, source, dlq, metrics } = setup(ordersTo(testSink('api'), testSink('other')), {
      api,
      other: createScriptedSender(() => ok),
    });
    dlq.failNext = 2; // the DLQ write is retried until acknowledged
    source.produce('orders', 0, [
      { key: text('a'), value: text('{not json') },
      { key: text('b'), value: json({ id: 1 }) },
    ]);
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 2n, 5000, 'commit');
    expect(dlq.records).toHaveLength(1);
    expect(dlq.records[0]?.reason).toMatchObject({
      stage: 'parse',
      code: 'FERRY_RECORD_UNPARSEABLE',
      sink: '*',
    });
    expect(api.requests).toHaveLength(1);
    expect(metrics.value('ferry_records_unparseable_total', { topic: 'orders' })).toBe(1);
  });

  it('parks a key whose retries run out (onExhausted: block) without stalling other keys; commit waits at it', async () => {
    let poison = true;
    const api = createScriptedSender((r) =>
      poison && bodyOf(r).key === 'k0' ? { kind: 'response', status: 500 } : ok,
    );
    const { relay, source } = setup(
      ordersTo(testSink('api', { onExhausted: 'block', parkFor: '100ms', breaker: { threshold: 1000 } })),
      { api },
    );
    source.produce('orders', 0, orders(40, 4)); // k0 at offsets 0,4,8...
    await relay.start();
    await waitUntil(
      () => api.requests.filter((r) => bodyOf(r).key !== 'k0').length === 30,
      5000,
      'other keys delivered',
    );
    await waitUntil(() => (relay.state().sinks[0]?.parkedKeys.length ?? 0) > 0, 5000, 'k0 parked');
    const state = relay.state().sinks[0];
    expect(state?.parkedKeys.map((k) => k.key)).toEqual(['orders\u0000k0']);
    expect(metricsOf(relay)?.value('ferry_parked_keys', { sink: 'api' })).toBe(1);
    expect(state?.parkedKeys[0]?.parked).toBe(true);
    await relay.commitNow();
    expect(source.committed.get('orders/0') ?? 0n).toBe(0n);
    poison = false;
    await waitUntil(() => source.committed.get('orders/0') === 40n, 5000, 'commit after unpark');
    expect(metricsOf(relay)?.value('ferry_parked_keys', { sink: 'api' })).toBe(0);
    // k0's records went out in order: seq never goes back except to retry the same record.
    const k0 = api.requests.filter((r) => bodyOf(r).key === 'k0').map((r) => bodyOf(r).seq as number);
    for (let i = 1; i < k0.length; i++) expect(k0[i]).toBeGreaterThanOrEqual(k0[i - 1] as number);
    expect(new Set(k0).size).toBe(10);
  });

  it('honours Retry-After on 429', async () => {
    let calls = 0;
    const times: number[] = [];
    const api = createScriptedSender(() => {
      times.push(Date.now());
      return ++calls === 1 ? { kind: 'response', status: 429, retryAfterMs: 300 } : ok;
    });
    const { relay, source } = setup(ordersTo(testSink('api')), { api });
    source.produce('orders', 0, orders(1, 1));
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 1n, 5000, 'commit');
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(290);
  });

  it('follows the dedupe protocol: done is skipped, pending elsewhere waits for the lease', async () => {
    const table = createMemoryDedupeTable();
    const other = createMemoryDedupeStore({ instanceId: 'i2', table });
    const mine = createMemoryDedupeStore({ instanceId: 'i1', table });
    await other.markDone('api', 'orders-0-0', 60_000);
    await other.claim('api', 'orders-0-1', 300);
    const api = createScriptedSender(() => ok);
    const { relay, source, metrics } = setup(ordersTo(testSink('api')), { api }, { store: mine });
    source.produce('orders', 0, orders(3, 3));
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 3n, 5000, 'commit');
    expect(api.requests.map((r) => r.headers['idempotency-key']).sort()).toEqual([
      'orders-0-1',
      'orders-0-2',
    ]);
    expect(metrics.value('ferry_records_deduplicated_total', { sink: 'api' })).toBe(1);
    expect(mine.peek('api', 'orders-0-2')).toBe('done');
  });

  it('applies onUnavailable when the dedupe store is down: deliver counts it, block waits for the store', async () => {
    let down = true;
    const base = createMemoryDedupeStore({ instanceId: 'i1' });
    const flaky: DedupeStore = {
      claim: (...a) => (down ? Promise.reject(new Error('ECONNREFUSED')) : base.claim(...a)),
      markDone: (...a) => (down ? Promise.reject(new Error('ECONNREFUSED')) : base.markDone(...a)),
      release: (...a) => base.release(...a),
      ping: async () => !down,
      close: async () => {},
    };
    const deliverer = createScriptedSender(() => ok);
    const blocker = createScriptedSender(() => ok);
    const { relay, source, metrics } = setup(
      ordersTo(
        testSink('deliverer', { dedupe: { store: 'memory', onUnavailable: 'deliver' } }),
        testSink('blocker', { dedupe: { store: 'memory', onUnavailable: 'block' } }),
      ),
      { deliverer, blocker },
      { store: flaky },
    );
    source.produce('orders', 0, orders(5, 5));
    await relay.start();
    await waitUntil(() => deliverer.requests.length === 5, 5000, 'deliver mode delivers');
    expect(blocker.requests).toHaveLength(0);
    expect((await relay.readiness()).ready).toBe(false);
    expect(metrics.value('ferry_dedupe_unavailable_total', { sink: 'deliverer', action: 'deliver' })).toBe(5);
    down = false;
    await waitUntil(
      () => source.committed.get('orders/0') === 5n,
      5000,
      'block mode delivers once the store is back',
    );
    expect(blocker.requests).toHaveLength(5);
  });

  it('on revoke finishes in-flight work, commits it, and never commits abandoned offsets', async () => {
    let gate: () => void = () => {};
    const open = new Promise<void>((r) => {
      gate = r;
    });
    const api = createScriptedSender(async (r) => {
      if (bodyOf(r).key === 'k0') await open;
      return ok;
    });
    const { relay, source } = setup(
      {
        revokeTimeout: '150ms',
        ...ordersTo(testSink('api', { timeout: '5s', dedupe: { store: 'memory', lease: '10s' } })),
      },
      { api },
    );
    source.produce('orders', 0, orders(10, 2));
    await relay.start();
    await waitUntil(() => api.requests.length === 6, 5000, 'k1 done, k0 blocked');
    await source.revoke([{ topic: 'orders', partition: 0 }]);
    // k0's first record (offset 0) never finished: nothing past it may be committed.
    expect(source.committed.get('orders/0') ?? 0n).toBe(0n);
    gate();
    await new Promise((r) => setTimeout(r, 100));
    await relay.commitNow();
    expect(source.committed.get('orders/0') ?? 0n).toBe(0n);
    expect(relay.state().partitions).toHaveLength(0);
  });

  it('filters and projects per sink, templates URL paths safely, and signs with Standard Webhooks', async () => {
    const a = createScriptedSender(() => ok);
    const { relay, source, metrics } = setup(
      {
        routes: [
          {
            topics: ['orders'],
            sinks: [
              testSink('a', {
                url: 'http://127.0.0.1:1/orders/{after.sku}?v=1',
                body: { project: { orderId: 'after.id', sku: 'after.sku' } },
                filter: [{ field: 'op', in: ['c', 'u'] }],
                auth: { bearer: 'tok-123', webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
                method: 'PUT',
              }),
            ],
          },
        ],
      },
      { a },
    );
    source.produce('orders', 0, [
      { key: text('1'), value: json({ op: 'c', after: { id: 1, sku: 'a b?c#d' } }) },
      { key: text('2'), value: json({ op: 'd', after: { id: 2, sku: 'x' } }) },
      { key: text('3'), value: null },
    ]);
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 3n, 5000, 'commit');
    expect(a.requests).toHaveLength(1);
    const [req] = a.requests;
    expect(req?.url).toBe('http://127.0.0.1:1/orders/a%20b%3Fc%23d?v=1');
    expect(req?.method).toBe('PUT');
    expect(bodyOf(req!)).toEqual({ orderId: 1, sku: 'a b?c#d' });
    expect(req?.headers.authorization).toBe('Bearer tok-123');
    expect(req?.headers['webhook-id']).toBe('orders-0-0');
    expect(req?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(metrics.value('ferry_records_filtered_total', { sink: 'a' })).toBe(2);
  });

  it('never has more deliveries in flight than the sink allows (maxInFlight), with many keys ready', async () => {
    const api = createScriptedSender(() => ok, 5);
    const { relay, source } = setup(
      ordersTo(testSink('api', { bulkhead: { maxInFlight: 3, buffer: 200 } })),
      {
        api,
      },
    );
    source.produce('orders', 0, orders(120, 60));
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 120n, 10_000, 'commit of all 120');
    expect(api.requests).toHaveLength(120);
    expect(api.maxConcurrent).toBe(3);
  });

  it('dead-letters everything while the breaker is open when onOpen is deadletter', async () => {
    const api = createScriptedSender(() => ({ kind: 'network-error', message: 'ECONNRESET' }));
    const { relay, source, dlq } = setup(
      ordersTo(
        testSink('api', {
          onOpen: 'deadletter',
          breaker: { threshold: 2, halfOpenAfter: '10s' },
          bulkhead: { maxInFlight: 1 },
        }),
      ),
      { api },
    );
    source.produce('orders', 0, orders(10, 10));
    await relay.start();
    await waitUntil(() => source.committed.get('orders/0') === 10n, 5000, 'commit');
    const codes = dlq.records.map((r) => r.reason.code);
    // Two failures open the breaker; everything after fails fast into the DLQ without calling the API.
    expect(codes).toEqual(Array(10).fill('FERRY_BREAKER_OPEN'));
    expect(api.requests).toHaveLength(2);
  });

  it('admin pause stops a sink and its partitions pause once its buffer fills; resume drains', async () => {
    const api = createScriptedSender(() => ok);
    const { relay, source } = setup(ordersTo(testSink('api', { bulkhead: { maxInFlight: 2, buffer: 10 } })), {
      api,
    });
    await relay.start();
    expect(relay.pauseSink('api')).toBe(true);
    source.produce('orders', 0, orders(30, 30));
    await waitUntil(() => source.isPaused({ topic: 'orders', partition: 0 }), 5000, 'paused');
    expect(api.requests).toHaveLength(0);
    expect(relay.state().sinks[0]?.mode).toBe('paused');
    expect(metricsOf(relay)?.value('ferry_sink_state', { sink: 'api' })).toBe(1);
    relay.resumeSink('api');
    await waitUntil(() => source.committed.get('orders/0') === 30n, 5000, 'drained');
    expect(relay.pauseSink('nope')).toBe(false);
  });

  it('runs two relays in one process without sharing state', async () => {
    const s1 = createScriptedSender(() => ok);
    const s2 = createScriptedSender(() => ok);
    const one = setup(ordersTo(testSink('api')), { api: s1 });
    const two = setup(ordersTo(testSink('api')), { api: s2 });
    one.source.produce('orders', 0, orders(10, 3));
    two.source.produce('orders', 0, orders(7, 3));
    await one.relay.start();
    await two.relay.start();
    await waitUntil(
      () => one.source.committed.get('orders/0') === 10n && two.source.committed.get('orders/0') === 7n,
      5000,
      'both',
    );
    expect(s1.requests).toHaveLength(10);
    expect(s2.requests).toHaveLength(7);
    expect(one.metrics.value('ferry_records_delivered_total', { sink: 'api' })).toBe(10);
    expect(two.metrics.value('ferry_records_delivered_total', { sink: 'api' })).toBe(7);
  });
});

describe('graceful stop', () => {
  it('lets in-flight work finish within the deadline, commits it, and stops the source', async () => {
    const api = createScriptedSender(() => ok, 100);
    const { relay, source } = setup(ordersTo(testSink('api')), { api }, { autoStop: false });
    source.produce('orders', 0, orders(20, 20));
    await relay.start();
    await waitUntil(() => api.requests.length > 0, 5000, 'deliveries in flight');
    await relay.stop({ deadlineMs: 5000 });
    expect(source.committed.get('orders/0')).toBe(20n);
    expect(source.isConnected()).toBe(false);
    expect(relay.state().stopping).toBe(true);
  });

  it('abandons what does not finish by the deadline and commits nothing past it', async () => {
    const api = createScriptedSender(() => new Promise(() => {}));
    const { relay, source } = setup(
      ordersTo(testSink('api', { timeout: '30s', dedupe: { store: 'memory', lease: '60s' } })),
      { api },
      { autoStop: false },
    );
    source.produce('orders', 0, orders(5, 5));
    await relay.start();
    await waitUntil(() => api.requests.length === 5, 5000, 'all in flight');
    await relay.stop({ deadlineMs: 100 });
    expect(source.committed.get('orders/0') ?? 0n).toBe(0n);
  });
});

describe('sampling breaker', () => {
  it('opens on a failure ratio and closes after a half-open success', async () => {
    let failing = true;
    const api = createScriptedSender(() => (failing ? { kind: 'response', status: 500 } : ok), 2);
    const { relay, source } = setup(
      ordersTo(
        testSink('api', {
          breaker: {
            mode: 'sampling',
            threshold: 0.5,
            window: '1s',
            minimumRps: 1,
            halfOpenAfter: '100ms',
          },
          onExhausted: 'block',
          parkFor: '50ms',
        }),
      ),
      { api },
    );
    source.produce('orders', 0, orders(30, 10));
    await relay.start();
    await waitUntil(() => relay.state().sinks[0]?.mode === 'open', 5000, 'breaker open');
    failing = false;
    await waitUntil(() => source.committed.get('orders/0') === 30n, 10_000, 'all delivered');
    expect(relay.state().sinks[0]?.breaker).toBe('closed');
  });
});

describe('rate limit with an open breaker', () => {
  it('keeps probing when the probe has to wait for a token (no stall)', async () => {
    let failing = true;
    const api = createScriptedSender(() => (failing ? { kind: 'response', status: 503 } : ok));
    const { relay, source } = setup(
      ordersTo(
        testSink('api', {
          rateLimit: { perSecond: 20 },
          breaker: { threshold: 2, halfOpenAfter: '30ms' },
          retry: { attempts: 1 },
          onExhausted: 'block',
          parkFor: '20ms',
        }),
      ),
      { api },
    );
    source.produce('orders', 0, orders(60, 30));
    await relay.start();
    await waitUntil(() => relay.state().sinks[0]?.mode === 'open', 5000, 'breaker open');
    failing = false;
    await waitUntil(
      () => source.committed.get('orders/0') === 60n,
      15_000,
      'all delivered at the rate limit',
    );
    expect(relay.state().sinks[0]?.breaker).toBe('closed');
  });
});

describe('open breaker and a probe that makes no HTTP call', () => {
  it('probes again when the probe stopped at the dedupe store (no stall)', async () => {
    let failing = true;
    let storeDown = false;
    const api = createScriptedSender(() => (failing ? { kind: 'response', status: 503 } : ok));
    const base = createMemoryDedupeStore({ instanceId: 'i1' });
    const store: DedupeStore = {
      claim: (...a) => (storeDown ? Promise.reject(new Error('ECONNREFUSED')) : base.claim(...a)),
      markDone: (...a) => base.markDone(...a),
      release: (...a) => base.release(...a),
      ping: async () => !storeDown,
      close: async () => {},
    };
    const { relay, source } = setup(
      ordersTo(
        testSink('api', {
          breaker: { threshold: 2, halfOpenAfter: '30ms' },
          retry: { attempts: 1, backoffBase: '5ms', backoffCap: '20ms' },
          onExhausted: 'block',
          parkFor: '20ms',
          dedupe: { store: 'memory', onUnavailable: 'block' },
        }),
      ),
      { api },
      { store },
    );
    source.produce('orders', 0, orders(20, 10));
    await relay.start();
    await waitUntil(() => relay.state().sinks[0]?.mode === 'open', 5000, 'breaker open');
    storeDown = true;
    failing = false;
    await new Promise((r) => setTimeout(r, 200)); // probes now stop at the store
    storeDown = false;
    await waitUntil(
      () => source.committed.get('orders/0') === 20n,
      10_000,
      'all delivered after the store is back',
    );
    expect(relay.state().sinks[0]?.breaker).toBe('closed');
  });
});
