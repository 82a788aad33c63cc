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

/** About how many bytes a record adds to a batch body (its encoded JSON). */
export function pushRecordBytes(r: SourceRecord): number {
  return encoder.encode(JSON.stringify(pushRecord(r))).length + 1;
}

/** The batch of `records` (one partition, increasing offsets, at least one). */
export function encodePushBatch(records: readonly SourceRecord[]): PushBatch {
  const first = records[0];
  const last = records.at(-1);
  if (first === undefined || last === undefined) throw new RangeError('a push batch needs a record');
  const body = encoder.encode(JSON.stringify({ records: records.map(pushRecord) }));
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
