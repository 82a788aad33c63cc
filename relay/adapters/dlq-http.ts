// DlqWriter over HTTP, for the edge relay (no Kafka client there). Two targets, one rule:
// - `http-proxy`: Redpanda's HTTP Proxy produce API, POST <url>/topics/<topic> with
//   `application/vnd.kafka.binary.v2+json` ({"records":[{"key":<base64>,"value":<base64>}]}). That API
//   carries no record headers, so the value is the dead-letter envelope (core/dlq-envelope.ts: the
//   original key, value and headers plus the ferry-error-* ones); the key is the original key.
// - `url`: the envelope itself POSTed as JSON to a DLQ sink, with an idempotency-key naming the
//   record and sink (a retried write is one dead letter to an idempotent receiver).
// `write` resolves only on a 2xx answer (and, from the proxy, an offset without error_code), which is
// what lets the core count the record as terminal. Too large (413, or the broker's MESSAGE_TOO_LARGE)
// is written again as a pointer: the same headers plus ferry-error-pointer, -original-size,
// -value-sha256 and -truncated, without the value. Other failures become DlqWriteError: 401/403,
// 422 and other 4xx are permanent (the core holds the record and probes again), 408/425/429/5xx,
// timeouts and network errors retryable.
import { bytesToBase64 } from '../core/base64.ts';
import type { DeadLetterReason, DlqWriteKind, DlqWriter, SourceRecord } from '../core/contracts.ts';
import { encodeEnvelope } from '../core/dlq-envelope.ts';
import { deadLetterHeaders } from '../core/dlq-headers.ts';
import { type DlqFailureReason, DlqWriteError } from '../core/dlq-write.ts';

export interface HttpDlqWriterOptions {
  readonly to: 'http-proxy' | 'url';
  /** http-proxy: the proxy's base URL (http://broker:8082); url: the DLQ sink's endpoint. */
  readonly url: string;
  /** http-proxy: the DLQ topic. */
  readonly topic: string;
  readonly bearer?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly timeoutMs?: number;
  readonly fetch?: typeof globalThis.fetch;
}

const encoder = new TextEncoder();
/** Kafka's MESSAGE_TOO_LARGE and RECORD_LIST_TOO_LARGE, as the proxy reports them per record. */
const TOO_LARGE_CODES = new Set([10, 18]);
const AUTH_CODES = new Set([29, 30, 31]);

class TooLarge extends Error {}

async function sha256Hex(bytes: Uint8Array | null): Promise<string> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    (bytes ?? new Uint8Array()) as Uint8Array<ArrayBuffer>,
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function statusFailure(status: number): DlqWriteError | TooLarge {
  if (status === 413) return new TooLarge();
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  const reason: DlqFailureReason =
    status === 401 || status === 403
      ? 'authorization'
      : status === 422 || status === 400
        ? 'invalid-record'
        : status === 404
          ? 'invalid-topic'
          : retryable
            ? 'broker'
            : 'unsupported';
  // A topic the proxy does not know may be created meanwhile (auto-create, an operator): retried.
  const permanent = !retryable && status !== 404;
  return new DlqWriteError(`DLQ answered HTTP ${status}`, reason, permanent);
}

/** The proxy's per-record answer: {"offsets":[{"partition","offset","error_code"?,"error"?}]}. */
function offsetFailure(body: unknown): DlqWriteError | TooLarge | undefined {
  const entry = (body as { offsets?: Array<{ offset?: unknown; error_code?: unknown }> } | null)
    ?.offsets?.[0];
  if (!entry) return new DlqWriteError('DLQ produce answer has no offsets', 'unknown', false);
  const code = typeof entry.error_code === 'number' ? entry.error_code : 0;
  if (code === 0 && typeof entry.offset === 'number' && entry.offset >= 0) return undefined;
  if (TOO_LARGE_CODES.has(code)) return new TooLarge();
  if (AUTH_CODES.has(code))
    return new DlqWriteError(`DLQ produce refused (error_code ${code})`, 'authorization', true);
  return new DlqWriteError(`DLQ produce failed (error_code ${code})`, 'broker', false);
}

