import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaultState } from '../support/mock-api/faults.ts';
import { createMockApiClient, decide, type MockApi, startMockApi } from '../support/mock-api/index.ts';

const post = (url: string, key: string | null, body: unknown, extra: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === null ? {} : { 'idempotency-key': key }),
      ...extra,
    },
    body: JSON.stringify(body),
  });

describe('mock API', () => {
  let api: MockApi;
  beforeAll(async () => {
    api = await startMockApi({ endpoints: ['orders'] });
  });
  afterAll(() => api.stop());

  it('applies each idempotency key once and counts replays and order', async () => {
    api.reset();
    expect((await post(`${api.url}/orders/1`, 'e1', { key: 'a', seq: 1 })).status).toBe(200);
    expect(await (await post(`${api.url}/orders/1`, 'e1', { key: 'a', seq: 1 })).json()).toEqual({
      applied: false,
      replay: true,
    });
    await post(`${api.url}/orders/1`, 'e3', { key: 'a', seq: 3 });
    await post(`${api.url}/orders/1`, 'e2', { key: 'a', seq: 2 });
    await post(`${api.url}/orders/1`, 'e2b', { key: 'a', seq: 2 });
    const r = api.report('orders');
    expect(r.received).toBe(5);
    expect(r.applied).toBe(4);
    expect(r.replays).toBe(1);
    expect(r.duplicateKeys).toEqual([{ key: 'e1', count: 2 }]);
    expect(r.orderViolations).toBe(2);
    expect(r.duplicateApplications).toBe(1);
    expect(api.ledger('orders').requests[0]?.body).toBe('{"key":"a","seq":1}');
  });

  it('injects faults over the control API: fixed status, 429, reset, down', async () => {
    const client = createMockApiClient(api.url);
    await client.reset('orders');
    await client.setFaults('orders', { fixed: { status: 503, count: 2 } });
    expect((await post(`${api.url}/orders`, 'x1', {})).status).toBe(503);
    expect((await post(`${api.url}/orders`, 'x1', {})).status).toBe(503);
    expect((await post(`${api.url}/orders`, 'x1', {})).status).toBe(200);

    await client.setFaults('orders', { rateLimit: { rate: 1, retryAfter: '7' } });
    const limited = await post(`${api.url}/orders`, 'x2', {});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');

    await client.setFaults('orders', { resetRate: 1 });
    await expect(post(`${api.url}/orders`, 'x3', {})).rejects.toThrow();
    await client.setFaults('orders', { down: true });
    await expect(post(`${api.url}/orders`, 'x4', {})).rejects.toThrow();

    await client.setFaults('orders', {});
    const report = await client.report('orders');
    expect(report.byOutcome).toMatchObject({ '503': 2, '200': 1, '429': 1, reset: 1, down: 1 });
    expect(report.applied).toBe(1);
    expect(await client.applied('orders')).toEqual(['x1']);
  });

  it('hangs until the client gives up, and applies nothing', async () => {
    api.reset('orders');
    api.setFaults('orders', { hangRate: 1 });
    await expect(
      fetch(`${api.url}/orders`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) }),
    ).rejects.toThrow();
    api.setFaults('orders', {});
    expect(api.report('orders')).toMatchObject({ received: 1, applied: 0, byOutcome: { hang: 1 } });
  });

  it('a fixed window ends after forMs', () => {
    const state = createFaultState({ fixed: { status: 500, forMs: 100 } }, 1000);
    expect(decide(state, 1050)).toMatchObject({ kind: 'answer', status: 500 });
    expect(decide(state, 1101)).toMatchObject({ kind: 'answer', status: 200 });
  });

  it('adds latency from the distribution', async () => {
    api.setFaults('orders', { latency: { kind: 'fixed', ms: 80 } });
    const t0 = performance.now();
    await post(`${api.url}/orders`, 'lat', {});
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    api.setFaults('orders', {});
  });
});

describe('ferry mock-api (as a process)', () => {
  it('starts, serves, is controlled over HTTP, stops on SIGTERM', async () => {
    const { spawnMockApi } = await import('../support/mock-api/process.ts');
    const proc = await spawnMockApi(['--endpoints', 'a,b']);
    try {
      const client = createMockApiClient(proc.url);
      await client.setFaults('a', { fixed: { status: 409, count: 1 } });
      expect((await post(`${proc.url}/a/x`, 'p1', { key: 'k', seq: 1 })).status).toBe(409);
      expect((await post(`${proc.url}/a/x`, 'p1', { key: 'k', seq: 1 })).status).toBe(200);
      const report = await client.report('a');
      expect(report).toMatchObject({ received: 2, applied: 1, byOutcome: { '409': 1, '200': 1 } });
      expect((await client.requests('a'))[0]).toMatchObject({
        method: 'POST',
        path: '/a/x',
        idempotencyKey: 'p1',
      });
    } finally {
      await proc.stop();
    }
    expect(proc.child.exitCode).toBe(0);
  });
});

describe('the mock API served by Bun.serve (test/support/mock-api/main.ts under Bun)', () => {
  it('behaves as the node:http server: ledger, replays, order, 429, reset, down, hang', async () => {
    const { spawnMockApi } = await import('../support/mock-api/process.ts');
    const proc = await spawnMockApi(['--endpoints', 'orders'], { runtime: 'bun' });
    try {
      const client = createMockApiClient(proc.url);
      expect((await post(`${proc.url}/orders/1`, 'e1', { key: 'a', seq: 1 })).status).toBe(200);
      expect(await (await post(`${proc.url}/orders/1`, 'e1', { key: 'a', seq: 1 })).json()).toEqual({
        applied: false,
        replay: true,
      });
      await post(`${proc.url}/orders/1`, 'e3', { key: 'a', seq: 3 });
      await post(`${proc.url}/orders/1`, 'e2', { key: 'a', seq: 2 });
      await client.setFaults('orders', { fixed: { status: 409, count: 1 } });
      expect((await post(`${proc.url}/orders`, 'p1', {})).status).toBe(409);
      await client.setFaults('orders', { rateLimit: { rate: 1, retryAfter: '7' } });
      const limited = await post(`${proc.url}/orders`, 'x2', {});
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
      await client.setFaults('orders', { resetRate: 1 });
      await expect(post(`${proc.url}/orders`, 'x3', {})).rejects.toThrow();
      await client.setFaults('orders', { down: true });
      await expect(post(`${proc.url}/orders`, 'x4', {})).rejects.toThrow();
      await client.setFaults('orders', { hangRate: 1 });
      await expect(
        fetch(`${proc.url}/orders`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(200) }),
      ).rejects.toThrow();
      await client.setFaults('orders', {});
      const report = await client.report('orders');
      expect(report).toMatchObject({
        received: 9,
        applied: 3,
        replays: 1,
        orderViolations: 1,
        duplicateKeys: [{ key: 'e1', count: 2 }],
        byOutcome: { '200': 4, '409': 1, '429': 1, reset: 1, down: 1, hang: 1 },
      });
      expect(await client.applied('orders')).toEqual(['e1', 'e3', 'e2']);
      expect((await client.requests('orders'))[0]).toMatchObject({
        method: 'POST',
        path: '/orders/1',
        idempotencyKey: 'e1',
        body: '{"key":"a","seq":1}',
      });
    } finally {
      await proc.stop();
    }
    expect(proc.child.exitCode).toBe(0);
  });
});
