// Contract: every request the pull driver sends and every answer the test HTTP Proxy gives match
// Redpanda's recorded OpenAPI definitions (test/fixtures/pandaproxy/openapi.json), so neither can
// drift into a private dialect. The definitions are JSON Schema draft 4 (Swagger 2.0), checked with
// ajv's draft-04 build. Where Redpanda's handlers differ from its own definitions, the handlers win,
// and only the corrections listed in test/fixtures/pandaproxy/README.md are applied (HANDLER_* below).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProxyClient } from '../../relay/adapters/http-proxy/index.ts';
import { produceClean, startProxyRelay } from '../support/http-proxy/relay.ts';
import { type Exchange, type HttpProxyServer, startHttpProxy } from '../support/http-proxy/server.ts';
import { deleteTopics } from '../support/relay-kafka.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';

type Schema = Record<string, unknown>;
interface Operation {
  readonly operationId: string;
  readonly consumes?: string[];
  readonly produces?: string[];
  readonly parameters?: Array<{
    name: string;
    in: string;
    required?: boolean;
    type?: string;
    schema?: Schema;
  }>;
  readonly responses: Record<string, { schema?: Schema }>;
}
interface OpenApi {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly definitions: Record<string, Schema>;
}

const spec = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'pandaproxy', 'openapi.json'), 'utf8'),
) as OpenApi;
// The package is CommonJS: its class is the module's `default` as TypeScript sees it.
const ajv = new AjvDraft04.default({ strict: false, allErrors: true });

/** json/requests/fetch.h writes a bare array of the records, not `{ records: [...] }`. */
const HANDLER_FETCH_ARRAY = (op: Operation): Schema => {
  const listed = (op.responses['200']?.schema ?? {}) as { properties?: Record<string, Schema> };
  return { type: 'array', items: listed.properties?.records?.items };
};
/** json/requests/subscribe_consumer.h reads `{ "topics": [...] }`, not a bare array. */
const HANDLER_SUBSCRIBE_OBJECT = (op: Operation): Schema => ({
  type: 'object',
  properties: { topics: op.parameters?.find((p) => p.in === 'body')?.schema },
  required: ['topics'],
});
/** Error statuses the handlers answer beyond the listed ones, all with the error_body shape. */
const HANDLER_ERROR_STATUSES = new Set([400, 401, 404, 406, 408, 409, 415, 422, 500, 503]);

const validators = new Map<string, ReturnType<typeof ajv.compile>>();
function check(where: string, schema: Schema, value: unknown): string[] {
  const key = JSON.stringify(schema);
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile({ ...schema, definitions: spec.definitions });
    validators.set(key, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e: { instancePath: string; message?: string }) => `${where}${e.instancePath} ${e.message}`,
  );
}

