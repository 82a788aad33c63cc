// A Redpanda-HTTP-Proxy-compatible server over the real local Kafka, for the pull driver's tests. It
// serves the subset Ferry uses, with Redpanda's shapes, content types, status and error codes (as its
// handlers write them; docs/http-proxy.md), and records every exchange for the contract test:
//
//   POST   /consumers/{group}                                   create an instance (format binary|json)
//   DELETE /consumers/{group}/instances/{instance}              leave the group
//   POST   /consumers/{group}/instances/{instance}/subscription {"topics":[...]}: join with them
//   GET    /consumers/{group}/instances/{instance}/records      ?timeout&max_bytes; a bare array
//   POST   /consumers/{group}/instances/{instance}/offsets      commit (last consumed offsets)
//   GET    /consumers/{group}/instances/{instance}/offsets      committed offsets (-1: none)
//   POST   /topics/{topic}                                      produce (binary or json)
//   GET    /brokers
//
// Redpanda's behaviours kept: instance names are the instance ids; a second create with a taken name is
// 409 / 40902; unknown instances are 404 / 40403; bad parameters 400 / 40002; a body that is not the
// request's JSON 422; a wrong Content-Type 415, a wrong Accept 406; the fetch long-poll is capped by
// `requestTimeoutMs` (Redpanda's consumer_request_timeout_ms, 100 ms by default); an instance without
// requests for `instanceTimeoutMs` leaves its group and is forgotten; with auth configured, a missing
// or wrong credential is 401 / 40101.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Admin, Producer } from '@platformatic/kafka';
import { KAFKA_BOOTSTRAP } from '../../../deploy/local/config.ts';
import { createProxyInstance, type ProxyInstance } from './instance.ts';

export const V2 = 'application/vnd.kafka.v2+json';
export const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';
export const JSON_V2 = 'application/vnd.kafka.json.v2+json';

export interface Exchange {
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly requestContentType: string | undefined;
  readonly accept: string | undefined;
  readonly requestBody: unknown;
  readonly status: number;
  readonly responseContentType: string | undefined;
  readonly responseBody: unknown;
}

export interface HttpProxyServerOptions {
  readonly brokers?: readonly string[];
  readonly auth?: { readonly username: string; readonly password: string } | { readonly token: string };
  /** Idle time after which an instance leaves its group (Redpanda: the consumer's session timeout). */
  readonly instanceTimeoutMs?: number;
  /** Longest fetch long-poll (Redpanda: consumer_request_timeout_ms). */
  readonly requestTimeoutMs?: number;
  /** Keep every exchange (for the contract test). */
  readonly record?: boolean;
}

export interface HttpProxyServer {
  readonly url: string;
  readonly exchanges: Exchange[];
  /** Live instances as `group/name`. */
  instances(): string[];
  /** Drops an instance as if it had timed out on the proxy. */
  expire(group: string, name: string): Promise<void>;
  /** Requests answered per operation. */
  counts(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

class ProxyError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
    this.status = code < 600 ? code : Math.trunc(code / 100);
  }
}

const mediaType = (h: string | undefined) => h?.split(';')[0]?.trim().toLowerCase();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProxyError(422, 'Unable to parse the request body as JSON');
  }
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function expectContentType(req: IncomingMessage, allowed: readonly string[]): string {
  const type = mediaType(req.headers['content-type']);
  if (type === undefined || !allowed.includes(type))
    throw new ProxyError(415, 'HTTP 415 Unsupported Media Type');
  return type;
}

