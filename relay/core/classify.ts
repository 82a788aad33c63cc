// Classification: 2xx delivered; 408, 425, 429, 5xx, timeouts and network errors retry
// (honouring Retry-After); any other status is permanent and goes straight to the DLQ. A request the
// HTTP client refused to build (an invalid header value or URL) is permanent too: it would fail the
// same way on every retry, so it must neither park its key nor count against the breaker.
import type { SinkResponse } from './contracts.ts';
import { FerryError } from './errors.ts';

const RETRYABLE_STATUS = new Set([408, 425, 429]);

export type Classification =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'failed'; readonly error: FerryError };

export function classify(response: SinkResponse): Classification {
  if (response.kind === 'timeout') {
    return {
      kind: 'failed',
      error: new FerryError('FERRY_SINK_TIMEOUT', 'sink timed out', { retryable: true }),
    };
  }
  if (response.kind === 'invalid-request') {
    return {
      kind: 'failed',
      error: new FerryError('FERRY_REQUEST_INVALID', `invalid request: ${response.message}`, {
        retryable: false,
      }),
    };
  }
  if (response.kind === 'network-error') {
    return {
      kind: 'failed',
      error: new FerryError('FERRY_SINK_NETWORK', `network error: ${response.message}`, { retryable: true }),
    };
  }
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const snippet = response.body ? `: ${response.body.slice(0, 200)}` : '';
  if (RETRYABLE_STATUS.has(status) || status >= 500) {
    return {
      kind: 'failed',
      error: new FerryError('FERRY_SINK_RETRYABLE', `sink answered ${status}${snippet}`, {
        retryable: true,
        status,
        ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
      }),
    };
  }
  return {
    kind: 'failed',
    error: new FerryError('FERRY_SINK_REJECTED', `sink answered ${status}${snippet}`, {
      retryable: false,
      status,
    }),
  };
}

/** Parses a Retry-After header value (seconds or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
