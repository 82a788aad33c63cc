// POST /push/batches: the HTTP push source's endpoint (edge runtimes, where no Kafka consumer can stay
// open). Bearer-authenticated with its own token. Body:
//   { "records": [{ "topic", "partition", "offset", "key"?, "value"? | "valueText"?, "headers"?, "timestamp"? }] }
// `value` is any JSON (sent on as its JSON text); `valueText` is raw text (for non-JSON payloads).
// Answers when every record is terminal: 200 committed, 202 timeout (push the same batch again: it is
// idempotent by position), 429 paused (a sink's buffer is full, Retry-After), 400 invalid, 503 stopped.
import type { Hono } from 'hono';
import * as v from 'valibot';
import type { SourceRecord } from '../core/contracts.ts';
import type { PushSource } from '../core/push-source.ts';
import { adminAuth } from './admin-auth.ts';

const encoder = new TextEncoder();

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
const PushBody = v.strictObject({ records: v.pipe(v.array(PushRecord), v.minLength(1), v.maxLength(5000)) });

export function mountPushRoute(
  app: Hono,
  {
    source,
    token,
    timeoutMs = 30_000,
  }: { source: PushSource; token: string | undefined; timeoutMs?: number },
): void {
  app.use('/push/*', adminAuth(token));
  app.post('/push/batches', async (c) => {
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      return c.json({ error: 'body must be JSON' }, 400);
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
    const now = Date.now();
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
      headers: Object.entries(r.headers ?? {}).map(([key, value]) => ({ key, value: encoder.encode(value) })),
      timestamp: r.timestamp ?? now,
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
      default:
        return c.json(result, 503);
    }
  });
}
