// Redpanda's HTTP Proxy returns records without headers, so the `ferry-event-id` header the transforms
// stamp does not arrive. Clean events carry the same id in their value (`eventId`), so it is put back
// as the header: the dedupe key is then the same whether a record came through Kafka or the proxy, and
// a change Debezium re-emits at a new offset is still recognised. Without it the core falls back to
// topic-partition-offset, which still makes a re-fetch of the same record safe.
import type { RecordHeader } from '../../core/contracts.ts';
import { EVENT_ID_HEADER } from '../../core/record.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
const NO_HEADERS: readonly RecordHeader[] = [];

/** Headers to give a record: the event id from the value's top-level `field`, when it has one. */
export function eventIdHeaders(value: Uint8Array | null, field: string): readonly RecordHeader[] {
  if (field === '' || value === null || value.length === 0) return NO_HEADERS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(value));
  } catch {
    return NO_HEADERS; // the core dead-letters it as unparseable
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return NO_HEADERS;
  const id = (parsed as Record<string, unknown>)[field];
  if (typeof id !== 'string' || id === '') return NO_HEADERS;
  return [{ key: EVENT_ID_HEADER, value: encoder.encode(id) }];
}
