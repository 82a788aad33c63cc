// Property tests of the relay's HTTP surface (Hono app with the push source) under arbitrary requests:
// methods, paths, tokens, content types and bodies, push batches and replay requests of any shape. The
// app answers every one with a status below 500 (bar a not-ready /readyz) and a JSON or text body,
// nothing escapes as an exception, a wrong token is never 2xx, no answer carries a token the request did
// not, and a push answered `committed` had every one of its records processed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryDedupeStore } from '../../relay/adapters/dedupe-memory.ts';
import { createApp } from '../../relay/app/app.ts';
import { createSystemClock } from '../../relay/core/clock.ts';
import type { DlqReader, SinkRequest } from '../../relay/core/contracts.ts';
import { deadLetterHeaders } from '../../relay/core/dlq-headers.ts';
import { createPushSource } from '../../relay/core/push-source.ts';
import { createRelay } from '../../relay/core/relay.ts';
import { createRegistry } from '../../relay/metrics/registry.ts';
import { testConfig, testSink } from '../../relay/testing/config.ts';
import { createMemoryDlq, createScriptedSender } from '../../relay/testing/fakes.ts';

const ADMIN = 'admin-token-0123456789abcdef';
const PUSH = 'push-token-0123456789abcdef';
const dec = new TextDecoder();

// ---- the relay behind the app -------------------------------------------------------------------

/** A relay on the push source with one sink, fresh per run, so a counterexample replays alone. */
async function startWorld() {
  /** The API rejects values whose `reject` field is true, so the DLQ (and replay) have records too. */
  const api = createScriptedSender((r: SinkRequest) => {
    const body = typeof r.body === 'string' ? r.body : r.body ? dec.decode(r.body) : '';
    return body.includes('"reject":true')
      ? { kind: 'response', status: 422 }
      : { kind: 'response', status: 200 };
  });
  const source = createPushSource();
  const dlq = createMemoryDlq();
  const metrics = createRegistry();
  const reader: DlqReader = {
    async *read() {
      let offset = 0n;
      for (const { record, reason } of [...dlq.records]) {
        yield {
          ...record,
          topic: 'dlq.relay',
          partition: 0,
          offset: offset++,
          headers: deadLetterHeaders(record, reason),
        };
      }
    },
    async close() {},
  };
  const relay = createRelay({
    config: testConfig({ routes: [{ topics: ['orders', 'audit'], sinks: [testSink('api')] }] }).relay,
    source,
    senders: { api },
    dedupe: { memory: createMemoryDedupeStore({ instanceId: 'http' }) },
    dlq,
    metrics,
    instanceId: 'http',
  });
  await relay.start();
  return {
    relay,
    api,
    dlq,
    /** Positions pushed with a 2xx answer, per `topic-partition`. */
    pushed: new Map<string, { highest: bigint; seen: Set<bigint> }>(),
    /**
     * One app for the whole run: failed tokens are limited per client after the token check, so the
     * wrong tokens of earlier requests never shut out a right one.
     */
    app: createApp({
      relay,
      metrics,
      adminToken: ADMIN,
      dlqReader: reader,
      clock: createSystemClock(),
      replayPerSecond: 100_000,
      push: { source, token: PUSH, timeoutMs: 300 },
    }),
  };
}
type World = Awaited<ReturnType<typeof startWorld>>;

// ---- generated requests -------------------------------------------------------------------------

/** Header-safe text (a Request refuses anything else before the app sees it). */
const headerText = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength });

const token = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(`Bearer ${ADMIN}`, `Bearer ${PUSH}`) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `bearer ${ADMIN}`,
      `Bearer  ${ADMIN}  `,
      `Basic ${ADMIN}`,
      ADMIN,
      `Bearer ${ADMIN.slice(0, -1)}`,
      `Bearer ${ADMIN}x`,
      `Bearer ${ADMIN.toUpperCase()}`,
      `Bearer ${PUSH}${ADMIN}`,
      `Bearer ${'a'.repeat(100_000)}`,
    ),
  },
  { weight: 2, arbitrary: headerText(40).map((t) => `Bearer ${t}`) },
);

