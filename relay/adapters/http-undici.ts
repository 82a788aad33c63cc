// HttpSender on undici's own API: one Pool per origin (keep-alive, a per-sink connection limit).
// On Node this is several times faster than fetch for small POSTs (test/bench/http-senders.ts measures it).
// One sender per sink, so the connection limit is per sink. Failures are reported, never thrown:
// timeouts -> {kind:'timeout'}, everything else below HTTP -> {kind:'network-error'}.
import { Pool } from 'undici';
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
        const res = await poolFor(target.origin).request({
          path: target.path,
          method: request.method as 'POST',
          headers: request.headers,
          body: request.body,
          headersTimeout: precise ? request.timeoutMs + 1000 : request.timeoutMs,
          bodyTimeout: precise ? request.timeoutMs + 1000 : request.timeoutMs,
          signal: controller?.signal ?? outer ?? null,
        });
        const status = res.statusCode;
        const retryAfterHeader = res.headers['retry-after'];
        const retryAfterMs = parseRetryAfter(
          Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader,
          now(),
        );
        if (status >= 200 && status < 300) {
          await res.body.dump();
          return retryAfterMs === undefined
            ? { kind: 'response', status }
            : { kind: 'response', status, retryAfterMs };
        }
        const text = (await res.body.text()).slice(0, maxErrorBodyChars);
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
