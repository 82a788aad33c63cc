// A batch of one partition's records as the push endpoint reads it (POST /push/batches):
//   { "records": [{ "topic", "partition", "offset": "<decimal>", "key"?, "valueText"?, "headers"?, "timestamp" }] }
// Offsets travel as decimal strings (int64 is beyond a JSON number). Keys, values and header values
// travel as UTF-8 text: the value as `valueText`, so the relay sees exactly the bytes Kafka held
// (bytes that are not UTF-8 arrive as U+FFFD, and such a value reaches the relay's DLQ as unparseable).
// A record's header key seen twice keeps its last value (the endpoint takes a map).
import type { SourceRecord } from '../core/contracts.ts';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export interface PushBatch {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  readonly records: number;
  /** The request body, built once: every attempt sends (and signs) the same bytes. */
  readonly body: Uint8Array;
  /** `webhook-id`: the same for every attempt of the batch, and for the same batch after a restart. */
  readonly id: string;
}

function pushRecord(r: SourceRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset.toString(),
    timestamp: r.timestamp,
  };
  if (r.key !== null) out.key = decoder.decode(r.key);
  if (r.value !== null) out.valueText = decoder.decode(r.value);
  if (r.headers.length > 0) {
    const headers: Record<string, string> = {};
    for (const h of r.headers) if (h.value !== null) headers[h.key] = decoder.decode(h.value);
    out.headers = headers;
  }
  return out;
}

/** A record as it goes into a batch: its JSON text, encoded once when it arrives. */
export interface EncodedPushRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly json: string;
  /** UTF-8 bytes it adds to a batch body (its JSON and a comma). */
  readonly bytes: number;
}

/** UTF-8 length of a string JSON.stringify produced (well-formed: no lone surrogates). */
function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else {
      // 3 bytes for one unit, or 4 for a surrogate pair (2 units): 2 more than counted either way.
      n += 2;
      if (c >= 0xd800 && c <= 0xdbff) i++;
    }
  }
  return n;
}

export function encodePushRecord(r: SourceRecord): EncodedPushRecord {
  const json = JSON.stringify(pushRecord(r));
  return { topic: r.topic, partition: r.partition, offset: r.offset, json, bytes: utf8Length(json) + 1 };
}

/** The batch of already encoded records (one partition, increasing offsets, at least one). */
export function joinPushBatch(records: readonly EncodedPushRecord[]): PushBatch {
  const first = records[0];
  const last = records.at(-1);
  if (first === undefined || last === undefined) throw new RangeError('a push batch needs a record');
  const body = encoder.encode(`{"records":[${records.map((r) => r.json).join(',')}]}`);
  return {
    topic: first.topic,
    partition: first.partition,
    firstOffset: first.offset,
    lastOffset: last.offset,
    records: records.length,
    body,
    id: `${first.topic}/${first.partition}/${first.offset}-${last.offset}`,
  };
}

/** The batch of `records` (one partition, increasing offsets, at least one). */
export function encodePushBatch(records: readonly SourceRecord[]): PushBatch {
  return joinPushBatch(records.map(encodePushRecord));
}