const sinkId = fc.oneof(fc.constantFrom('api', 'nope', '', '..', '%2e%2e', 'api%00'), fc.webSegment());

const path = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '/healthz',
      '/readyz',
      '/metrics',
      '/v1/sinks',
      '/v1/dlq/replay',
      '/push/batches',
      '/push/batches/',
      '/v1/sinks/',
      '//v1/sinks',
      '/v1/../push/batches',
      '/V1/SINKS',
      '/push/batches?x=1',
      '/v1/sinks?token=x',
      '/push',
      '/',
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(sinkId, fc.constantFrom('pause', 'resume', 'stop'))
      .map(([id, a]) => `/v1/sinks/${id}/${a}`),
  },
  { weight: 1, arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)) },
);

const method = fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
);

const pushRecord = fc.record(
  {
    topic: fc.oneof(
      fc.constantFrom('orders', 'audit', 'unrouted', ''),
      fc.string({ maxLength: 8 }),
      fc.integer(),
    ),
    partition: fc.oneof(fc.nat({ max: 2 }), fc.constantFrom(-1, 1.5, 2 ** 53, '0', null)),
    offset: fc.oneof(
      { weight: 4, arbitrary: fc.nat({ max: 30 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom<unknown>(
          -1,
          1.5,
          2 ** 53,
          '7',
          '00',
          '99999999999999999999',
          '-1',
          '',
          'x',
          null,
          1e21,
        ),
      },
    ),
    key: fc.oneof(fc.constantFrom('k0', 'k1', null), fc.string({ maxLength: 10 })),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ id: fc.integer(), reject: fc.boolean() }),
      fc.constant({ reject: true }),
    ),
    valueText: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('{"id":1}', '{', 'null', '')),
    headers: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 16 }), fc.string({ maxLength: 16 }), { maxKeys: 3 }),
      fc.constantFrom<unknown>(
        { 'ferry-event-id': 'evt\r\n1' },
        { 'ferry-event-id': 'x'.repeat(20_000) },
        { a: 1 },
        [],
      ),
    ),
    timestamp: fc.oneof(fc.integer(), fc.constantFrom<unknown>('now', -1, 1e300)),
    extra: fc.anything({ maxDepth: 1 }),
  },
  { requiredKeys: ['topic', 'partition', 'offset'] },
);

/** A batch the schema accepts: offsets increasing per partition, values of any JSON or raw text. */
const validBatch = fc
  .array(
    fc.record(
      {
        topic: fc.constantFrom('orders', 'audit', 'unrouted'),
        partition: fc.nat({ max: 2 }),
        offset: fc.nat({ max: 40 }),
        key: fc.oneof(fc.constantFrom('k0', 'k1', null), fc.string({ maxLength: 10 })),
        value: fc.oneof(fc.record({ id: fc.integer(), reject: fc.boolean() }), fc.jsonValue({ maxDepth: 3 })),
        valueText: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('{"id":1}', '{', 'null', '')),
        headers: fc.dictionary(
          fc.oneof(fc.string({ maxLength: 16 }), fc.constant('ferry-event-id')),
          fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom('evt\r\n1', 'x'.repeat(20_000))),
          { maxKeys: 3 },
        ),
        timestamp: fc.integer(),
      },
      { requiredKeys: ['topic', 'partition', 'offset'] },
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((records) => {
    const seen = new Set<string>();
    return records
      .filter(
        (r) =>
          !seen.has(`${r.topic}/${r.partition}/${r.offset}`) &&
          seen.add(`${r.topic}/${r.partition}/${r.offset}`),
      )
      .sort((x, y) => x.offset - y.offset);
  });

