// HttpSender on undici's own API: one Pool per origin (keep-alive, a per-sink connection limit).
// On Node this is several times faster than fetch for small POSTs (test/bench/http-senders.ts measures it).
// One sender per sink, so the connection limit is per sink. Failures are reported, never thrown:
// timeouts -> {kind:'timeout'}, everything else below HTTP -> {kind:'network-error'}.
import { type Dispatcher, Pool } from 'undici';
import type { HttpSender, SinkRequest, SinkResponse } from '../core/contracts.ts';
import { parseRetryAfter } from './retry-after.ts';

export interface UndiciSenderOptions {
  /** Max connections per origin for this sink. */
  readonly connections?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** HTTP/1.1 pipelining depth; 1 = none (safest with idempotent but ordered APIs). */
  readonly pipelining?: number;
  /** Non-2xx bodies are kept (for DLQ messages) up to this many characters. */
  readonly maxErrorBodyChars?: number;
  /** Timeouts shorter than this get a precise timer of ours; longer ones use undici's (±1 s). */
  readonly preciseBelowMs?: number;
  readonly now?: () => number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/**
 * Origin and path of an absolute http(s) URL without a URL object per request: the core already
 * built the URL from a fixed origin, so only the origin is validated (once, then cached).
 */
export function splitUrl(
  url: string,
  validOrigins: Set<string> = new Set(),
): { origin: string; path: string } | undefined {
  const scheme = url.indexOf('://');
  if (scheme <= 0) return undefined;
  const slash = url.indexOf('/', scheme + 3);
  const query = url.indexOf('?', scheme + 3);
  const cut = slash === -1 ? query : query === -1 ? slash : Math.min(slash, query);
  const origin = cut === -1 ? url : url.slice(0, cut);
  if (!validOrigins.has(origin)) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return undefined;
    }
    const plainOrigin =
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
      parsed.username === '' &&
      parsed.password === '' &&
      parsed.pathname === '/' &&
      parsed.search === '' &&
      parsed.hash === '';
    if (!plainOrigin) return undefined;
    if (validOrigins.size < 10_000) validOrigins.add(origin);
  }
  const rest = cut === -1 ? '/' : url.slice(cut);
  return { origin, path: rest.startsWith('?') ? '/' + rest : rest };
}

interface Dispatched {
  readonly status: number;
  readonly retryAfterHeader: string | undefined;
  /** Non-2xx only: the first bytes of the body (enough for the kept characters). */
  readonly body: Buffer | undefined;
}

/**
 * One request through the pool's dispatch API with a minimal handler: no Readable stream, no
 * AsyncResource, no body promise per response (undici's request() allocates all three, and at one
 * POST per record they showed up as a large share of the relay's CPU and GC). 2xx bodies are
 * discarded as they arrive; non-2xx bodies are kept up to `keepBytes`. Rejects with undici's error
 * (or the signal's reason) exactly where request() would.
 */
function dispatchOnce(
  pool: Pool,
  options: Dispatcher.DispatchOptions,
  signal: AbortSignal | undefined,
  keepBytes: number,
): Promise<Dispatched> {
  return new Promise<Dispatched>((resolve, reject) => {
    let status = 0;
    let retryAfterHeader: string | undefined;
    let chunks: Buffer[] | undefined;
    let kept = 0;
    let settled = false;
    let abortRequest: ((reason: unknown) => void) | undefined;
    let abortedWith: unknown;
    const onAbort = () => {
      abortedWith = signal?.reason ?? new Error('aborted');
      // As with request() + body.dump(): a 2xx whose status line arrived counts as answered.
      if (status >= 200 && status < 300) finish(undefined, { status, retryAfterHeader, body: undefined });
      abortRequest?.(abortedWith);
    };
    const finish = (error: unknown, value?: Dispatched) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (value === undefined) reject(error);
      else resolve(value);
    };
    if (signal !== undefined) {
      if (signal.aborted) {
        reject(signal.reason ?? new Error('aborted'));
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(controller) {
        abortRequest = (reason) => controller.abort(reason as Error);
        if (abortedWith !== undefined) controller.abort(abortedWith as Error);
      },
      onResponseStart(_controller, statusCode, headers) {
        if (statusCode < 200) return;
        status = statusCode;
        const ra = headers['retry-after'];
        retryAfterHeader = Array.isArray(ra) ? ra[0] : ra;
      },
      onResponseData(_controller, chunk) {
        if (status >= 200 && status < 300) return;
        if (kept >= keepBytes) return;
        if (chunks === undefined) chunks = [];
        chunks.push(chunk);
        kept += chunk.length;
      },
      onResponseEnd() {
        finish(undefined, {
          status,
          retryAfterHeader,
          body: chunks === undefined ? undefined : Buffer.concat(chunks).subarray(0, keepBytes),
        });
      },
      onResponseError(_controller, error) {
        finish(error);
      },
    };
    try {
      pool.dispatch(options, handler);
    } catch (error) {
      finish(error);
    }
  });
}

