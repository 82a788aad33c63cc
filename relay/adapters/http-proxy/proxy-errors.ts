// What an HTTP Proxy failure means for a drain: one FerryError code and a retry flag per answer.
//
// | answer                                              | code                          | retryable |
// | --------------------------------------------------- | ----------------------------- | --------- |
// | 401, 403 (and error_code 40101 / 40301)             | FERRY_PROXY_AUTH              | no        |
// | 404 with error_code 40403 (consumer instance gone)  | FERRY_PROXY_INSTANCE_GONE     | yes: create it again |
// | 409 with error_code 40902 (instance name taken)     | FERRY_PROXY_INSTANCE_EXISTS   | yes: take it over |
// | 408, 429, 5xx, network error, no answer in time     | FERRY_PROXY_UNAVAILABLE       | yes       |
// | other 4xx (400, 404 topic/partition, 406, 415, 422) | FERRY_PROXY_REJECTED          | no        |
import { FerryError } from '../../core/errors.ts';
import { type ErrorBody, PROXY_ERROR } from './wire.ts';

/** Retry-After in ms (seconds or an HTTP date), when present and sane. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 300_000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.min(Math.max(at - Date.now(), 0), 300_000);
}

/** The proxy's message, kept short and on one line (it is outside text). */
function shortMessage(body: ErrorBody | undefined): string {
  if (!body) return '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  const text = body.message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const cut = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return ` (error_code ${body.error_code}${cut ? `: ${cut}` : ''})`;
}

export function classifyProxyError(
  operation: string,
  status: number,
  body: ErrorBody | undefined,
  retryAfter: string | null = null,
): FerryError {
  const detail = `${operation}: HTTP ${status}${shortMessage(body)}`;
  const code = body?.error_code;
  const opts = { status, retryAfterMs: retryAfterMs(retryAfter) };
  if (
    status === 401 ||
    status === 403 ||
    code === PROXY_ERROR.kafkaAuthentication ||
    code === PROXY_ERROR.kafkaAuthorization
  )
    return new FerryError('FERRY_PROXY_AUTH', `${detail}; check the proxy credentials and ACLs`, opts);
  if (status === 404 && code === PROXY_ERROR.consumerInstanceNotFound)
    return new FerryError('FERRY_PROXY_INSTANCE_GONE', detail, { ...opts, retryable: true });
  if (status === 409 && code === PROXY_ERROR.consumerAlreadyExists)
    return new FerryError('FERRY_PROXY_INSTANCE_EXISTS', detail, { ...opts, retryable: true });
  if (status === 408 || status === 429 || status >= 500)
    return new FerryError('FERRY_PROXY_UNAVAILABLE', detail, { ...opts, retryable: true });
  return new FerryError('FERRY_PROXY_REJECTED', detail, opts);
}

/** Kafka error codes a produce answer may carry per partition that retrying cannot fix. */
const PERMANENT_KAFKA = new Set([
  2, // corrupt message
  10, // message too large
  17, // invalid topic
  18, // record list too large
  29, // topic authorization failed
  31, // cluster authorization failed
  87, // invalid record
]);

/** A produce answer's per-partition error (a Kafka error code, not a proxy code). */
export function produceRefused(operation: string, kafkaCode: number): FerryError {
  const detail = `${operation}: the broker refused it (Kafka error code ${kafkaCode})`;
  if (kafkaCode === 29 || kafkaCode === 31) return new FerryError('FERRY_PROXY_AUTH', detail);
  return PERMANENT_KAFKA.has(kafkaCode)
    ? new FerryError('FERRY_PROXY_REJECTED', detail)
    : new FerryError('FERRY_PROXY_UNAVAILABLE', detail, { retryable: true });
}
