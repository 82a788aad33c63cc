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

async function setup() {
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
    clock: createSystemClock(),
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
    expect(await m.text()).toContain(
      'ferry_records_deadlettered_total{sink="api",code="FERRY_SINK_REJECTED"} 3',
    );
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
    const again = (await (await post({ sink: 'api' })).json()) as { outcomes: Record<string, number> };
    expect(again.outcomes).toEqual({ deduplicated: 3 });
    expect(api.requests.length - before).toBe(3);
    expect((await post({ sink: 'api', from: 'yesterday' })).status).toBe(400);
    expect((await post({ sink: 'ghost' })).status).toBe(404);
  });
});

describe('admin auth rate limit', () => {
  it('answers 429 after a burst of failed attempts, whatever the token', async () => {
    const { Hono } = await import('hono');
    const { adminAuth } = await import('./admin-auth.ts');
    let t = 1000;
    const app = new Hono();
    app.use('/v1/*', adminAuth(TOKEN, { failuresPerSecond: 3, now: () => t }));
    app.get('/v1/x', (c) => c.text('ok'));
    const get = (token: string) => app.request('/v1/x', { headers: { authorization: `Bearer ${token}` } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('guess')).status);
    expect(statuses).toEqual([401, 401, 401, 401]);
    expect((await get(TOKEN)).status).toBe(429);
    t += 2000;
    expect((await get(TOKEN)).status).toBe(200);
  });
});