const pushBody = fc.oneof(
  { weight: 6, arbitrary: validBatch.map((records) => ({ records })) },
  {
    weight: 2,
    arbitrary: fc.array(pushRecord, { minLength: 1, maxLength: 12 }).map((records) => ({ records })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      { records: [] },
      { records: {} },
      { record: [] },
      [],
      null,
      1,
      'records',
    ),
  },
);

const validReplay = fc.record(
  {
    sink: fc.constant('api'),
    topic: fc.constant('orders'),
    partition: fc.nat({ max: 2 }),
    fromOffset: fc.nat({ max: 40 }),
    limit: fc.integer({ min: 1, max: 50 }),
    dryRun: fc.boolean(),
  },
  { requiredKeys: ['sink'] },
);

const replayBody = fc.record(
  {
    sink: fc.oneof(fc.constantFrom('api', 'nope', ''), fc.integer()),
    from: fc.oneof(fc.integer({ min: -1 }), fc.constantFrom('2020-01-01T00:00:00Z', 'yesterday', '')),
    to: fc.oneof(fc.integer(), fc.constantFrom('2100-01-01', 'never')),
    topic: fc.oneof(fc.constantFrom('orders'), fc.string({ maxLength: 6 })),
    partition: fc.oneof(fc.nat({ max: 2 }), fc.constantFrom(-1, 0.5)),
    fromOffset: fc.oneof(fc.nat(), fc.constantFrom('0', '99999999999999999999', '-1', 'x', 1e21)),
    toOffset: fc.oneof(fc.nat(), fc.constantFrom('5', 'x')),
    limit: fc.oneof(fc.integer({ min: -1, max: 200_000 }), fc.constantFrom(0.5, '10')),
    dryRun: fc.oneof(fc.boolean(), fc.constantFrom('true', 1)),
    extra: fc.string(),
  },
  { requiredKeys: [] },
);

const body = fc.oneof(
  { weight: 4, arbitrary: pushBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: replayBody.map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '{',
      '{"records":',
      'null',
      '\ufeff{"records":[]}',
      '[1,2',
      '{"a":1}{"b":2}',
    ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const request = fc.oneof(
  fc.record({ method, path, token, contentType, body }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/push/batches'),
    token: fc.constant(`Bearer ${PUSH}`),
    contentType: fc.constant('application/json'),
    body: pushBody.map((b) => JSON.stringify(b)),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/v1/dlq/replay'),
    token: fc.constant(`Bearer ${ADMIN}`),
    contentType: fc.constant('application/json'),
    body: fc.oneof(validReplay, replayBody).map((b) => JSON.stringify(b)),
  }),
);
type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

// ---- the properties -----------------------------------------------------------------------------

/** Positions of push records whose processing is observable: sent to the API or dead-lettered. */
function processed({ api, dlq }: World): Set<string> {
  const done = new Set<string>();
  for (const r of api.requests) done.add(r.headers['idempotency-key'] ?? '');
  for (const d of dlq.records) done.add(`${d.record.topic}-${d.record.partition}-${d.record.offset}`);
  return done;
}

interface PushedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number | string;
  readonly value?: unknown;
  readonly valueText?: string;
  readonly headers?: Record<string, string>;
}

/** A record whose value is JSON null: filtered as a tombstone, so never sent anywhere. */
function tombstone(r: PushedRecord): boolean {
  const text = r.valueText ?? (r.value === undefined ? 'null' : JSON.stringify(r.value));
  try {
    return JSON.parse(text) === null;
  } catch {
    return false;
  }
}

