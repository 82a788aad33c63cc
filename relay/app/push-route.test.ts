import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createSystemClock } from '../core/clock.ts';
import { createPushSource } from '../core/push-source.ts';
import { createRelay, type Relay } from '../core/relay.ts';
import { createWebhookSigner } from '../core/webhook-signing.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { createMemoryDlq, createScriptedSender } from '../testing/fakes.ts';
import { createApp } from './app.ts';

const TOKEN = 'push-token-0123456789';
const relays: Relay[] = [];
afterEach(async () => {
  for (const r of relays.splice(0)) await r.stop({ deadlineMs: 100 });
});

async function setup(
  limits: {
    maxBodyBytes?: number;
    maxRecords?: number;
    requestsPerSecond?: number;
    signingSecrets?: string[];
    signatureToleranceSeconds?: number;
  } = {},
  clock = createSystemClock(),
) {
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
    clock,
    clientAddress: (c) => (c.env as { addr?: string } | undefined)?.addr,
    push: { source, token: TOKEN, timeoutMs: 5000, ...limits },
  });
  await relay.start();
  const push = (records: unknown[], token = TOKEN, addr = '10.0.0.1') =>
    app.request(
      '/push/batches',
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
      },
      { addr },
    );
  return { api, dlq, push, source, relay, app };
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

describe('HTTP push source: what is acknowledged', () => {
  it('refuses with 409 a batch below the start of a partition it never saw, and acknowledges nothing of it', async () => {
    const { api, push } = await setup();
    expect((await push([rec(1_000_000)])).status).toBe(200);
    const delivered = api.requests.length;
    const res = await push([rec(3), rec(4), rec(5)]);
    expect(res.status).toBe(409);
    const body = (await res.json()) as { status: string; code: string; message: string; offsets: string[] };
    expect(body).toMatchObject({ status: 'conflict', code: 'FERRY_PUSH_CONFLICT', offsets: ['3', '4', '5'] });
    expect(body.message).toContain('orders/0');
    expect(api.requests.length).toBe(delivered);
  });

  it('refuses with 409 an offset inside a gap it skipped, and still acknowledges what it really committed', async () => {
    const { api, push } = await setup();
    expect((await push([rec(10), rec(12)])).status).toBe(200);
    expect((await push([rec(20)])).status).toBe(200);
    expect(api.requests).toHaveLength(3);
    // 11 lies in the gap of the first batch, 15 between the batches: neither was ever processed.
    expect((await push([rec(11)])).status).toBe(409);
    expect((await push([rec(12), rec(15)])).status).toBe(409);
    // A batch is taken whole or not at all: the refused batch did not deliver its valid member either.
    expect((await push([rec(21), rec(15)].sort((a, b) => a.offset - b.offset))).status).toBe(409);
    expect(api.requests).toHaveLength(3);
    const again = await push([rec(10), rec(12), rec(20)]);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'committed', accepted: 0, alreadyDone: 3 });
    expect((await push([rec(21)])).status).toBe(200);
    expect(api.requests).toHaveLength(4);
  });
});

/** A request body produced on demand, counting the bytes the server pulled from it. */
function endlessBody(totalBytes: number, chunkBytes = 64 * 1024) {
  const chunk = new TextEncoder().encode('x'.repeat(chunkBytes));
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= totalBytes) {
        controller.close();
        return;
      }
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