export function createUndiciSender({
  connections = 64,
  keepAliveTimeoutMs = 30_000,
  connectTimeoutMs = 5_000,
  pipelining = 1,
  maxErrorBodyChars = 1024,
  preciseBelowMs = 3_000,
  now = Date.now,
}: UndiciSenderOptions = {}): HttpSender {
  const pools = new Map<string, Pool>();
  const validOrigins = new Set<string>();
  let closed = false;

  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections,
        pipelining,
        keepAliveTimeout: keepAliveTimeoutMs,
        connect: { timeout: connectTimeoutMs },
      });
      pools.set(origin, pool);
    }
    return pool;
  };

  return {
    async send(request: SinkRequest): Promise<SinkResponse> {
      if (closed) return { kind: 'network-error', message: 'sender closed' };
      const target = splitUrl(request.url, validOrigins);
      if (target === undefined) return { kind: 'network-error', message: 'invalid URL' };
      // undici's own headers/body timeouts are cheap but tick at a 1 s resolution: fine for long
      // timeouts; short ones get a timer of ours (an AbortController per request costs CPU).
      const precise = request.timeoutMs < preciseBelowMs;
      const controller = precise ? new AbortController() : undefined;
      let timedOut = false;
      const timer = precise
        ? setTimeout(() => {
            timedOut = true;
            controller?.abort();
          }, request.timeoutMs)
        : undefined;
      const outer = request.signal;
      const onOuterAbort = () => controller?.abort();
      if (precise) outer?.addEventListener('abort', onOuterAbort, { once: true });
      try {
        const { status, retryAfterHeader, body } = await dispatchOnce(
          poolFor(target.origin),
          {
            path: target.path,
            method: request.method as 'POST',
            headers: request.headers,
            body: request.body,
            headersTimeout: precise ? request.timeoutMs + 1000 : request.timeoutMs,
            bodyTimeout: precise ? request.timeoutMs + 1000 : request.timeoutMs,
          },
          controller?.signal ?? outer ?? undefined,
          maxErrorBodyChars * 4,
        );
        const retryAfterMs = parseRetryAfter(retryAfterHeader, now());
        if (status >= 200 && status < 300) {
          return retryAfterMs === undefined
            ? { kind: 'response', status }
            : { kind: 'response', status, retryAfterMs };
        }
        const text = (body === undefined ? '' : body.toString('utf8')).slice(0, maxErrorBodyChars);
        return retryAfterMs === undefined
          ? { kind: 'response', status, body: text }
          : { kind: 'response', status, retryAfterMs, body: text };
      } catch (err) {
        if (timedOut) return { kind: 'timeout' };
        const code = errorCode(err);
        if (code !== undefined && TIMEOUT_CODES.has(code)) return { kind: 'timeout' };
        const message = code ?? (err instanceof Error ? err.name : 'error');
        return { kind: 'network-error', message };
      } finally {
        if (precise) {
          clearTimeout(timer);
          outer?.removeEventListener('abort', onOuterAbort);
        }
      }
    },
    async close(): Promise<void> {
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.close().catch(() => p.destroy())));
    },
  };
}
