// The push client against a real HTTP server (Hono on node:http): what goes on the wire, and how
// answers, timeouts, refused connections and aborts come back.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/ports.ts';
import { createWebhookSigner, createWebhookVerifier } from '../core/webhook-signing.ts';
import { encodePushBatch } from './push-batch.ts';
import { createPushClient } from './push-client.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const verifier = createWebhookVerifier(SECRET);
const seen: Array<{ headers: Headers; verified: boolean; body: string }> = [];
let answer: () => Response | Promise<Response> = () =>
  Response.json({ status: 'committed', accepted: 1, alreadyDone: 0 });

const app = new Hono();
app.post('/push/batches', async (c) => {
  const body = new Uint8Array(await c.req.arrayBuffer());
  const verified = (await verifier.verify(c.req.raw.headers, body, Date.now())).ok;
  seen.push({ headers: c.req.raw.headers, verified, body: new TextDecoder().decode(body) });
  return answer();
});
const server = await new Promise<{ url: string; close(): void }>((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
    resolve({ url: `http://127.0.0.1:${info.port}/push/batches`, close: () => s.close() }),
  );
});
afterAll(() => server.close());

const batch = encodePushBatch([
  {
    topic: 'orders',
    partition: 0,
    offset: 7n,
    key: new TextEncoder().encode('k'),
    value: new TextEncoder().encode('{"id":7}'),
    headers: [],
    timestamp: 1,
  },
]);

describe('push client', () => {
  it('sends the token and a signature the relay verifies over the exact body, the same id each attempt', async () => {
    seen.length = 0;
    const client = createPushClient({
      url: server.url,
      token: 'the-token-0123456789',
      signer: createWebhookSigner(SECRET),
    });
    expect(await client.push(batch)).toEqual({ kind: 'committed', alreadyDone: 0 });
    expect(await client.push(batch)).toEqual({ kind: 'committed', alreadyDone: 0 });
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.verified).toBe(true);
      expect(s.headers.get('authorization')).toBe('Bearer the-token-0123456789');
      expect(s.headers.get('content-type')).toBe('application/json');
      expect(s.headers.get('webhook-id')).toBe('orders/0/7-7');
      expect(JSON.parse(s.body)).toMatchObject({
        records: [{ offset: '7', key: 'k', valueText: '{"id":7}' }],
      });
    }
    const unsigned = createPushClient({ url: server.url, token: 'the-token-0123456789' });
    await unsigned.push(batch);
    expect(seen[2]?.headers.get('webhook-signature')).toBeNull();
    expect(seen[2]?.verified).toBe(false);
  });

  it('reads Retry-After on 429, and reports 503 as a retry with the relay reason', async () => {
    const client = createPushClient({ url: server.url, token: 't-0123456789' });
    answer = () =>
      Response.json({ error: 'too many pushes' }, { status: 429, headers: { 'retry-after': '3' } });
    expect(await client.push(batch)).toEqual({
      kind: 'retry',
      reason: '429 too many pushes',
      retryAfterMs: 3000,
    });
    answer = () => Response.json({ status: 'stopped' }, { status: 503 });
    expect(await client.push(batch)).toMatchObject({ kind: 'retry', reason: '503 stopped' });
    answer = () => Response.json({ status: 'committed', accepted: 1, alreadyDone: 0 });
  });

  it('turns no answer in time, a refused connection and an abort into retries, never a throw', async () => {
    answer = () => new Promise<Response>(() => {});
    const slow = createPushClient({ url: server.url, token: 't-0123456789', requestTimeoutMs: 200 });
    expect(await slow.push(batch)).toEqual({ kind: 'retry', reason: 'network: no answer in 200 ms' });
    const abort = new AbortController();
    const pending = slow.push(batch, abort.signal);
    abort.abort();
    expect(await pending).toEqual({ kind: 'retry', reason: 'abandoned' });
    answer = () => Response.json({ status: 'committed', accepted: 1, alreadyDone: 0 });
    const nowhere = createPushClient({
      url: `http://127.0.0.1:${await freePort()}/push/batches`,
      token: 't-0123456789',
    });
    const refused = await nowhere.push(batch);
    expect(refused).toMatchObject({ kind: 'retry' });
    expect(refused.kind === 'retry' && refused.reason).toMatch(/^network: .*ECONNREFUSED/);
  });
});
