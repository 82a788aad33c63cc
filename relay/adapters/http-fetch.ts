// HttpSender on web fetch, for Deno, Bun and edge runtimes (on Node, http-undici.ts is faster).
// Keep-alive is the runtime's default. Failures are reported, never thrown. The headers and the URL are
// checked before the call (new Headers / new URL throw a TypeError on an invalid value): such a request
// is reported as {kind:'invalid-request'}, since fetch also throws TypeError for network failures and
// the two must not be confused (one is permanent, the other worth a retry).
import type { HttpSender, SinkRequest, SinkResponse } from '../core/contracts.ts';
import { type Redactor, redactPatterns } from '../core/redact.ts';
import { parseRetryAfter } from './retry-after.ts';

/** Options of the fetch sender. */
export interface FetchSenderOptions {
  /** The fetch to call (default the global one). */
  readonly fetch?: typeof globalThis.fetch;
  /** Non-2xx bodies are kept up to this many characters. */
  readonly maxErrorBodyChars?: number;
  /** Clock for Retry-After dates. */
  readonly now?: () => number;
  /** Scrubs non-2xx bodies and error messages (default: credential patterns). 2xx answers skip it. */
  readonly redact?: Redactor;
}

/** An HttpSender on web fetch (Deno, Bun, edge runtimes; undici is faster on Node and Deno). */
export function createFetchSender({
  fetch: doFetch = globalThis.fetch,
  maxErrorBodyChars = 1024,
  now = Date.now,
  redact = redactPatterns,
}: FetchSenderOptions = {}): HttpSender {
  const inflight = new Set<AbortController>();
  let closed = false;
  return {
    // Its own timer per request and close() aborts what is in flight: no per-call signal needed.
    endsRequests: true,
    async send(request: SinkRequest): Promise<SinkResponse> {
      if (closed) return { kind: 'network-error', message: 'sender closed' };
      let headers: Headers;
      try {
        headers = new Headers(request.headers);
        new URL(request.url);
      } catch (err) {
        // The runtime's message quotes the offending value (which may be a token): only its kind is kept.
        const kind = err instanceof Error ? err.name : 'error';
        return { kind: 'invalid-request', message: `invalid header value or URL (${kind})` };
      }
      const controller = new AbortController();
      inflight.add(controller);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, request.timeoutMs);
      const onOuterAbort = () => controller.abort();
      request.signal?.addEventListener('abort', onOuterAbort, { once: true });
      try {
        const res = await doFetch(request.url, {
          method: request.method,
          headers,
          body: request.body as BodyInit | null,
          signal: controller.signal,
        });
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
        const status = res.status;
        if (status >= 200 && status < 300) {
          await res.arrayBuffer();
          return retryAfterMs === undefined
            ? { kind: 'response', status }
            : { kind: 'response', status, retryAfterMs };
        }
        const text = redact((await res.text()).slice(0, maxErrorBodyChars), maxErrorBodyChars);
        return retryAfterMs === undefined
          ? { kind: 'response', status, body: text }
          : { kind: 'response', status, retryAfterMs, body: text };
      } catch (err) {
        if (timedOut) return { kind: 'timeout' };
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
        const code =
          cause !== undefined && 'code' in cause && typeof cause.code === 'string'
            ? cause.code
            : err instanceof Error
              ? err.name
              : 'error';
        return { kind: 'network-error', message: redact(code) };
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onOuterAbort);
        inflight.delete(controller);
      }
    },
    async close(): Promise<void> {
      closed = true;
      for (const c of inflight) c.abort();
      inflight.clear();
    },
  };
}