function expectAccept(
  req: IncomingMessage,
  allowed: readonly string[],
  fallback: string | undefined,
): string {
  const accept = req.headers.accept;
  if (accept === undefined || accept === '' || accept === '*/*') {
    if (fallback) return fallback;
    throw new ProxyError(406, 'HTTP 406 Not Acceptable');
  }
  for (const part of accept.split(',')) {
    const type = mediaType(part);
    if (type && allowed.includes(type)) return type;
  }
  throw new ProxyError(406, 'HTTP 406 Not Acceptable');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: Redpanda refuses names with control characters
const NAME = /^[^\u0000-\u001f\u007f]+$/;

function partitionList(
  body: unknown,
  withOffset: boolean,
): Array<{ topic: string; partition: number; offset: number }> {
  if (!isObject(body) || !Array.isArray(body.partitions) || Object.keys(body).some((k) => k !== 'partitions'))
    throw new ProxyError(422, 'expected {"partitions": [...]}');
  return body.partitions.map((p: unknown) => {
    if (
      !isObject(p) ||
      typeof p.topic !== 'string' ||
      !Number.isInteger(p.partition) ||
      (withOffset && !Number.isInteger(p.offset))
    )
      throw new ProxyError(422, `expected {"topic", "partition"${withOffset ? ', "offset"' : ''}}`);
    if (!NAME.test(p.topic)) throw new ProxyError(40002, 'topic name holds control characters');
    return {
      topic: p.topic,
      partition: p.partition as number,
      offset: (p.offset as number | undefined) ?? -1,
    };
  });
}

export async function startHttpProxy({
  brokers = [KAFKA_BOOTSTRAP],
  auth,
  instanceTimeoutMs = 10_000,
  requestTimeoutMs = 100,
  record = false,
}: HttpProxyServerOptions = {}): Promise<HttpProxyServer> {
  const admin = new Admin({
    clientId: `test-http-proxy-admin-${randomUUID().slice(0, 8)}`,
    bootstrapBrokers: [...brokers],
  });
  let producer: Producer | undefined;
  const instances = new Map<string, ProxyInstance>();
  const exchanges: Exchange[] = [];
  const counts: Record<string, number> = {};
  const keyOf = (group: string, name: string) => `${group}/${name}`;

  function instanceOf(group: string, name: string): ProxyInstance {
    const i = instances.get(keyOf(group, name));
    if (!i || i.closed) throw new ProxyError(40403, `Consumer ${name} not found in group ${group}`);
    i.touch();
    return i;
  }

  function authorised(req: IncomingMessage): boolean {
    if (!auth) return true;
    const header = req.headers.authorization ?? '';
    if ('token' in auth) return header === `Bearer ${auth.token}`;
    const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    return header === expected;
  }

  async function route(
    req: IncomingMessage,
    url: URL,
    text: string,
  ): Promise<{ operation: string; status: number; type?: string; body?: unknown }> {
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (!authorised(req)) throw new ProxyError(40101, 'Unauthorized');

    if (parts[0] === 'brokers' && parts.length === 1 && method === 'GET') {
      const type = expectAccept(req, [V2], V2);
      return { operation: 'get_brokers', status: 200, type, body: [0] };
    }

    if (parts[0] === 'topics' && parts.length === 2 && method === 'POST') {
      const format = expectContentType(req, [BINARY_V2, JSON_V2]);
      const type = expectAccept(req, [V2], V2);
      const body = parseJson(text);
      if (!isObject(body) || !Array.isArray(body.records))
        throw new ProxyError(422, 'expected {"records": [...]}');
      const topic = parts[1] as string;
      const messages = body.records.map((r: unknown) => {
        if (!isObject(r)) throw new ProxyError(422, 'expected a record object');
        const bytes = (x: unknown): Buffer | undefined => {
          if (x === undefined) return undefined;
          if (format === JSON_V2) return Buffer.from(JSON.stringify(x));
          if (typeof x !== 'string') throw new ProxyError(422, 'binary key and value must be base64 strings');
          return Buffer.from(x, 'base64');
        };
        return {
          topic,
          key: bytes(r.key),
          value: bytes(r.value),
          ...(Number.isInteger(r.partition) ? { partition: r.partition as number } : {}),
        };
      });
      producer ??= new Producer({
        clientId: 'test-http-proxy-producer',
        bootstrapBrokers: [...brokers],
        acks: -1,
        idempotent: true,
        autocreateTopics: false,
      });
      try {
        const result = await producer.send({ messages });
        const offsets = (result.offsets ?? []).map((o) => ({
          partition: o.partition,
          offset: Number(o.offset),
        }));
        return { operation: 'post_topics_name', status: 200, type, body: { offsets } };
      } catch (e) {
        throw new ProxyError(50002, `produce failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }

    if (parts[0] !== 'consumers' || parts.length < 2) throw new ProxyError(404, 'Not found');
    const group = parts[1] as string;

    if (parts.length === 2 && method === 'POST') {
      expectContentType(req, [V2]);
      const type = expectAccept(req, [V2], V2);
      const body = text === '' ? {} : parseJson(text);
      const allowed = [
        'name',
        'format',
        'auto.offset.reset',
        'auto.commit.enable',
        'fetch.min.bytes',
        'consumer.request.timeout.ms',
      ];
      if (
        !isObject(body) ||
        Object.keys(body).some((k) => !allowed.includes(k) || typeof body[k] !== 'string')
      )
        throw new ProxyError(422, 'Unable to parse the consumer properties');
      const format = (body.format as string | undefined) ?? 'binary';
      if (format !== 'binary' && format !== 'json')
        throw new ProxyError(40002, "format must be 'binary' or 'json'");
      if ((body['auto.offset.reset'] ?? 'earliest') !== 'earliest')
        throw new ProxyError(40002, 'auto.offset must be earliest');
      if ((body['auto.commit.enable'] ?? 'false') !== 'false')
        throw new ProxyError(40002, 'auto.commit must be false');
      const name = (body.name as string | undefined) ?? `consumer-${randomUUID()}`;
      if (!NAME.test(name)) throw new ProxyError(40002, 'name holds control characters');
      const existing = instances.get(keyOf(group, name));
      if (existing && !existing.closed)
        throw new ProxyError(
          40902,
          'Consumer with specified consumer ID already exists in the specified consumer group.',
        );
      const instance = createProxyInstance({
        brokers,
        group,
        name,
        format,
        idleTimeoutMs: instanceTimeoutMs,
        admin,
        onExpired: () => {
          if (instances.get(keyOf(group, name)) === instance) instances.delete(keyOf(group, name));
        },
      });
      instances.set(keyOf(group, name), instance);
      const base = `http://${req.headers.host ?? '127.0.0.1'}/consumers/${encodeURIComponent(group)}/instances/`;
      return {
        operation: 'create_consumer',
        status: 200,
        type,
        body: { instance_id: name, base_uri: base + encodeURIComponent(name) },
      };
    }

    if (parts[2] !== 'instances' || parts.length < 4) throw new ProxyError(404, 'Not found');
    const name = parts[3] as string;

    if (parts.length === 4 && method === 'DELETE') {
      expectContentType(req, [V2]);
      expectAccept(req, [V2], V2);
      const instance = instanceOf(group, name);
      instances.delete(keyOf(group, name));
      await instance.close();
      return { operation: 'remove_consumer', status: 204 };
    }

    if (parts.length === 5 && parts[4] === 'subscription' && method === 'POST') {
      expectContentType(req, [V2]);
      const type = expectAccept(req, [V2], V2);
      const body = parseJson(text);
      if (!isObject(body) || !Array.isArray(body.topics) || body.topics.some((t) => typeof t !== 'string'))
        throw new ProxyError(422, 'expected {"topics": [...]}');
      const topics = body.topics as string[];
      if (topics.some((t) => !NAME.test(t)))
        throw new ProxyError(40002, 'topic name holds control characters');
      const instance = instanceOf(group, name);
      try {
        await instance.subscribe(topics);
      } catch (e) {
        // Removed while it joined the group (a take-over, a delete): unknown now, as Redpanda answers.
        if (instance.closed) throw new ProxyError(40403, `Consumer ${name} not found in group ${group}`);
        throw e;
      }
      return { operation: 'subscribe_consumer', status: 204, type };
    }

    if (parts.length === 5 && parts[4] === 'records' && method === 'GET') {
      const type = expectAccept(req, [BINARY_V2, JSON_V2], undefined);
      const number = (q: string): number | undefined => {
        const raw = url.searchParams.get(q);
        if (raw === null) return undefined;
        if (!/^\d+$/.test(raw)) throw new ProxyError(40002, `${q} must be a non-negative integer`);
        return Number(raw);
      };
      const timeout = Math.min(number('timeout') ?? requestTimeoutMs, requestTimeoutMs);
      const maxBytes = number('max_bytes') ?? 1024 * 1024;
      const instance = instanceOf(group, name);
      const records = await instance.fetch(timeout, maxBytes);
      instance.touch();
      const body = records.map((r) => {
        const enc = (b: Uint8Array | null): unknown => {
          if (b === null) return null;
          if (type === BINARY_V2) return Buffer.from(b).toString('base64');
          try {
            return JSON.parse(Buffer.from(b).toString('utf8'));
          } catch {
            throw new ProxyError(
              40801,
              `Unable to serialize value of record at offset ${r.offset} in topic:partition ${r.topic}:${r.partition}`,
            );
          }
        };
        return {
          topic: r.topic,
          key: enc(r.key),
          value: enc(r.value),
          partition: r.partition,
          offset: Number(r.offset),
        };
      });
      return { operation: 'consumer_fetch', status: 200, type, body };
    }

    if (parts.length === 5 && parts[4] === 'offsets' && method === 'POST') {
      expectContentType(req, [V2]);
      expectAccept(req, [V2], V2);
      const offsets = text === '' ? [] : partitionList(parseJson(text), true);
      const instance = instanceOf(group, name);
      await instance.commit(offsets);
      return { operation: 'post_consumer_offsets', status: 204 };
    }

    if (parts.length === 5 && parts[4] === 'offsets' && method === 'GET') {
      expectContentType(req, [V2]);
      const type = expectAccept(req, [V2], V2);
      const partitions = partitionList(parseJson(text), false);
      const instance = instanceOf(group, name);
      const offsets = await instance.committed(partitions);
      return {
        operation: 'get_consumer_offsets',
        status: 200,
        type,
        body: {
          offsets: offsets.map((o) => ({
            topic: o.topic,
            partition: o.partition,
            offset: o.offset,
            metadata: '',
          })),
        },
      };
    }

    throw new ProxyError(404, 'Not found');
  }

  const server = createServer((req, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const text = await readBody(req);
      let operation = 'unknown';
      let status: number;
      let type: string | undefined;
      let body: unknown;
      try {
        const out = await route(req, url, text);
        ({ operation, status, type, body } = out);
      } catch (e) {
        // An unexpected failure (the Kafka client's, mostly) is a 500 that says what failed.
        const err =
          e instanceof ProxyError
            ? e
            : new ProxyError(
                500,
                `HTTP 500 Internal Server Error: ${e instanceof Error ? e.message : String(e)}`,
              );
        status = err.status;
        type = V2;
        body = { error_code: err.code, message: err.message };
        operation = `error:${url.pathname.split('/')[1] ?? ''}`;
      }
      counts[operation] = (counts[operation] ?? 0) + 1;
      if (record) {
        let requestBody: unknown;
        try {
          requestBody = text === '' ? undefined : JSON.parse(text);
        } catch {
          requestBody = text;
        }
        exchanges.push({
          operation,
          method: req.method ?? 'GET',
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          requestContentType: req.headers['content-type'],
          accept: req.headers.accept,
          requestBody,
          status,
          responseContentType: body === undefined ? undefined : type,
          responseBody: body,
        });
      }
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      const payload = JSON.stringify(body);
      res
        .writeHead(status, { 'content-type': type ?? V2, 'content-length': Buffer.byteLength(payload) })
        .end(payload);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    instances: () => [...instances.entries()].filter(([, i]) => !i.closed).map(([k]) => k),
    async expire(group, name) {
      const i = instances.get(keyOf(group, name));
      instances.delete(keyOf(group, name));
      await i?.close();
    },
    counts: () => ({ ...counts }),
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closing;
      for (const i of instances.values()) await i.close();
      instances.clear();
      await producer?.close();
      await admin.close();
    },
  };
}