export function createHttpDlqWriter({
  to,
  url,
  topic,
  bearer,
  username,
  password,
  timeoutMs = 10_000,
  fetch: doFetch = (input, init) => fetch(input, init),
}: HttpDlqWriterOptions): DlqWriter {
  const target = to === 'http-proxy' ? `${url}/topics/${encodeURIComponent(topic)}` : url;
  const auth =
    bearer !== undefined
      ? `Bearer ${bearer}`
      : username !== undefined
        ? `Basic ${bytesToBase64(encoder.encode(`${username}:${password ?? ''}`))}`
        : undefined;
  const inflight = new Set<AbortController>();
  let closed = false;

  async function post(record: SourceRecord, reason: DeadLetterReason, pointer: boolean): Promise<void> {
    const info = pointer
      ? {
          originalSize: record.value?.byteLength ?? 0,
          sha256: await sha256Hex(record.value),
          truncated: false,
        }
      : undefined;
    const envelope = encodeEnvelope(
      record.key,
      pointer ? null : record.value,
      deadLetterHeaders(record, reason, info),
    );
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = auth;
    let body: string;
    if (to === 'http-proxy') {
      headers['content-type'] = 'application/vnd.kafka.binary.v2+json';
      headers.accept = 'application/vnd.kafka.v2+json';
      const value = bytesToBase64(encoder.encode(JSON.stringify(envelope)));
      body = JSON.stringify({ records: [envelope.key === null ? { value } : { key: envelope.key, value }] });
    } else {
      headers['content-type'] = 'application/json';
      headers['idempotency-key'] =
        `dlq:${reason.sink}:${record.topic}:${record.partition}:${record.offset}${pointer ? ':pointer' : ''}`;
      body = JSON.stringify(envelope);
    }
    const controller = new AbortController();
    inflight.add(controller);
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let res: Response;
    try {
      res = await doFetch(target, { method: 'POST', headers, body, signal: controller.signal });
    } catch (e) {
      const timedOut = controller.signal.aborted && !closed;
      throw new DlqWriteError(
        timedOut ? `DLQ write timed out after ${timeoutMs} ms` : 'DLQ unreachable',
        timedOut ? 'timeout' : 'network',
        false,
        e,
      );
    } finally {
      clearTimeout(timer);
      inflight.delete(controller);
    }
    let answer: unknown;
    try {
      answer = to === 'http-proxy' && res.ok ? await res.json() : await res.arrayBuffer();
    } catch (e) {
      throw new DlqWriteError('DLQ answer unreadable', 'network', false, e);
    }
    const failure = res.ok
      ? to === 'http-proxy'
        ? offsetFailure(answer)
        : undefined
      : statusFailure(res.status);
    if (failure) throw failure;
  }

  return {
    async write(record, reason): Promise<DlqWriteKind> {
      if (closed) throw new DlqWriteError('DLQ writer closed', 'network', false);
      try {
        await post(record, reason, false);
        return 'full';
      } catch (e) {
        if (!(e instanceof TooLarge)) throw e;
      }
      try {
        await post(record, reason, true);
        return 'pointer';
      } catch (e) {
        if (e instanceof TooLarge)
          throw new DlqWriteError('DLQ refused even the pointer record as too large', 'too-large', true);
        throw e;
      }
    },
    async close() {
      closed = true;
      for (const c of inflight) c.abort();
    },
  };
}

/** The HTTP DLQ writer a config's `dlq` section (to: http-proxy or url) asks for. */
export function httpDlqWriterFor(
  config: {
    readonly dlq: {
      readonly to: string;
      readonly url: string | undefined;
      readonly bearer: string | undefined;
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly timeoutMs: number;
    };
    readonly kafka: { readonly dlqTopic: string };
  },
  fetch?: typeof globalThis.fetch,
): DlqWriter {
  const { to, url, bearer, username, password, timeoutMs } = config.dlq;
  if ((to !== 'http-proxy' && to !== 'url') || url === undefined)
    throw new Error(`dlq.to ${to} is not an HTTP DLQ (or has no url)`);
  return createHttpDlqWriter({
    to,
    url,
    topic: config.kafka.dlqTopic,
    bearer,
    username,
    password,
    timeoutMs,
    ...(fetch ? { fetch } : {}),
  });
}