async function send(world: World, req: Req): Promise<void> {
  const { pushed } = world;
  const headers: Record<string, string> = {};
  if (req.token !== undefined) headers.authorization = req.token;
  if (req.contentType !== undefined) headers['content-type'] = req.contentType;
  const withBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== undefined;
  const before = [...pushed].map(([k, v]) => [k, v.highest, new Set(v.seen)] as const);

  let res: Response | undefined;
  let thrown: unknown;
  try {
    res = await world.app.request(req.path, {
      method: req.method,
      headers,
      ...(withBody ? { body: req.body as BodyInit } : {}),
    });
  } catch (e) {
    thrown = e;
  }
  const label = `${req.method} ${req.path} (${req.token?.slice(0, 60)})`;
  expect(thrown, label).toBeUndefined();
  if (!res) return;
  const text = await res.text();

  // A 4xx or 2xx (503 only for readiness), with a JSON body when it says so.
  if (!(res.status === 503 && req.path === '/readyz'))
    expect(res.status, `${label}: ${text.slice(0, 300)}`).toBeLessThan(500);
  expect(res.status).toBeGreaterThanOrEqual(200);
  const type = res.headers.get('content-type') ?? '';
  if (req.method !== 'HEAD' && type.includes('application/json'))
    expect(() => JSON.parse(text), text.slice(0, 200)).not.toThrow();
  if (req.method !== 'HEAD' && text.length > 0)
    expect(type, label).toMatch(/^(application\/json|text\/plain)/);

  // A wrong token is never let in; no answer carries a token the request did not.
  const pathname = new URL(`http://localhost${req.path}`).pathname; // as app.request builds it
  const guarded = /^\/(v1|push)(\/|$)/.test(pathname);
  const presented = /^Bearer\s+(.+)$/i.exec(req.token ?? '')?.[1]?.trim();
  const rightToken = pathname.startsWith('/push') ? PUSH : ADMIN;
  if (guarded && presented !== rightToken) expect(res.status, label).not.toBeLessThan(300);
  // A right token always passes the guard, whatever wrong tokens came before it.
  if (guarded && presented === rightToken) expect([401, 429], label).not.toContain(res.status);
  for (const secret of [ADMIN, PUSH]) {
    const given = `${req.path} ${req.token ?? ''} ${typeof req.body === 'string' ? req.body : ''}`.includes(
      secret,
    );
    if (!given) expect(text.includes(secret), `${label} echoed a token`).toBe(false);
  }

  // A push answered `committed` had every record processed (sent to the API or dead-lettered);
  // tombstones, records with their own event id and unrouted topics are not observable here.
  if (pathname === '/push/batches' && res.status === 200) {
    const records = (JSON.parse(req.body as string) as { records: PushedRecord[] }).records;
    const done = processed(world);
    for (const r of records) {
      const tp = `${r.topic}-${r.partition}`;
      const offset = BigInt(r.offset);
      const prior = before.find(([k]) => k === tp);
      // A position pushed before was judged then (a re-push is answered from its position).
      if (prior?.[2].has(offset)) continue;
      const observable =
        (r.topic === 'orders' || r.topic === 'audit') &&
        r.headers?.['ferry-event-id'] === undefined &&
        !tombstone(r);
      if (observable) expect(done.has(`${tp}-${offset}`), `${tp}-${offset} committed unprocessed`).toBe(true);
    }
  }
  if (pathname === '/push/batches' && res.status < 300) {
    const records = (JSON.parse(req.body as string) as { records: PushedRecord[] }).records;
    for (const r of records) {
      const tp = `${r.topic}-${r.partition}`;
      const p = pushed.get(tp) ?? { highest: -1n, seen: new Set<bigint>() };
      p.seen.add(BigInt(r.offset));
      if (BigInt(r.offset) > p.highest) p.highest = BigInt(r.offset);
      pushed.set(tp, p);
    }
  }
}

describe('relay HTTP surface under arbitrary requests', () => {
  it('answers every request below 500 with a JSON or text body; wrong tokens are never let in', async () => {
    const escapes: unknown[] = [];
    const onEscape = (e: unknown) => escapes.push(e);
    process.on('unhandledRejection', onEscape);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
          const world = await startWorld();
          try {
            for (const r of requests) await send(world, r);
          } finally {
            await world.relay.stop({ deadlineMs: 50 });
          }
        }),
        { numRuns: 200, interruptAfterTimeLimit: 60_000 },
      );
    } finally {
      process.off('unhandledRejection', onEscape);
    }
    expect(escapes).toEqual([]);
  }, 90_000);
});
