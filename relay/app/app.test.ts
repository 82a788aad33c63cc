import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createSystemClock } from '../core/clock.ts';
import type { DlqReader, SourceRecord } from '../core/contracts.ts';
import { deadLetterHeaders } from '../core/dlq-headers.ts';
import { createRelay, type Relay } from '../core/relay.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from '../testing/fakes.ts';
import { createMemorySource, json, text } from '../testing/memory-source.ts';
import { createApp } from './app.ts';

const TOKEN = 'admin-token-0123456789';
const relays: Relay[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop({ deadlineMs: 100 });
});

async function setup(clock = createSystemClock()) {
  let reject = true;
  const api = createScriptedSender(() =>
    reject ? { kind: 'response', status: 422 } : { kind: 'response', status: 200 },
  );
  const source = createMemorySource();
  const dlq = createMemoryDlq();
  const metrics = createRegistry();
  const relay = createRelay({
    config: testConfig({ routes: [{ topics: 'orders', sinks: [testSink('api')] }] }).relay,
    source,
    senders: { api },
    dedupe: { memory: createMemoryDedupeStore({ instanceId: 'i1' }) },
    dlq,
    metrics,
    instanceId: 'i1',
  });
  relays.push(relay);
  const reader: DlqReader = {
    async *read() {
      let offset = 0n;
      for (const { record, reason } of dlq.records) {
        const stored: SourceRecord = {
          ...record,
          topic: 'dlq.relay',
          partition: 0,
          offset: offset++,
          headers: deadLetterHeaders(record, reason),
        };
        yield stored;
      }
    },
    async close() {},
  };
  const app = createApp({
    relay,
    metrics,
    adminToken: TOKEN,
    dlqReader: reader,
    clock,
    clientAddress: (c) => (c.env as { addr?: string } | undefined)?.addr,
    replayPerSecond: 1000,
  });
  source.produce(
    'orders',
    0,
    [1, 2, 3].map((id) => ({ key: text(`k${id}`), value: json({ id }) })),
  );
  await relay.start();
  await waitUntil(() => source.committed.get('orders/0') === 3n, 5000, 'commit');
  return { app, api, dlq, fix: () => (reject = false) };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('relay HTTP surface', () => {
  it('serves health, readiness and metrics', async () => {
    const { app } = await setup();
    expect((await app.request('/healthz')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    const m = await app.request('/metrics');
    expect(m.headers.get('content-type')).toContain('text/plain');
    const text = await m.text();
    expect(text).toContain('ferry_records_deadlettered_total{sink="api",code="FERRY_SINK_REJECTED"} 3');
    expect(text).toContain('\nferry_ready 1\n');
  });

  it('answers a scrape within about a second when readiness hangs, with ferry_ready 0', async () => {
    const metrics = createRegistry();
    const store = createMemoryDedupeStore({ instanceId: 'i1' });
    const relay = createRelay({
      config: testConfig({ routes: [{ topics: 'orders', sinks: [testSink('api')] }] }).relay,
      source: createMemorySource(),
      senders: { api: createScriptedSender() },
      dedupe: { memory: { ...store, ping: () => new Promise<boolean>(() => {}) } },
      dlq: createMemoryDlq(),
      metrics,
      instanceId: 'i1',
    });
    relays.push(relay);
    await relay.start();
    const app = createApp({ relay, metrics, adminToken: TOKEN, clock: createSystemClock() });
    const t0 = Date.now();
    const text = await (await app.request('/metrics')).text();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(text).toContain('\nferry_ready 0\n');
  });

  it('exports ferry_ready 0 once the relay is not ready', async () => {
    const { app } = await setup();
    await relays[0]?.stop({ deadlineMs: 100 });
    expect((await app.request('/readyz')).status).toBe(503);
    expect(await (await app.request('/metrics')).text()).toContain('\nferry_ready 0\n');
  });

  it('guards the admin API with the bearer token', async () => {
    const { app } = await setup();
    expect((await app.request('/v1/sinks')).status).toBe(401);
    expect((await app.request('/v1/sinks', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const res = await app.request('/v1/sinks', { headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sinks: Array<{ id: string; breaker: string; mode: string }> };
    expect(body.sinks[0]).toMatchObject({ id: 'api', breaker: 'closed', mode: 'running' });
  });

  it('pauses and resumes a sink', async () => {
    const { app } = await setup();
    const p = await app.request('/v1/sinks/api/pause', { method: 'POST', headers: auth });
    expect(((await p.json()) as { mode: string }).mode).toBe('paused');
    const r = await app.request('/v1/sinks/api/resume', { method: 'POST', headers: auth });
    expect(((await r.json()) as { mode: string }).mode).toBe('running');
    expect((await app.request('/v1/sinks/nope/pause', { method: 'POST', headers: auth })).status).toBe(404);
  });

  it('replays the DLQ: dry run sends nothing, then a replay delivers each record once', async () => {
    const { app, api, fix } = await setup();
    const post = (body: unknown) =>
      app.request('/v1/dlq/replay', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const progress = () => app.request('/v1/dlq/replay', { headers: auth });
    expect((await progress()).status).toBe(404);
    const before = api.requests.length;
    const dry = (await (await post({ sink: 'api', dryRun: true, fromOffset: 1 })).json()) as {
      matched: number;
      sent: number;
      items: unknown[];
    };
    expect(dry).toMatchObject({ matched: 2, sent: 0 });
    expect(api.requests.length).toBe(before);
    fix();
    const real = (await (await post({ sink: 'api' })).json()) as {
      matched: number;
      outcomes: Record<string, number>;
    };
    expect(real.outcomes).toEqual({ delivered: 3 });
    // The last replay's progress and report, as `ferry relay replay` polls it while it waits.
    const last = (await (await progress()).json()) as {
      sink: string;
      running: boolean;
      progress: { matched: number; sent: number };
    };
    expect(last).toMatchObject({ sink: 'api', running: false, progress: { matched: 3, sent: 3 } });
    const again = (await (await post({ sink: 'api' })).json()) as { outcomes: Record<string, number> };
    expect(again.outcomes).toEqual({ deduplicated: 3 });
    expect(api.requests.length - before).toBe(3);
    expect((await post({ sink: 'api', from: 'yesterday' })).status).toBe(400);
    expect((await post({ sink: 'ghost' })).status).toBe(404);
  });
});

describe('admin auth rate limit', () => {
  const from = (addr: string, token: string) =>
    [{ headers: { authorization: `Bearer ${token}` } }, { addr }] as const;

  it('throttles the failing address only: the operator elsewhere, and a valid token anywhere, still get in', async () => {
    let t = 1_000_000;
    const system = createSystemClock();
    const { app } = await setup({ now: () => t, sleep: system.sleep });
    const flood: Response[] = [];
    const operator: number[] = [];
    for (let i = 0; i < 40; i++) {
      flood.push(await app.request('/v1/sinks', ...from('198.51.100.7', `guess-${i}`)));
      operator.push((await app.request('/v1/sinks', ...from('10.0.0.1', TOKEN))).status);
    }
    expect(operator.every((s) => s === 200)).toBe(true);
    expect(flood.slice(0, 5).map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    const limited = flood.slice(5);
    expect(limited.every((r) => r.status === 429)).toBe(true);
    expect(limited.every((r) => Number(r.headers.get('retry-after')) >= 1)).toBe(true);
    // The token is checked first: the right token is never throttled, even from the flooding address.
    expect((await app.request('/v1/sinks', ...from('198.51.100.7', TOKEN))).status).toBe(200);
    // A second failing address has its own budget.
    expect((await app.request('/v1/sinks', ...from('198.51.100.8', 'guess'))).status).toBe(401);
    // An IPv6 client is limited by its /64, so rotating through it gains nothing.
    const v6 = [];
    for (let i = 1; i <= 7; i++)
      v6.push((await app.request('/v1/sinks', ...from(`2001:db8:0:7::${i}`, 'guess'))).status);
    expect(v6).toEqual([401, 401, 401, 401, 401, 429, 429]);
    t += 2000;
    expect((await app.request('/v1/sinks', ...from('198.51.100.7', 'guess'))).status).toBe(401);
  });

  it('keeps a bounded table of failing addresses', async () => {
    const { Hono } = await import('hono');
    const { adminAuth } = await import('./admin-auth.ts');
    const t = 1000;
    const app = new Hono();
    app.use(
      '/v1/*',
      adminAuth(TOKEN, {
        failuresPerSecond: 1,
        maxClients: 2,
        now: () => t,
        clientAddress: (c) => (c.env as { addr: string }).addr,
      }),
    );
    app.get('/v1/x', (c) => c.text('ok'));
    const get = (addr: string) =>
      app.request('/v1/x', { headers: { authorization: 'Bearer nope' } }, { addr });
    expect((await get('a')).status).toBe(401);
    expect((await get('a')).status).toBe(429);
    await get('b');
    await get('c'); // evicts a, the least recently seen
    expect((await get('a')).status).toBe(401);
    expect((await get('c')).status).toBe(429);
  });
});

describe('wrong methods', () => {
  it('answer 405 with Allow on every known route', async () => {
    const { app } = await setup();
    const cases: Array<[string, string, string]> = [
      ['POST', '/healthz', 'GET, HEAD'],
      ['POST', '/readyz', 'GET, HEAD'],
      ['DELETE', '/metrics', 'GET, HEAD'],
      ['POST', '/v1/sinks', 'GET, HEAD'],
      ['GET', '/v1/sinks/api/pause', 'POST'],
      ['PUT', '/v1/sinks/api/resume', 'POST'],
      ['PUT', '/v1/dlq/replay', 'GET, POST, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await app.request(path, { method, headers: auth });
      expect([method, path, res.status]).toEqual([method, path, 405]);
      expect(res.headers.get('allow')).toBe(allow);
    }
    expect((await app.request('/nowhere', { method: 'POST', headers: auth })).status).toBe(404);
    // Without the token an admin route still says 401 and reveals nothing about its methods.
    expect((await app.request('/v1/sinks/api/pause')).status).toBe(401);
  });
});

describe('unexpected errors', () => {
  it('answer 500 without the error message, which goes to the log instead', async () => {
    const secret = 'sk_live_0123456789abcdef';
    const logged: { message: string; fields?: Readonly<Record<string, unknown>> }[] = [];
    const log = (message: string, fields?: Readonly<Record<string, unknown>>) => {
      logged.push({ message, ...(fields ? { fields } : {}) });
    };
    const failing = {
      readiness: () => Promise.reject(new Error(`store said: token ${secret} refused`)),
    } as unknown as Relay;
    const app = createApp({
      relay: failing,
      metrics: { render: () => '' },
      adminToken: TOKEN,
      clock: createSystemClock(),
      logger: { info: log, warn: log, error: log },
    });
    const res = await app.request('/readyz');
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(body).not.toContain(secret);
    expect(JSON.parse(body)).toEqual({ error: 'internal error' });
    expect(logged.map((l) => String(l.fields?.error))).toEqual([`store said: token ${secret} refused`]);
  });
});
