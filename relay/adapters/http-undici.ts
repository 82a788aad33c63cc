// HttpSender on undici's own API: one Pool per origin (keep-alive, a per-sink connection limit).
// On Node this is several times faster than fetch for small POSTs (test/bench/http-senders.ts measures it).
// One sender per sink, so the connection limit is per sink. Failures are reported, never thrown:
// timeouts -> {kind:'timeout'}, a request undici refuses to build (UND_ERR_INVALID_ARG: an invalid
// header value, a bad URL) -> {kind:'invalid-request'}, everything else below HTTP ->
// {kind:'network-error'}. Messages carry undici's code and its own message, never a header value.
import { type Dispatcher, Pool } from 'undici';
import type { HttpSender, SinkRequest, SinkResponse } from '../core/contracts.ts';
import { type Redactor, redactPatterns } from '../core/redact.ts';
import { parseRetryAfter } from './retry-after.ts';

/** Options of the undici sender. */
export interface UndiciSenderOptions {
  /** Max connections per origin for this sink. */
  readonly connections?: number;
  /** Idle keep-alive connections close after this time. */
  readonly keepAliveTimeoutMs?: number;
  /** Connecting gives up after this time. */
  readonly connectTimeoutMs?: number;
  /** HTTP/1.1 pipelining depth; 1 = none (safest with idempotent but ordered APIs). */
  readonly pipelining?: number;
  /** Non-2xx bodies are kept (for DLQ messages) up to this many characters. */
  readonly maxErrorBodyChars?: number;
  /** Scrubs non-2xx bodies and error messages (default: credential patterns). 2xx answers skip it. */
  readonly redact?: Redactor;
  /** Timeouts shorter than this get a precise timer of ours; longer ones use undici's (±1 s). */
  readonly preciseBelowMs?: number;
  /** Clock for Retry-After dates. */
  readonly now?: () => number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** undici's code for an argument it refuses (e.g. a header value with CR/LF): the same on every retry. */
const INVALID_ARG = 'UND_ERR_INVALID_ARG';

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

/**
 * One request through the pool's dispatch API, as one object: the handler, the abort listener and the
 * timer are its methods, and it resolves a single promise with the SinkResponse (no Readable stream,
 * AsyncResource or body promise as undici's request() allocates, and no closures, async frames or
 * intermediate result objects per request: at one POST per record they showed up in CPU and GC).
 * 2xx bodies are discarded as they arrive; non-2xx bodies are kept up to `keepBytes`. Failures become
 * `timeout` / `network-error` exactly where request() would have rejected.
 */
const expire = (exchange: Exchange) => exchange.expire();

class Exchange implements Dispatcher.DispatchHandler {
  status = 0;
  retryAfterHeader: string | undefined = undefined;
  chunks: Buffer[] | undefined = undefined;
  kept = 0;
  settled = false;
  timedOut = false;
  controller: Dispatcher.DispatchController | undefined = undefined;
  abortedWith: Error | undefined = undefined;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (response: SinkResponse) => void;
  readonly keepBytes: number;
  readonly maxErrorBodyChars: number;
  readonly now: () => number;
  readonly redact: Redactor;

  constructor(
    signal: AbortSignal | undefined,
    resolve: (response: SinkResponse) => void,
    maxErrorBodyChars: number,
    now: () => number,
    redact: Redactor,
  ) {
    this.signal = signal;
    this.resolve = resolve;
    this.maxErrorBodyChars = maxErrorBodyChars;
    this.keepBytes = maxErrorBodyChars * 4;
    this.now = now;
    this.redact = redact;
  }

  /** Abort listener (the caller's signal) and the precise timer both end up here. */
  handleEvent(): void {
    this.abort(this.signal?.reason ?? new Error('aborted'));
  }

  expire(): void {
    this.timedOut = true;
    this.abort(new Error('timed out'));
  }

  abort(reason: unknown): void {
    if (this.settled || this.abortedWith !== undefined) return;
    this.abortedWith = reason instanceof Error ? reason : new Error(String(reason));
    // As with request() + body.dump(): a 2xx whose status line arrived counts as answered.
    if (this.status >= 200 && this.status < 300) this.succeed();
    if (this.controller !== undefined) this.controller.abort(this.abortedWith);
    else if (!this.settled) this.fail(this.abortedWith);
  }

