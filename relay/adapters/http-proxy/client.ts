// A small client for the consumer and produce calls of Redpanda's HTTP Proxy (wire.ts has the shapes).
// Web `fetch` only, so it runs on Workers, Deno Deploy, Deno, Bun and Node alike. URLs are built from
// the configured base URL, never from the `base_uri` the proxy answers (that names its advertised
// listener, which an edge caller may not reach, and would carry our credentials elsewhere).
// Every failure is a FerryError with a code and a retry flag (classifyProxyError); messages name the
// operation, status and the proxy's error_code, never the credentials.
import type { TopicPartition } from '../../core/contracts.ts';
import { FerryError } from '../../core/errors.ts';
import { classifyProxyError, produceRefused } from './proxy-errors.ts';
import {
  CONTENT_BINARY_V2,
  CONTENT_V2,
  decodeCommitted,
  decodeRecords,
  encodeCommit,
  type ProxyRecord,
  parseErrorBody,
  toBase64,
} from './wire.ts';

export type ProxyAuth =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

export interface HttpProxyClientOptions {
  /** Base URL of the proxy, e.g. https://redpanda.example.com:8082 (a path prefix is kept). */
  readonly url: string;
  readonly auth?: ProxyAuth;
  /** Each request's own limit (a fetch adds its long-poll timeout to it). */
  readonly requestTimeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface ProduceRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly partition?: number;
}

export interface HttpProxyClient {
  createConsumer(group: string, name: string): Promise<{ readonly instanceId: string }>;
  subscribe(group: string, instance: string, topics: readonly string[]): Promise<void>;
  fetchRecords(
    group: string,
    instance: string,
    options: { readonly timeoutMs: number; readonly maxBytes: number },
  ): Promise<ProxyRecord[]>;
  /** Commits next-offsets-to-read (sent as the last consumed offset, as the proxy takes them). */
  commit(
    group: string,
    instance: string,
    offsets: ReadonlyArray<TopicPartition & { readonly next: bigint }>,
  ): Promise<void>;
  /** Next offset to read per partition, from the group's commits (undefined: none). */
  committed(
    group: string,
    instance: string,
    partitions: readonly TopicPartition[],
  ): Promise<Array<TopicPartition & { readonly next: bigint | undefined }>>;
  deleteConsumer(group: string, instance: string): Promise<void>;
  /** Binary produce; resolves with the offset of each record, or rejects on any refused record. */
  produce(
    topic: string,
    records: readonly ProduceRecord[],
  ): Promise<Array<{ readonly partition: number; readonly offset: bigint }>>;
}

const enc = encodeURIComponent;

function authHeader(auth: ProxyAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if (auth.kind === 'bearer') return `Bearer ${auth.token}`;
  const bytes = new TextEncoder().encode(`${auth.username}:${auth.password}`);
  return `Basic ${toBase64(bytes)}`;
}