/** The definition's path template and operation for a concrete path. */
function operationFor(method: string, path: string): { template: string; op: Operation } | undefined {
  for (const [template, ops] of Object.entries(spec.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const op = ops[method.toLowerCase()];
    if (op && pattern.test(path)) return { template, op };
  }
  return undefined;
}

const media = (h: string | undefined) => h?.split(';')[0]?.trim();

/** Every way an exchange differs from the definitions (plus the handler corrections). */
function violations(x: Exchange): string[] {
  const found = operationFor(x.method, x.path);
  const at = `${x.method} ${x.path} -> ${x.status}`;
  if (!found) return [`${at}: no such operation in the definitions`];
  const { op } = found;
  const out: string[] = [];
  if (op.operationId !== x.operation && x.status < 400)
    out.push(`${at}: served as ${x.operation}, defined as ${op.operationId}`);
  // Request (only those the server took: refusing the others is the point of the error cases)
  if (x.status < 400 && (x.requestBody !== undefined || x.requestContentType !== undefined)) {
    if (op.consumes && !op.consumes.includes(media(x.requestContentType) ?? ''))
      out.push(`${at}: request Content-Type ${x.requestContentType} not in ${op.consumes.join(', ')}`);
  }
  if (x.status < 400 && x.accept !== undefined && op.produces && !op.produces.includes(media(x.accept) ?? ''))
    out.push(`${at}: Accept ${x.accept} not in ${op.produces.join(', ')}`);
  for (const p of op.parameters ?? []) {
    if (p.in === 'query') {
      const v = x.query[p.name];
      if (v === undefined && p.required) out.push(`${at}: query ${p.name} missing`);
      if (v !== undefined && p.type === 'integer' && !/^\d+$/.test(v))
        out.push(`${at}: query ${p.name} not an integer`);
    }
    if (p.in === 'body' && x.requestBody !== undefined && x.status < 400 && p.schema) {
      const schema = op.operationId === 'subscribe_consumer' ? HANDLER_SUBSCRIBE_OBJECT(op) : p.schema;
      out.push(...check(`${at} request body`, schema, x.requestBody));
    }
  }
  for (const q of Object.keys(x.query))
    if (!(op.parameters ?? []).some((p) => p.in === 'query' && p.name === q))
      out.push(`${at}: unknown query ${q}`);
  // Response
  const listed = op.responses[String(x.status)];
  if (x.status >= 400) {
    if (!listed && !HANDLER_ERROR_STATUSES.has(x.status)) out.push(`${at}: status not defined`);
    out.push(...check(`${at} error body`, { $ref: '#/definitions/error_body' }, x.responseBody));
    const body = x.responseBody as { error_code?: number };
    const code = body?.error_code ?? 0;
    if ((code < 600 ? code : Math.trunc(code / 100)) !== x.status)
      out.push(`${at}: error_code ${code} does not map to HTTP ${x.status}`);
    return out;
  }
  if (!listed) return [...out, `${at}: status not defined`];
  if (listed.schema) {
    const schema = op.operationId === 'consumer_fetch' ? HANDLER_FETCH_ARRAY(op) : listed.schema;
    out.push(...check(`${at} response body`, schema, x.responseBody));
    if (op.produces && !op.produces.includes(media(x.responseContentType) ?? ''))
      out.push(`${at}: response Content-Type ${x.responseContentType} not in ${op.produces.join(', ')}`);
  } else if (x.responseBody !== undefined) out.push(`${at}: a body where the definitions have none`);
  return out;
}

/** A raw request, for what web fetch cannot send (a GET with a body) and for wrong headers on purpose. */
function raw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = request(`${url}${path}`, { method, headers: { ...headers, ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const V2 = 'application/vnd.kafka.v2+json';
const BINARY = 'application/vnd.kafka.binary.v2+json';

const bed = useRelayTestbed({ api: { endpoints: [] } });
let proxy: HttpProxyServer;
let guarded: HttpProxyServer;
let topic: string;
const run = randomUUID().slice(0, 8);

beforeAll(async () => {
  proxy = await startHttpProxy({ record: true });
  guarded = await startHttpProxy({ record: true, auth: { token: 'contract-token-0123456789' } });
  topic = await bed.topic('hp-contract', 2);
  await produceClean(topic, { run, count: 60 });
  // The driver's own exchanges: a whole drain (create, subscribe, fetch, commit, delete).
  const r = await startProxyRelay({
    proxyUrl: proxy.url,
    topic,
    group: `g-${topic}`,
    sinkUrl: `${bed.api.url}/ep${run}`,
    instanceId: `c-${run}`,
  });
  try {
    const report = await r.drain({ budgetMs: 30_000 });
    if (report.outcome !== 'caught-up') throw new Error(`drain: ${JSON.stringify(report.error)}`);
  } finally {
    await r.stop();
  }
  // What the driver does not call, and the errors, through the same server.
  const client = createHttpProxyClient({ url: proxy.url });
  const group = `g-${topic}`;
  await client.createConsumer(group, 'other');
  await client.createConsumer(group, 'other').catch(() => {}); // 409
  await client.subscribe(group, 'other', [topic]);
  const offsets = await raw(
    proxy.url,
    'GET',
    `/consumers/${group}/instances/other/offsets`,
    { 'content-type': V2, accept: V2 },
    JSON.stringify({
      partitions: [
        { topic, partition: 0 },
        { topic, partition: 1 },
      ],
    }),
  );
  if (offsets.status !== 200) throw new Error(`GET offsets: ${offsets.status} ${offsets.body}`);
  await client.fetchRecords(group, 'missing', { timeoutMs: 10, maxBytes: 1000 }).catch(() => {}); // 404
  await raw(proxy.url, 'GET', `/consumers/${group}/instances/other/records`, { accept: 'text/plain' }); // 406
  await raw(
    proxy.url,
    'POST',
    `/consumers/${group}/instances/other/offsets`,
    { 'content-type': 'application/json' },
    '{}',
  ); // 415
  await raw(proxy.url, 'POST', `/consumers/${group}`, { 'content-type': V2 }, '{"name":"x","format":"avro"}'); // 400
  await raw(proxy.url, 'POST', `/consumers/${group}`, { 'content-type': V2 }, '{"name":'); // 422
  await client.deleteConsumer(group, 'other');
  await client.produce(topic, [
    { key: new TextEncoder().encode('k'), value: new TextEncoder().encode('{"a":1}') },
    { key: null, value: new TextEncoder().encode('{}'), partition: 1 },
  ]);
  await raw(proxy.url, 'GET', '/brokers', { accept: V2 });
  await createHttpProxyClient({ url: guarded.url, auth: { kind: 'bearer', token: 'wrong' } })
    .createConsumer(group, 'z')
    .catch(() => {}); // 401
});
afterAll(async () => {
  await proxy?.close();
  await guarded?.close();
  await deleteTopics(`dlq-${topic}`);
});

describe('HTTP Proxy contract (Redpanda OpenAPI definitions at 1c6cff34)', () => {
  it("every exchange, the driver's and the server's, matches the definitions", () => {
    const all = [...proxy.exchanges, ...guarded.exchanges];
    expect(all.length).toBeGreaterThan(10);
    expect(all.flatMap(violations)).toEqual([]);
  });

  it('covers every operation Ferry uses and the error answers', () => {
    const all = [...proxy.exchanges, ...guarded.exchanges];
    const ok = new Set(all.filter((x) => x.status < 400).map((x) => x.operation));
    for (const op of [
      'create_consumer',
      'subscribe_consumer',
      'consumer_fetch',
      'post_consumer_offsets',
      'get_consumer_offsets',
      'remove_consumer',
      'post_topics_name',
      'get_brokers',
    ])
      expect(ok, op).toContain(op);
    const errors = new Set(
      all
        .filter((x) => x.status >= 400)
        .map((x) => `${x.status}/${(x.responseBody as { error_code: number }).error_code}`),
    );
    for (const e of ['401/40101', '404/40403', '409/40902', '400/40002', '406/406', '415/415', '422/422'])
      expect(errors, e).toContain(e);
  });

  it('the driver asks for the binary format, never sends an empty commit, and deletes what it created', () => {
    const driver = proxy.exchanges.filter(
      (x) =>
        x.path.includes(`/instances/ferry-c-${run}`) ||
        (x.operation === 'create_consumer' && (x.requestBody as { name?: string }).name === `ferry-c-${run}`),
    );
    const create = driver.find((x) => x.operation === 'create_consumer');
    expect(create?.requestBody).toEqual({
      name: `ferry-c-${run}`,
      format: 'binary',
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    for (const f of driver.filter((x) => x.operation === 'consumer_fetch')) {
      expect(f.accept).toBe(BINARY);
      expect(Object.keys(f.query).sort()).toEqual(['max_bytes', 'timeout']);
    }
    const commits = driver.filter((x) => x.operation === 'post_consumer_offsets');
    expect(commits.length).toBeGreaterThan(0);
    for (const c of commits)
      expect((c.requestBody as { partitions: unknown[] }).partitions.length).toBeGreaterThan(0);
    expect(driver.at(-1)?.operation).toBe('remove_consumer');
    expect(driver.at(-1)?.requestContentType).toBe(V2);
  });

  it('flags a drifted exchange (so a pass means something)', () => {
    const good = proxy.exchanges.find(
      (x) => x.operation === 'consumer_fetch' && Array.isArray(x.responseBody) && x.responseBody.length > 0,
    );
    const commit = proxy.exchanges.find((x) => x.operation === 'post_consumer_offsets');
    expect(good && commit).toBeTruthy();
    if (!good || !commit) return;
    const drifted: Exchange[] = [
      { ...good, responseBody: { records: good.responseBody } }, // Confluent-style wrapper
      { ...good, responseBody: [{ ...(good.responseBody as object[])[0], offset: '7' }] }, // offset as a string
      { ...good, accept: 'application/json' },
      { ...commit, requestBody: { offsets: [] } }, // an unknown key: the definitions allow it
      { ...commit, requestBody: { partitions: [{ topic: 't', partition: '0', offset: 1 }] } },
      { ...commit, status: 200, responseBody: {} }, // 200 is not an answer commit has
      { ...commit, status: 404, responseBody: { message: 'no code' } },
      { ...commit, status: 404, responseBody: { error_code: 50002, message: 'code of another status' } },
    ];
    const flagged = drifted.map((x) => violations(x).length > 0);
    // Only the unknown key passes (the definitions do not forbid extra properties).
    expect(flagged).toEqual([true, true, true, false, true, true, true, true]);
  });
});
