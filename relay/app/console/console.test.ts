import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../../adapters/dedupe-memory.ts';
import { createSystemClock } from '../../core/clock.ts';
import type { Clock, DlqReader, SourceRecord } from '../../core/contracts.ts';
import { deadLetterHeaders } from '../../core/dlq-headers.ts';
import { createRelay, type Relay } from '../../core/relay.ts';
import { createRegistry } from '../../metrics/registry.ts';
import { testConfig, testSink } from '../../testing/config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from '../../testing/fakes.ts';
import { createMemorySource, json, text } from '../../testing/memory-source.ts';
import { createApp } from '../app.ts';

const TOKEN = 'admin-token-0123456789';
const ORIGIN = 'http://relay.test';
const relays: Relay[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop({ deadlineMs: 100 });
});

/** Polls an async probe until it returns something other than false (fails after `timeoutMs`). */
async function waitFor<T>(
  probe: () => Promise<T | false>,
  { timeoutMs = 5000, intervalMs = 20, message = '' },
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== false) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${message}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A clock whose time the test moves; sleeps are real (replays only sleep when rate limited). */
function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let t = start;
  const system = createSystemClock();
  return { now: () => t, sleep: system.sleep, advance: (ms) => (t += ms) };
}

async function setup() {
  const clock = manualClock();
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
      for (const { record, reason } of dlq.records)
        yield {
          ...record,
          topic: 'dlq.relay',
          partition: 0,
          offset: offset++,
          headers: deadLetterHeaders(record, reason),
        } satisfies SourceRecord;
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
  return { app, api, relay, clock, fix: () => (reject = false) };
}

type App = Awaited<ReturnType<typeof setup>>['app'];

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN };

async function signIn(app: App, token = TOKEN, addr = '10.0.0.1') {
  return app.request(
    `${ORIGIN}/console/login`,
    { method: 'POST', headers: FORM, body: form({ token }) },
    { addr },
  );
}

/** Signs in and returns the cookie header and the page's CSRF token. */
async function session(app: App) {
  const res = await signIn(app);
  expect(res.status).toBe(303);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const page = await (await app.request(`${ORIGIN}/console`, { headers: { cookie } })).text();
  const csrf = /name="ferry-csrf" content="([^"]+)"/.exec(page)?.[1] as string;
  expect(csrf).toMatch(/^[\w-]{40,}$/);
  return { cookie, csrf };
}