describe('HTTP push source: limits', () => {
  it('keeps answering the real pusher during a bad-token flood from another address', async () => {
    const system = createSystemClock();
    // Time stands still, so the flooder's bucket never refills during the loop.
    const { push } = await setup({}, { now: () => 1_000_000, sleep: system.sleep });
    const flood: number[] = [];
    const pusher: number[] = [];
    for (let i = 0; i < 30; i++) {
      flood.push((await push([rec(i)], `guess-${i}-0123456789`, '203.0.113.9')).status);
      pusher.push((await push([rec(i)])).status);
    }
    expect(pusher.every((s) => s === 200)).toBe(true);
    expect(flood.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(flood.at(-1)).toBe(429);
  });

  it('answers 413 to a streamed body over the byte limit, having read little more than the limit', async () => {
    const { app, api } = await setup({ maxBodyBytes: 256 * 1024 });
    const body = endlessBody(64 * 1024 * 1024);
    const res = await app.request('/push/batches', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body.stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'FERRY_PUSH_TOO_LARGE' });
    expect(body.pulled()).toBeLessThan(1024 * 1024);
    expect(api.requests).toHaveLength(0);
  });

  it('answers 413 at once to a declared Content-Length over the limit', async () => {
    const { app } = await setup({ maxBodyBytes: 1024 });
    const res = await app.request('/push/batches', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        'content-length': '2048',
      },
      body: JSON.stringify({ records: [rec(0, { valueText: 'y'.repeat(2000) })] }),
    });
    expect(res.status).toBe(413);
  });

  it('answers 413 to a batch with more records than the limit, and delivers none of them', async () => {
    const { api, push } = await setup({ maxRecords: 3 });
    const res = await push([rec(0), rec(1), rec(2), rec(3)]);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'FERRY_PUSH_TOO_MANY_RECORDS' });
    expect(api.requests).toHaveLength(0);
    expect((await push([rec(0), rec(1), rec(2)])).status).toBe(200);
  });

  it('limits pushes per token: 429 with Retry-After beyond the rate, accepted again once it refills', async () => {
    let t = 1_000_000;
    const system = createSystemClock();
    const { app, push } = await setup({ requestsPerSecond: 2 }, { now: () => t, sleep: system.sleep });
    expect((await push([rec(0)])).status).toBe(200);
    expect((await push([rec(1)])).status).toBe(200);
    // The same token spelt differently is the same token, with the same budget.
    const respelt = await app.request('/push/batches', {
      method: 'POST',
      headers: { authorization: `bearer   ${TOKEN} `, 'content-type': 'application/json' },
      body: JSON.stringify({ records: [rec(2)] }),
    });
    expect(respelt.status).toBe(429);
    const limited = await push([rec(2)]);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ code: 'FERRY_PUSH_RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // A bad token is not charged to the pusher's budget, nor let through.
    expect((await push([rec(2)], 'wrong-token-0123456789')).status).toBe(401);
    t += 1000;
    expect((await push([rec(2)])).status).toBe(200);
  });

  it('answers 405 with Allow to a wrong method on /push/batches', async () => {
    const { app } = await setup();
    const res = await app.request('/push/batches', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEXT = 'whsec_dGhlIG90aGVyIHNlY3JldCwgMzIgYnl0ZXMgbG9uZyE=';

describe('HTTP push source: Standard Webhooks signatures', () => {
  const T0 = 1_700_000_000_000;
  async function signed(
    records: unknown[],
    {
      secret = SECRET,
      at = T0,
      id = 'batch-1',
    }: { secret?: string | string[]; at?: number; id?: string } = {},
  ) {
    const body = JSON.stringify({ records });
    const headers = await createWebhookSigner(secret).sign(id, Math.floor(at / 1000), body);
    return { body, headers };
  }
  async function signedSetup(limits: Parameters<typeof setup>[0] = {}) {
    let t = T0;
    const system = createSystemClock();
    const bed = await setup({ signingSecrets: [SECRET], ...limits }, { now: () => t, sleep: system.sleep });
    const send = (body: string, headers: Record<string, string>, token = TOKEN) =>
      bed.app.request(
        '/push/batches',
        {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
          body,
        },
        { addr: '10.0.0.1' },
      );
    return { ...bed, send, advance: (ms: number) => (t += ms) };
  }

  it('takes a signed batch, answers its replay idempotently by position, and refuses it once the signature is stale', async () => {
    const { api, send, advance } = await signedSetup();
    const { body, headers } = await signed([rec(0), rec(1), rec(2)]);
    const first = await send(body, headers);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'committed', accepted: 3, alreadyDone: 0 });
    // The same signed request again (a forwarder that never saw the answer): acknowledged, not re-delivered.
    const replay = await send(body, headers);
    expect(await replay.json()).toMatchObject({ status: 'committed', alreadyDone: 3 });
    expect(api.requests).toHaveLength(3);
    // Past the 5-minute tolerance the same bytes are refused before they are read as a batch.
    advance(301_000);
    const stale = await send(body, headers);
    expect(stale.status).toBe(401);
    expect(await stale.json()).toMatchObject({ code: 'FERRY_SIGNATURE_TIMESTAMP' });
  });

  it('refuses (401, nothing delivered) a batch without signature, signed with another secret, or tampered with', async () => {
    const { api, send, push } = await signedSetup();
    const unsigned = await push([rec(0)]);
    expect(unsigned.status).toBe(401);
    const missing = (await unsigned.json()) as { code: string; error: string };
    expect(missing).toMatchObject({ code: 'FERRY_SIGNATURE_MISSING' });
    expect(missing.error).toContain('webhook-signature');

    const other = await signed([rec(0)], { secret: NEXT });
    expect((await send(other.body, other.headers)).status).toBe(401);

    const { body, headers } = await signed([rec(0, { value: { amount: 10 } })]);
    const tampered = await send(body.replace('"amount":10', '"amount":99'), headers);
    expect(tampered.status).toBe(401);
    expect(await tampered.json()).toMatchObject({ code: 'FERRY_SIGNATURE_INVALID' });
    // A signature moved to another batch id does not hold either.
    expect((await send(body, { ...headers, 'webhook-id': 'batch-2' })).status).toBe(401);
    expect(api.requests).toHaveLength(0);
    // The bearer token still comes first: a valid signature with a wrong token is 401 from the guard.
    expect((await send(body, headers, 'wrong-token-0123456789')).status).toBe(401);
    expect(api.requests).toHaveLength(0);
    expect((await send(body, headers)).status).toBe(200);
    expect(api.requests).toHaveLength(1);
  });

  it('takes the id a forwarder gives a batch of the longest topic name Kafka allows', async () => {
    const { send } = await signedSetup();
    const topic = 'o'.repeat(249);
    const id = `${topic}/2147483647/9223372036854775806-9223372036854775807`;
    const { body, headers } = await signed([rec(0)], { id });
    expect((await send(body, headers)).status).toBe(200);
  });

  it('accepts either secret while rotating: the pusher sends both signatures, the relay knows one', async () => {
    const { send } = await signedSetup();
    const both = await signed([rec(0)], { secret: [NEXT, SECRET] });
    expect(both.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect((await send(both.body, both.headers)).status).toBe(200);
    const relayBoth = await signedSetup({ signingSecrets: [NEXT, SECRET] });
    const onlyNew = await signed([rec(0)], { secret: NEXT });
    expect((await relayBoth.send(onlyNew.body, onlyNew.headers)).status).toBe(200);
  });

  it('keeps the limits with signatures: 413 on bytes before the signature is checked, 413 on records after, 429 on rate', async () => {
    const big = await signedSetup({ maxBodyBytes: 1024 });
    const large = await signed([rec(0, { valueText: 'y'.repeat(2000) })]);
    const tooBig = await big.send(large.body, large.headers);
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toMatchObject({ code: 'FERRY_PUSH_TOO_LARGE' });

    const few = await signedSetup({ maxRecords: 2 });
    const three = await signed([rec(0), rec(1), rec(2)]);
    const tooMany = await few.send(three.body, three.headers);
    expect(tooMany.status).toBe(413);
    expect(await tooMany.json()).toMatchObject({ code: 'FERRY_PUSH_TOO_MANY_RECORDS' });
    // The same oversized batch unsigned is refused for its signature first: it never reached parsing.
    expect((await few.push([rec(0), rec(1), rec(2)])).status).toBe(401);

    const slow = await signedSetup({ requestsPerSecond: 1 });
    const one = await signed([rec(0)]);
    expect((await slow.send(one.body, one.headers)).status).toBe(200);
    const limited = await slow.send(one.body, one.headers);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ code: 'FERRY_PUSH_RATE_LIMITED' });
    slow.advance(1000);
    expect(await (await slow.send(one.body, one.headers)).json()).toMatchObject({ alreadyDone: 1 });
  });
});
