import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../../deploy/local/config.ts';
import { createUpstashDedupeStore } from '../../relay/adapters/dedupe-upstash.ts';
import { isFerryError } from '../../relay/core/errors.ts';
import { dedupeContract } from '../support/dedupe-contract.ts';
import { startUpstashGateway, type UpstashGateway } from '../support/upstash-gateway.ts';

let gateway: UpstashGateway;
beforeAll(async () => {
  gateway = await startUpstashGateway({ redisUrl: REDIS_URL });
});
afterAll(() => gateway.close());

dedupeContract('upstash', async (instanceId) =>
  createUpstashDedupeStore({ instanceId, url: gateway.url, token: gateway.token }),
);

const isSetNx = (path: string, body: unknown) =>
  path === '/pipeline' && JSON.stringify(body).includes('"nx"');

describe('upstash store caveats', () => {
  it('speaks the real protocol: pipelines, base64, bearer token, sync token', async () => {
    const store = createUpstashDedupeStore({ instanceId: 'u1', url: gateway.url, token: gateway.token });
    const sink = `up${Date.now()}`;
    const before = gateway.requests.length;
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.claim(sink, `e${i}`, 5_000)),
    );
    expect(results.every((r) => r === 'claimed')).toBe(true);
    const sent = gateway.requests.slice(before);
    // Auto-pipelining: 100 claims issued in one tick became one POST /pipeline.
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/pipeline');
    expect(sent[0]!.headers['upstash-encoding']).toBe('base64');
    await store.markDone(sink, 'e1', 60_000);
    expect(await store.claim(sink, 'e1', 5_000)).toBe('done');
    const last = gateway.requests.at(-1)!;
    expect(Number(last.headers['upstash-sync-token'])).toBeGreaterThan(0);
  });

  it('a lost reply to SET NX makes a raw client see a fresh claim as taken; the store does not', async () => {
    const sink = `drop${Date.now()}`;
    // The caveat, shown with the raw client: the retry of a landed SET NX answers null.
    const raw = new Redis({
      url: gateway.url,
      token: gateway.token,
      enableTelemetry: false,
      retry: { retries: 2, backoff: () => 10 },
    });
    gateway.dropReplies(1, isSetNx);
    expect(await raw.set(`ferry:dedupe:${sink}:raw`, 'pending:x', { nx: true, px: 5_000 })).toBeNull();

    const store = createUpstashDedupeStore({ instanceId: 'u2', url: gateway.url, token: gateway.token });
    gateway.dropReplies(1, isSetNx);
    const before = gateway.requests.length;
    expect(await store.claim(sink, 'fresh', 5_000)).toBe('claimed');
    const outcomes = gateway.requests.slice(before).map((r) => r.outcome);
    expect(outcomes[0]).toBe('dropped');
    // And another instance still sees it as pending elsewhere: the claim is real.
    const other = createUpstashDedupeStore({ instanceId: 'u3', url: gateway.url, token: gateway.token });
    expect(await other.claim(sink, 'fresh', 5_000)).toBe('pending-elsewhere');
  });

  it('errors never carry keys or values, and mean "unavailable"', async () => {
    const sink = `secret${Date.now()}`;
    const store = createUpstashDedupeStore({ instanceId: 'u4', url: gateway.url, token: gateway.token });
    gateway.failRequests(1, 400);
    const err = await store.claim(sink, 'customer-42@example.com', 5_000).catch((e: unknown) => e);
    expect(isFerryError(err) && err.code === 'FERRY_DEDUPE_UNAVAILABLE' && err.retryable).toBe(true);
    const text = String((err as Error).message) + String((err as Error).stack) + JSON.stringify(err);
    expect(text).not.toContain('customer-42');
    expect(text).not.toContain(sink);

    const wrong = createUpstashDedupeStore({ instanceId: 'u5', url: gateway.url, token: 'nope' });
    const err2 = await wrong.markDone(sink, 'customer-42@example.com', 1_000).catch((e: unknown) => e);
    expect(isFerryError(err2)).toBe(true);
    expect(String((err2 as Error).message)).not.toContain('customer-42');
    expect(await wrong.ping()).toBe(false);

    const down = createUpstashDedupeStore({
      instanceId: 'u6',
      url: 'http://127.0.0.1:1',
      token: 't',
      retries: 1,
    });
    const err3 = await down.claim(sink, 'x', 1_000).catch((e: unknown) => e);
    expect(isFerryError(err3) && err3.code === 'FERRY_DEDUPE_UNAVAILABLE').toBe(true);
  });
});