describe('console sign-in', () => {
  it('sends a visitor without a session to the sign-in page', async () => {
    const { app } = await setup();
    const root = await app.request(`${ORIGIN}/`);
    expect(root.status).toBe(303);
    expect(root.headers.get('location')).toBe('/console');
    const page = await app.request(`${ORIGIN}/console`);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/login');
    const login = await app.request(`${ORIGIN}/console/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('name="token"');
    const live = await app.request(`${ORIGIN}/console/api/live`);
    expect(live.status).toBe(401);
    expect(await live.json()).toMatchObject({ code: 'FERRY_CONSOLE_UNAUTHORIZED' });
  });

  it('refuses a wrong token without a cookie, then limits the address', async () => {
    const { app } = await setup();
    const res = await signIn(app, 'wrong-token');
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('Wrong token.');
    for (let i = 0; i < 4; i++) expect((await signIn(app, 'wrong-token')).status).toBe(401);
    const limited = await signIn(app, 'wrong-token');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    // Another address, and the right token from the limited one, are unaffected.
    expect((await signIn(app, 'wrong-token', '10.0.0.2')).status).toBe(401);
    expect((await signIn(app, TOKEN)).status).toBe(303);
  });

  it('sets an HTTP-only, SameSite=Strict cookie holding a random id, never the token', async () => {
    const { app } = await setup();
    const res = await signIn(app);
    expect(res.headers.get('location')).toBe('/console');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ferry_console=[\w-]{40,};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/console');
    expect(cookie).not.toContain('Secure');
    expect(cookie).not.toContain(TOKEN);
    const https = await app.request('https://relay.test/console/login', {
      method: 'POST',
      headers: { ...FORM, origin: 'https://relay.test' },
      body: form({ token: TOKEN }),
    });
    expect(https.headers.get('set-cookie')).toContain('Secure');
    const other = await signIn(app);
    expect(other.headers.get('set-cookie')).not.toBe(cookie);
  });

  it('refuses a sign-in form posted from another origin', async () => {
    const { app } = await setup();
    const res = await app.request(`${ORIGIN}/console/login`, {
      method: 'POST',
      headers: { ...FORM, origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' },
      body: form({ token: TOKEN }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'FERRY_CONSOLE_CSRF' });
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('serves the page with a nonce CSP and the session CSRF token', async () => {
    const { app } = await setup();
    const { cookie, csrf } = await session(app);
    const res = await app.request(`${ORIGIN}/console`, { headers: { cookie } });
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    const page = await res.text();
    expect(page).toContain(`<script nonce="${nonce}">`);
    expect(csp).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(page).toContain(csrf);
    expect(page).not.toContain(TOKEN);
  });

  it('ends a session after 30 idle minutes and after 8 hours in use', async () => {
    const { app, clock } = await setup();
    const { cookie } = await session(app);
    clock.advance(29 * 60_000);
    expect((await app.request(`${ORIGIN}/console/api/live`, { headers: { cookie } })).status).toBe(200);
    clock.advance(31 * 60_000);
    expect((await app.request(`${ORIGIN}/console/api/live`, { headers: { cookie } })).status).toBe(401);

    const second = await session(app);
    for (let i = 0; i < 16; i++) {
      clock.advance(29 * 60_000);
      expect(
        (await app.request(`${ORIGIN}/console/api/live`, { headers: { cookie: second.cookie } })).status,
      ).toBe(200);
    }
    clock.advance(20 * 60_000); // 8 h 4 min after sign-in
    expect(
      (await app.request(`${ORIGIN}/console/api/live`, { headers: { cookie: second.cookie } })).status,
    ).toBe(401);
  });

  it('signs out only with the CSRF token, and the cookie is dead afterwards', async () => {
    const { app } = await setup();
    const { cookie, csrf } = await session(app);
    const forged = await app.request(`${ORIGIN}/console/logout`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: form({ _csrf: 'guess' }),
    });
    expect(forged.status).toBe(403);
    expect((await app.request(`${ORIGIN}/console/api/live`, { headers: { cookie } })).status).toBe(200);
    const out = await app.request(`${ORIGIN}/console/logout`, {
      method: 'POST',
      headers: { ...FORM, cookie },
      body: form({ _csrf: csrf }),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^ferry_console=;.*Max-Age=0/);
    expect((await app.request(`${ORIGIN}/console/api/live`, { headers: { cookie } })).status).toBe(401);
  });
});

describe('console actions', () => {
  it('shows live numbers from the relay state and the metrics', async () => {
    const { app } = await setup();
    const { cookie } = await session(app);
    const live = await (await app.request(`${ORIGIN}/console/api/live`, { headers: { cookie } })).json();
    expect(live).toMatchObject({
      instanceId: 'i1',
      sinks: [
        {
          id: 'api',
          mode: 'running',
          breaker: 'closed',
          delivered: 0,
          deadlettered: 3,
          deadletteredByCode: { FERRY_SINK_REJECTED: 3 },
          inFlight: 0,
        },
      ],
      partitions: [{ topic: 'orders', partition: 0, paused: false }],
    });
  });

  it('pauses and resumes a sink only with the session CSRF token', async () => {
    const { app, relay } = await setup();
    const { cookie, csrf } = await session(app);
    const pause = (headers: Record<string, string>) =>
      app.request(`${ORIGIN}/console/api/sinks/api/pause`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    expect((await pause({})).status).toBe(403);
    expect((await pause({ 'x-ferry-csrf': 'wrong' })).status).toBe(403);
    expect(relay.state().sinks[0]?.mode).toBe('running');
    // A form posted from another site with the session cookie: refused before the handler runs.
    const forged = await app.request(`${ORIGIN}/console/api/sinks/api/pause`, {
      method: 'POST',
      headers: { cookie, ...FORM, origin: 'http://evil.test', 'sec-fetch-site': 'same-site' },
      body: form({ _csrf: csrf }),
    });
    expect(forged.status).toBe(403);
    expect(relay.state().sinks[0]?.mode).toBe('running');

    const ok = await pause({ 'x-ferry-csrf': csrf });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ id: 'api', mode: 'paused' });
    const resumed = await app.request(`${ORIGIN}/console/api/sinks/api/resume`, {
      method: 'POST',
      headers: { cookie, 'x-ferry-csrf': csrf, origin: ORIGIN },
    });
    expect(await resumed.json()).toMatchObject({ mode: 'running' });
    const ghost = await app.request(`${ORIGIN}/console/api/sinks/ghost/pause`, {
      method: 'POST',
      headers: { cookie, 'x-ferry-csrf': csrf, origin: ORIGIN },
    });
    expect(ghost.status).toBe(404);
  });

  it('filters the DLQ by code and time, then replays with progress', async () => {
    const { app, api, fix } = await setup();
    const { cookie, csrf } = await session(app);
    const headers = { cookie, 'x-ferry-csrf': csrf, 'content-type': 'application/json' };
    const search = async (body: unknown) =>
      app.request(`${ORIGIN}/console/api/dlq/search`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });
    const all = await (await search({ sink: 'api', code: 'FERRY_SINK_REJECTED' })).json();
    expect(all).toMatchObject({ dryRun: true, matched: 3, sent: 0 });
    expect(all.items.map((i: { code: string }) => i.code)).toEqual(Array(3).fill('FERRY_SINK_REJECTED'));
    expect((await (await search({ sink: 'api', code: 'FERRY_OTHER' })).json()).matched).toBe(0);
    expect((await (await search({ sink: 'api', to: '2001-01-01T00:00:00Z' })).json()).matched).toBe(0);
    const bad = await search({ sink: 'api', from: 'yesterday', extra: 1 });
    expect(bad.status).toBe(400);
    expect((await bad.json()).issues).toEqual(expect.arrayContaining([expect.stringContaining('from')]));
    expect((await search({ sink: 'ghost' })).status).toBe(404);
    expect(api.requests).toHaveLength(3);

    fix();
    const started = await app.request(`${ORIGIN}/console/api/dlq/replay`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ sink: 'api' }),
    });
    expect(started.status).toBe(202);
    const job = await waitFor(
      async () => {
        const j = await (
          await app.request(`${ORIGIN}/console/api/dlq/replay`, { headers: { cookie } })
        ).json();
        return j.running ? false : j;
      },
      { timeoutMs: 5000, intervalMs: 20, message: 'replay done' },
    );
    expect(job).toMatchObject({
      sink: 'api',
      dryRun: false,
      progress: { matched: 3, sent: 3, outcomes: { delivered: 3 } },
    });
    expect(api.requests).toHaveLength(6);
  });

  it('refuses a sign-in body over 16 KiB, declared or streamed, without reading it all', async () => {
    const { app } = await setup();
    const big = form({ token: 'x'.repeat(20_000) });
    const declared = await app.request(`${ORIGIN}/console/login`, {
      method: 'POST',
      headers: FORM,
      body: big,
    });
    expect(declared.status).toBe(413);
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 100; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
        controller.close();
      },
    });
    const streamed = await app.request(`${ORIGIN}/console/login`, {
      method: 'POST',
      headers: { ...FORM, 'transfer-encoding': 'chunked' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await streamed.json()).toMatchObject({ code: 'FERRY_CONSOLE_BODY_TOO_LARGE' });
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const { app } = await setup();
    const res = await app.request(`${ORIGIN}/console/login`, { method: 'PUT', headers: { origin: ORIGIN } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, HEAD');
  });
});
