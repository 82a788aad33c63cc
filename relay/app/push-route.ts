// POST /push/batches: the HTTP push source's endpoint (edge runtimes, where no Kafka consumer can stay
// open). Bearer-authenticated with its own token. Body:
//   { "records": [{ "topic", "partition", "offset", "key"?, "value"? | "valueText"?, "headers"?, "timestamp"? }] }
// `value` is any JSON (sent on as its JSON text); `valueText` is raw text (for non-JSON payloads).
// Answers when every record is terminal: 200 committed, 202 timeout (push the same batch again: it is
// idempotent by position), 429 paused (a sink's buffer is full, Retry-After), 400 invalid, 409 conflict
// (an offset that was skipped earlier, so never processed: nothing of the batch is taken), 503 stopped.
// Before any of that: 401/429 from the token guard, 429 beyond the token's `requestsPerSecond`, 413 for
// a body over `maxBodyBytes` (counted while it streams in, before parsing), 401 for a missing, stale or
// wrong Standard Webhooks signature (when signing secrets are configured: checked over the exact bytes
// received, before they are parsed), then 413 over `maxRecords`.
import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import * as v from 'valibot';
import type { SourceRecord } from '../core/contracts.ts';
import type { PushSource } from '../core/push-source.ts';
import { createKeyedRateLimiter, retryAfterSeconds } from '../core/rate-limiter.ts';
import { createWebhookVerifier } from '../core/webhook-signing.ts';
import { adminAuth, presentedToken } from './admin-auth.ts';
import type { ClientAddress } from './client-address.ts';
import { allowOnly } from './method-not-allowed.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const PushRecord = v.strictObject({
  topic: v.pipe(v.string(), v.minLength(1)),
  partition: v.pipe(v.number(), v.integer(), v.minValue(0)),
  offset: v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.pipe(v.string(), v.regex(/^\d+$/))]),
  key: v.optional(v.nullable(v.string())),
  value: v.optional(v.unknown()),
  valueText: v.optional(v.string()),
  headers: v.optional(v.record(v.string(), v.string())),
  timestamp: v.optional(v.number()),
});
const PushBody = v.strictObject({ records: v.pipe(v.array(PushRecord), v.minLength(1)) });

export const PUSH_DEFAULTS = { maxBodyBytes: 4 * 1024 * 1024, maxRecords: 1000, requestsPerSecond: 50 };

export interface PushRouteOptions {
  readonly source: PushSource;
  readonly token: string | undefined;
  readonly timeoutMs?: number;
  /** Largest request body, in bytes (413 beyond it). */
  readonly maxBodyBytes?: number;
  /** Most records in one batch (413 beyond it). */
  readonly maxRecords?: number;
  /** Pushes per second per token, in bursts of that many (429 with Retry-After beyond it). */
  readonly requestsPerSecond?: number;
  /**
   * Standard Webhooks secrets (`whsec_...`); every push must carry a valid signature by one of them.
   * Absent or empty: bearer token only.
   */
  readonly signingSecrets?: readonly string[] | undefined;
  /** How far `webhook-timestamp` may be from now, in seconds, either way. */
  readonly signatureToleranceSeconds?: number;
}

export function mountPushRoute(
  app: Hono,
  {
    source,
    token,
    timeoutMs = 30_000,
    maxBodyBytes = PUSH_DEFAULTS.maxBodyBytes,
    maxRecords = PUSH_DEFAULTS.maxRecords,
    requestsPerSecond = PUSH_DEFAULTS.requestsPerSecond,
    signingSecrets = [],
    signatureToleranceSeconds = 300,
  }: PushRouteOptions,
  { now, clientAddress }: { now: () => number; clientAddress?: ClientAddress | undefined },
): void {
  const verifier =
    signingSecrets.length > 0
      ? createWebhookVerifier(signingSecrets, { toleranceSeconds: signatureToleranceSeconds })
      : undefined;
  const perToken = createKeyedRateLimiter({ perSecond: requestsPerSecond, maxKeys: 64 });
  app.use('/push/*', adminAuth(token, { now, clientAddress }));
  app.use('/push/*', async function limitPushRate(c, next) {
    // Only a valid token gets here, so the table holds the configured tokens and nothing else.
    const wait = perToken.take(presentedToken(c) ?? '', now());
    if (wait > 0) {
      return c.json({ error: 'too many pushes', code: 'FERRY_PUSH_RATE_LIMITED' }, 429, {
        'retry-after': retryAfterSeconds(wait),
      });
    }
    return next();
  });
  app.post(
    '/push/batches',
    // Hono's bodyLimit refuses a declared Content-Length over the limit without reading, and counts a
    // streamed body as it arrives, stopping at the limit: nothing larger is ever buffered.
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        c.json(
          { error: `body larger than ${maxBodyBytes} bytes`, code: 'FERRY_PUSH_TOO_LARGE', maxBodyBytes },
          413,
        ),
    }),
    async function pushBatch(c) {
      const body = new Uint8Array(await c.req.arrayBuffer());
      if (verifier) {
        const signed = await verifier.verify(c.req.raw.headers, body, now());
        if (!signed.ok)
          return c.json({ error: `push signature refused: ${signed.message}`, code: signed.code }, 401);
      }
      let json: unknown;
      try {
        json = JSON.parse(decoder.decode(body));
      } catch {
        return c.json({ error: 'body must be JSON' }, 400);
      }
      const count = (json as { records?: unknown } | null)?.records;
      if (Array.isArray(count) && count.length > maxRecords) {
        return c.json(
          {
            error: `batch of ${count.length} records, more than ${maxRecords}`,
            code: 'FERRY_PUSH_TOO_MANY_RECORDS',
            maxRecords,
          },
          413,
        );
      }
      const parsed = v.safeParse(PushBody, json);
      if (!parsed.success) {
        return c.json(
          {
            error: 'invalid batch',
            issues: parsed.issues.slice(0, 20).map((i) => `${v.getDotPath(i) ?? '(body)'}: ${i.message}`),
          },
          400,
        );
      }
      const received = now();
      const records: SourceRecord[] = parsed.output.records.map((r) => ({
        topic: r.topic,
        partition: r.partition,
        offset: BigInt(r.offset),
        key: r.key === undefined || r.key === null ? null : encoder.encode(r.key),
        value:
          r.valueText !== undefined
            ? encoder.encode(r.valueText)
            : r.value === undefined || r.value === null
              ? null
              : encoder.encode(JSON.stringify(r.value)),
        headers: Object.entries(r.headers ?? {}).map(([key, value]) => ({
          key,
          value: encoder.encode(value),
        })),
        timestamp: r.timestamp ?? received,
      }));
      const result = await source.push(records, { timeoutMs });
      switch (result.status) {
        case 'committed':
          return c.json(result, 200);
        case 'timeout':
          return c.json(result, 202);
        case 'paused':
          return c.json(result, 429, { 'retry-after': '1' });
        case 'rejected':
          return c.json(result, 400);
        case 'conflict':
          return c.json({ ...result, code: 'FERRY_PUSH_CONFLICT' }, 409);
        default:
          return c.json(result, 503);
      }
    },
  );
  app.all('/push/batches', allowOnly('POST'));
}