  finish(response: SinkResponse): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this);
    this.resolve(response);
  }

  succeed(): void {
    const retryAfterMs = parseRetryAfter(this.retryAfterHeader, this.now());
    const { status } = this;
    if (status >= 200 && status < 300) {
      this.finish(
        retryAfterMs === undefined
          ? { kind: 'response', status }
          : { kind: 'response', status, retryAfterMs },
      );
      return;
    }
    const chunks = this.chunks;
    const text =
      chunks === undefined
        ? ''
        : this.redact(
            Buffer.concat(chunks)
              .subarray(0, this.keepBytes)
              .toString('utf8')
              .slice(0, this.maxErrorBodyChars),
            this.maxErrorBodyChars,
          );
    this.finish(
      retryAfterMs === undefined
        ? { kind: 'response', status, body: text }
        : { kind: 'response', status, retryAfterMs, body: text },
    );
  }

  fail(err: unknown): void {
    const code = errorCode(err);
    if (this.timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) this.finish({ kind: 'timeout' });
    else if (code === INVALID_ARG)
      this.finish({ kind: 'invalid-request', message: this.redact(`${code}: ${(err as Error).message}`) });
    else this.finish({ kind: 'network-error', message: code ?? (err instanceof Error ? err.name : 'error') });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortedWith !== undefined) controller.abort(this.abortedWith);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    const ra = headers['retry-after'];
    this.retryAfterHeader = Array.isArray(ra) ? ra[0] : ra;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.status >= 200 && this.status < 300) return;
    if (this.kept >= this.keepBytes) return;
    if (this.chunks === undefined) this.chunks = [];
    this.chunks.push(chunk);
    this.kept += chunk.length;
  }

  onResponseEnd(): void {
    this.succeed();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }
}

/** An HttpSender on undici's own API: one keep-alive Pool per origin, a per-sink connection limit. */
export function createUndiciSender({
  connections = 64,
  keepAliveTimeoutMs = 30_000,
  connectTimeoutMs = 5_000,
  pipelining = 1,
  maxErrorBodyChars = 1024,
  preciseBelowMs = 3_000,
  now = Date.now,
  redact = redactPatterns,
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

  let lastUrl = '';
  let lastTarget: { origin: string; path: string } | undefined;

  return {
    // Every request ends by itself (our timer below preciseBelowMs, undici's headers/body timeouts
    // above it) and close() destroys the pools: the core passes no per-call signal.
    endsRequests: true,
    send(request: SinkRequest): Promise<SinkResponse> {
      if (closed) return Promise.resolve({ kind: 'network-error', message: 'sender closed' });
      // Most sinks post every record to the same URL: split it once.
      if (request.url !== lastUrl) {
        lastTarget = splitUrl(request.url, validOrigins);
        lastUrl = request.url;
      }
      const target = lastTarget;
      if (target === undefined) return Promise.resolve({ kind: 'invalid-request', message: 'invalid URL' });
      // undici's own headers/body timeouts are cheap but tick at a 1 s resolution: fine for long
      // timeouts; short ones get a timer of ours.
      const precise = request.timeoutMs < preciseBelowMs;
      const signal = request.signal;
      return new Promise<SinkResponse>((resolve) => {
        const exchange = new Exchange(signal, resolve, maxErrorBodyChars, now, redact);
        if (signal !== undefined) {
          if (signal.aborted) {
            exchange.fail(signal.reason ?? new Error('aborted'));
            return;
          }
          signal.addEventListener('abort', exchange, { once: true });
        }
        if (precise) exchange.timer = setTimeout(expire, request.timeoutMs, exchange);
        try {
          poolFor(target.origin).dispatch(
            {
              path: target.path,
              method: request.method as 'POST',
              headers: request.headers,
              body: request.body,
              headersTimeout: precise ? request.timeoutMs + 1000 : request.timeoutMs,
              bodyTimeout: precise ? request.timeoutMs + 1000 : request.timeoutMs,
            },
            exchange,
          );
        } catch (error) {
          exchange.fail(error);
        }
      });
    },
    async close(): Promise<void> {
      // Ends requests still in flight (their calls were abandoned by then), as aborting their signals did.
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.destroy().catch(() => {})));
    },
  };
}
