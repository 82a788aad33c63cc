// Fetch-response batches -> SourceRecords. Pure: no client, no I/O.
// A batch's records carry offset and timestamp deltas from the batch header; control batches
// (transaction markers) take offsets but carry no data, so they advance the position only.
import type { RecordsBatch } from '@platformatic/kafka';
import type { RecordHeader, SourceRecord } from '../core/contracts.ts';

const IS_CONTROL = 0x20;

export interface DecodedBatches {
  readonly records: SourceRecord[];
  /** Next offset to fetch after these batches, or undefined when there were none. */
  readonly next: bigint | undefined;
}

/** Records at or after `from` (a fetch may return a batch that starts before the requested offset). */
export function decodeBatches(
  topic: string,
  partition: number,
  batches: readonly RecordsBatch[],
  from: bigint,
): DecodedBatches {
  const records: SourceRecord[] = [];
  let next: bigint | undefined;
  for (const batch of batches) {
    const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (next === undefined || last + 1n > next) next = last + 1n;
    if ((batch.attributes & IS_CONTROL) !== 0) continue;
    const firstTimestamp = Number(batch.firstTimestamp);
    for (const r of batch.records) {
      const offset = batch.firstOffset + BigInt(r.offsetDelta);
      if (offset < from) continue;
      const headers: RecordHeader[] = [];
      for (const [k, v] of r.headers) {
        if (k !== null) headers.push({ key: k.toString(), value: v });
      }
      records.push({
        topic,
        partition,
        offset,
        key: r.key,
        value: r.value,
        headers,
        timestamp: firstTimestamp + Number(r.timestampDelta),
      });
    }
  }
  return { records, next: next !== undefined && next < from ? from : next };
}
