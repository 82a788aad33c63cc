import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { adminAuth } from '../relay/app/admin-auth.ts';
import { adminCall, replayBody } from './relay-admin.ts';

const TOKEN = 'cli-admin-token-0123456789';
const app = new Hono();
app.use('/v1/*', adminAuth(TOKEN));
app.get('/v1/sinks', (c) => c.json({ sinks: [{ id: 'a' }] }));
app.post('/v1/dlq/replay', async (c) => c.json({ echo: await c.req.json() }));
const server = await new Promise<{ url: string; close(): void }>((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
    resolve({ url: `http://127.0.0.1:${info.port}`, close: () => s.close() }),
  );
});
afterAll(() => server.close());

describe('relay admin client', () => {
  it('sends the bearer token and parses JSON answers', async () => {
    expect(await adminCall({ url: server.url, token: TOKEN, method: 'GET', path: '/v1/sinks' })).toEqual({
      status: 200,
      body: { sinks: [{ id: 'a' }] },
    });
    expect(
      (await adminCall({ url: server.url, token: undefined, method: 'GET', path: '/v1/sinks' })).status,
    ).toBe(401);
  });

  it('builds replay bodies from CLI options', async () => {
    const body = replayBody('billing', {
      dryRun: true,
      from: '2026-11-26T00:00:00Z',
      to: '1700000000000',
      partition: '2',
      fromOffset: '10',
      limit: '5',
    });
    expect(body).toEqual({
      sink: 'billing',
      dryRun: true,
      from: '2026-11-26T00:00:00Z',
      to: 1700000000000,
      partition: 2,
      fromOffset: '10',
      limit: 5,
    });
    const answer = await adminCall({
      url: server.url,
      token: TOKEN,
      method: 'POST',
      path: '/v1/dlq/replay',
      body,
    });
    expect(answer.body).toEqual({ echo: body });
  });
});
