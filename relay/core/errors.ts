// Errors the relay raises. Each carries a brand (checked by guards, so it works across realms and
// bundles), a stable code, and whether retrying can help. Sink errors may carry their own retry delay
// (from Retry-After), which the retry backoff honours.

const BRAND = Symbol.for('ferry.error');

export type FerryErrorCode =
  | 'FERRY_CONFIG_INVALID'
  | 'FERRY_RECORD_UNPARSEABLE'
  | 'FERRY_SINK_REJECTED'
  | 'FERRY_SINK_RETRYABLE'
  | 'FERRY_SINK_TIMEOUT'
  | 'FERRY_SINK_NETWORK'
  | 'FERRY_BREAKER_OPEN'
  | 'FERRY_RETRIES_EXHAUSTED'
  | 'FERRY_URL_TEMPLATE'
  /** A templated path segment would render as `.` or `..` (the path would change on the way). */
  | 'FERRY_URL_DOT_SEGMENT'
  /** A path value is empty or holds `/`, `\`, a control character or malformed Unicode. */
  | 'FERRY_URL_UNSAFE_VALUE'
  /** The record's value is nested deeper than the relay reads (projection, filters). */
  | 'FERRY_VALUE_TOO_DEEP'
  | 'FERRY_DEDUPE_UNAVAILABLE'
  | 'FERRY_DLQ_WRITE_FAILED'
  | 'FERRY_STOPPED'
  /** The record's event id cannot be a header value (control characters, too long): permanent. */
  | 'FERRY_EVENT_ID_INVALID'
  /** The HTTP client refused to build the request (invalid header value, invalid URL): permanent. */
  | 'FERRY_REQUEST_INVALID'
  /** Redpanda's HTTP Proxy refused the credentials (401/403): permanent until the secret is fixed. */
  | 'FERRY_PROXY_AUTH'
  /** The proxy no longer knows the consumer instance (404, error_code 40403): create it again. */
  | 'FERRY_PROXY_INSTANCE_GONE'
  /** The proxy holds a consumer instance of that name already (409, error_code 40902). */
  | 'FERRY_PROXY_INSTANCE_EXISTS'
  /** The proxy refused the request as invalid (400, 404 topic/partition, 406, 415, 422): permanent. */
  | 'FERRY_PROXY_REJECTED'
  /** Unreachable, timed out, 408, 429 or 5xx: retryable (next fetch, or the next drain). */
  | 'FERRY_PROXY_UNAVAILABLE'
  /** The proxy answered something that is not its documented shape: permanent. */
  | 'FERRY_PROXY_PROTOCOL';

export class FerryError extends Error {
  readonly [BRAND] = true;
  readonly code: FerryErrorCode;
  readonly retryable: boolean;
  /** Delay the remote side asked for (Retry-After), in ms. */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(
    code: FerryErrorCode,
    message: string,
    {
      retryable = false,
      retryAfterMs,
      status,
      cause,
    }: { retryable?: boolean; retryAfterMs?: number; status?: number; cause?: unknown } = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FerryError';
    this.code = code;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
    this.status = status;
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

export function isRetryableError(e: unknown): e is FerryError {
  return isFerryError(e) && e.retryable;
}

export function isSinkRejectedError(e: unknown): e is FerryError {
  return isFerryError(e) && e.code === 'FERRY_SINK_REJECTED';
}

export function isUrlTemplateError(e: unknown): e is FerryError {
  return isFerryError(e) && e.code === 'FERRY_URL_TEMPLATE';
}

/** A short printable message for logs and DLQ headers; never includes secrets we put in errors. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
