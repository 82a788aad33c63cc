// Reading a record: its event id, its key as a string, its JSON value, dotted-path lookups, and the CDC
// commit timestamp used for freshness. Bad input comes back as data (`ok: false`), never thrown.
import type { RecordHeader, SourceRecord } from './contracts.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

export const EVENT_ID_HEADER = 'ferry-event-id';

export function headerText(headers: readonly RecordHeader[], key: string): string | undefined {
  for (const h of headers) {
    if (h.key === key && h.value !== null) return lenient.decode(h.value);
  }
  return undefined;
}

/** `ferry-event-id` when the transform stamped one, else topic-partition-offset. */
export function eventIdOf(record: SourceRecord): string {
  const stamped = headerText(record.headers, EVENT_ID_HEADER);
  if (stamped !== undefined && stamped.length > 0) return stamped;
  return `${record.topic}-${record.partition}-${record.offset}`;
}

/** The ordering key. Records without a key have no order to keep, so each gets its own. */
export function orderingKeyOf(record: SourceRecord): string {
  if (record.key === null || record.key.length === 0) return `\u0000${record.partition}:${record.offset}`;
  return `${record.topic}\u0000${lenient.decode(record.key)}`;
}

export type ParsedValue =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string };

export function parseValue(record: SourceRecord): ParsedValue {
  if (record.value === null) return { ok: true, value: null };
  let text: string;
  try {
    text = utf8.decode(record.value);
  } catch {
    return { ok: false, message: 'value is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `value is not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** `a.b.0.c` lookup; undefined when any step is missing. */
export function getPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const field = (value: unknown, name: string): unknown =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
const tsMsOf = (source: unknown): unknown => field(source, 'ts_ms');

/**
 * The CDC commit time: Debezium's `source.ts_ms` in a raw envelope, or `occurredAt` (ISO time) in a
 * clean event from the transforms; else the record timestamp.
 */
export function commitTimestampOf(value: unknown, record: SourceRecord): number {
  // Once per delivered record: plain property reads, no path splitting.
  if (value === null || typeof value !== 'object') return record.timestamp;
  const v = value as Record<string, unknown>;
  const ts = tsMsOf(v.source) ?? tsMsOf(field(v.payload, 'source'));
  if (typeof ts === 'number' && Number.isFinite(ts)) return ts;
  const occurred = v.occurredAt;
  if (typeof occurred === 'string') {
    const t = Date.parse(occurred);
    if (!Number.isNaN(t)) return t;
  }
  return record.timestamp;
}