export function createHttpProxyClient({
  url,
  auth,
  requestTimeoutMs = 10_000,
  fetch: fetchImpl = globalThis.fetch,
}: HttpProxyClientOptions): HttpProxyClient {
  const base = url.replace(/\/+$/, '');
  const authorization = authHeader(auth);

  async function call(
    operation: string,
    method: string,
    path: string,
    {
      body,
      contentType = CONTENT_V2,
      accept = CONTENT_V2,
      timeoutMs = requestTimeoutMs,
    }: { body?: unknown; contentType?: string; accept?: string; timeoutMs?: number } = {},
  ): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { accept };
    if (authorization) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = contentType;
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      throw new FerryError(
        'FERRY_PROXY_UNAVAILABLE',
        `${operation}: ${timedOut ? `no answer within ${timeoutMs} ms` : `request failed (${e instanceof Error ? e.message : String(e)})`}`,
        { retryable: true, cause: e },
      );
    }
    const text = await response.text().catch(() => '');
    if (response.status >= 200 && response.status < 300) {
      if (response.status === 204 || text === '') return { status: response.status, json: undefined };
      try {
        return { status: response.status, json: JSON.parse(text) };
      } catch {
        throw new FerryError('FERRY_PROXY_PROTOCOL', `${operation}: answer ${response.status} is not JSON`, {
          status: response.status,
        });
      }
    }
    throw classifyProxyError(
      operation,
      response.status,
      parseErrorBody(text),
      response.headers.get('retry-after'),
    );
  }

  const instancePath = (group: string, instance: string) =>
    `/consumers/${enc(group)}/instances/${enc(instance)}`;

  const protocol = (operation: string, problem: string) =>
    new FerryError('FERRY_PROXY_PROTOCOL', `${operation}: ${problem}`);

  return {
    async createConsumer(group, name) {
      const op = `create consumer ${name} in group ${group}`;
      const { json } = await call(op, 'POST', `/consumers/${enc(group)}`, {
        body: { name, format: 'binary', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' },
      });
      const id = (json as { instance_id?: unknown } | undefined)?.instance_id;
      if (typeof id !== 'string' || id === '') throw protocol(op, 'answer has no instance_id');
      return { instanceId: id };
    },
    async subscribe(group, instance, topics) {
      await call(
        `subscribe ${instance} to ${topics.join(', ')}`,
        'POST',
        `${instancePath(group, instance)}/subscription`,
        {
          body: { topics },
        },
      );
    },
    async fetchRecords(group, instance, { timeoutMs, maxBytes }) {
      const op = `fetch records for ${instance}`;
      const { json } = await call(
        op,
        'GET',
        `${instancePath(group, instance)}/records?timeout=${timeoutMs}&max_bytes=${maxBytes}`,
        { accept: CONTENT_BINARY_V2, timeoutMs: requestTimeoutMs + timeoutMs },
      );
      const decoded = decodeRecords(json);
      if (!decoded.ok) throw protocol(op, decoded.problem);
      return decoded.records;
    },
    async commit(group, instance, offsets) {
      if (offsets.length === 0) return;
      await call(`commit offsets for ${instance}`, 'POST', `${instancePath(group, instance)}/offsets`, {
        body: encodeCommit(offsets),
      });
    },
    async committed(group, instance, partitions) {
      if (partitions.length === 0) return [];
      const op = `read committed offsets for ${instance}`;
      const { json } = await call(op, 'GET', `${instancePath(group, instance)}/offsets`, {
        body: { partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition })) },
      });
      const decoded = decodeCommitted(json);
      if (!decoded.ok) throw protocol(op, decoded.problem);
      return decoded.offsets;
    },
    async deleteConsumer(group, instance) {
      // Redpanda's handler checks the content type even here, though there is no body.
      await call(`delete consumer ${instance}`, 'DELETE', instancePath(group, instance), {
        body: undefined,
        contentType: CONTENT_V2,
      });
    },
    async produce(topic, records) {
      const op = `produce ${records.length} record(s) to ${topic}`;
      const { json } = await call(op, 'POST', `/topics/${enc(topic)}`, {
        contentType: CONTENT_BINARY_V2,
        body: {
          // The binary format takes no JSON null: an absent key or value is left out.
          records: records.map((r) => ({
            ...(r.key === null ? {} : { key: toBase64(r.key) }),
            ...(r.value === null ? {} : { value: toBase64(r.value) }),
            ...(r.partition === undefined ? {} : { partition: r.partition }),
          })),
        },
      });
      const offsets = (json as { offsets?: unknown } | undefined)?.offsets;
      if (!Array.isArray(offsets)) throw protocol(op, 'answer has no offsets');
      return offsets.map((o: { partition?: unknown; offset?: unknown; error_code?: unknown }, i) => {
        if (typeof o.error_code === 'number' && o.error_code !== 0)
          throw produceRefused(`${op} (record ${i})`, o.error_code);
        if (!Number.isInteger(o.partition) || typeof o.offset !== 'number' || !Number.isSafeInteger(o.offset))
          throw protocol(op, `offsets[${i}]: expected { partition, offset }`);
        return { partition: o.partition as number, offset: BigInt(o.offset) };
      });
    },
  };
}
