import { afterAll, expect, it } from 'vitest';
import { createRedisDedupeStore, type RedisDedupeStore } from '../../relay/adapters/dedupe-redis.ts';
import type { DedupeStore } from '../../relay/core/contracts.ts';
import { isFerryError } from '../../relay/core/errors.ts';
import { dedupeContract } from '../support/dedupe-contract.ts';
import { REDIS_URL } from '../support/stack-env.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

dedupeContract('redis', async (instanceId) => {
  const store = createRedisDedupeStore({ instanceId, url: REDIS_URL });
  await store.ready();
  return store;
});

const stores: DedupeStore[] = [];
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
});

it('claims issued in the same tick share one pipeline', async () => {
  const store = createRedisDedupeStore({ instanceId: 'p', url: REDIS_URL });
  stores.push(store);
  await store.ready();
  const sink = `pipe${Date.now()}`;
  const before = store.stats();
  await Promise.all(Array.from({ length: 300 }, (_, i) => store.claim(sink, String(i), 5_000)));
  const after = store.stats();
  expect(after.operations - before.operations).toBe(300);
  expect(after.batches - before.batches).toBe(1);
});

it('fails fast with FERRY_DEDUPE_UNAVAILABLE while Redis is unreachable, and recovers', async () => {
  // A TCP proxy we control in front of the real Redis: cutting it makes Redis unreachable.
  const target = new URL(REDIS_URL);
  const proxy = await startTcpProxy(target.hostname, Number(target.port));
  const port = proxy.port;
  const store: RedisDedupeStore = createRedisDedupeStore({
    instanceId: 'x',
    url: `redis://127.0.0.1:${port}`,
  });
  stores.push(store);
  await store.ready();
  const sink = `down${Date.now()}`;
  expect(await store.claim(sink, 'a', 5_000)).toBe('claimed');

  proxy.down();
  const t0 = Date.now();
  const err = await store.claim(sink, 'b', 5_000).catch((e: unknown) => e);
  expect(isFerryError(err) && err.code === 'FERRY_DEDUPE_UNAVAILABLE' && err.retryable).toBe(true);
  expect(String((err as Error).message)).not.toContain(sink);
  // Fails fast (no offline queue), well before any request timeout of a sink.
  expect(Date.now() - t0).toBeLessThan(5_000);
  expect(await store.ping()).toBe(false);

  proxy.up();
  await store.ready();
  expect(await store.claim(sink, 'b', 5_000)).toBe('claimed');
  await proxy.close();
});
