// Which dead letters of dlq.transform `ferry dlq reprocess` sends back, and what it sends: the
// original record (key, value, its own headers) without the ferry-error-* headers the transform
// added, plus ferry-reprocessed-from naming the dead letter. Pure: the command does the Kafka I/O.
//
// A dead letter that was reprocessed and failed again comes back as a newer dead letter carrying
// ferry-reprocessed-from; the older one is then superseded (skipped), so running reprocess again with
// a rule still wrong does not multiply the records. A reprocessed record that became clean has the
// same event id as it would have had the first time (it is derived from the change's LSN and key),
// so a second run delivers nothing twice: the relay's dedupe drops it.
import type { SourceRecord } from '../../relay/core/contracts.ts';

export const REPROCESSED_FROM = 'ferry-reprocessed-from';
const ERROR_PREFIX = 'ferry-error-';

export interface ReprocessFilter {
  /** The transform's input topic: only dead letters whose ferry-error-source-topic is this one. */
  readonly sourceTopic: string;
  /** ferry-error-code values to take (empty or absent: all). */
  readonly codes?: readonly string[];
  /** Dead-lettered at or after / before (ms since the epoch, the dead letter's timestamp). */
  readonly since?: number;
  readonly until?: number;
  /** At most this many, oldest first per partition. */
  readonly limit?: number;
}

export interface OutgoingRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: ReadonlyArray<{ key: string; value: Uint8Array | null }>;
}

export interface Selection {
  /** The dead letters to reprocess, in the order read. */
  readonly selected: SourceRecord[];
  /** Why the others were left: per reason, how many. */
  readonly skipped: Record<'other-source' | 'code' | 'time' | 'superseded' | 'limit', number>;
}

const dec = new TextDecoder();
const enc = new TextEncoder();

export function headerValue(r: SourceRecord, key: string): string | undefined {
  let found: string | undefined;
  for (const h of r.headers) if (h.key === key) found = h.value === null ? '' : dec.decode(h.value);
  return found;
}

/** How a dead letter is named in ferry-reprocessed-from: `<topic>/<partition>@<offset>`. */
export const deadLetterId = (r: Pick<SourceRecord, 'topic' | 'partition' | 'offset'>): string =>
  `${r.topic}/${r.partition}@${r.offset}`;

/**
 * Chooses the dead letters to reprocess as they are read (the whole topic, in partition order): only
 * the candidates and the names of reprocessed dead letters are kept, not every record read.
 */
export function createSelector(filter: ReprocessFilter): { add(r: SourceRecord): void; result(): Selection } {
  const skipped = { 'other-source': 0, code: 0, time: 0, superseded: 0, limit: 0 };
  const candidates: SourceRecord[] = [];
  const reprocessed = new Set<string>();
  const codes = filter.codes && filter.codes.length > 0 ? new Set(filter.codes) : undefined;
  return {
    add(r) {
      const from = headerValue(r, REPROCESSED_FROM);
      if (from !== undefined) reprocessed.add(from);
      if (headerValue(r, 'ferry-error-source-topic') !== filter.sourceTopic) skipped['other-source']++;
      else if (codes && !codes.has(headerValue(r, 'ferry-error-code') ?? '')) skipped.code++;
      else if (
        (filter.since !== undefined && r.timestamp < filter.since) ||
        (filter.until !== undefined && r.timestamp >= filter.until)
      )
        skipped.time++;
      else candidates.push(r);
    },
    result() {
      const selected: SourceRecord[] = [];
      for (const r of candidates) {
        if (reprocessed.has(deadLetterId(r))) skipped.superseded++;
        else if (filter.limit !== undefined && selected.length >= filter.limit) skipped.limit++;
        else selected.push(r);
      }
      return { selected, skipped: { ...skipped } };
    },
  };
}

/** createSelector over records already read. */
export function selectDeadLetters(records: Iterable<SourceRecord>, filter: ReprocessFilter): Selection {
  const s = createSelector(filter);
  for (const r of records) s.add(r);
  return s.result();
}

/** The record to produce to the input topic: the original, without the transform's ferry-error-* headers. */
export function outgoing(r: SourceRecord): OutgoingRecord {
  const headers = r.headers
    .filter((h) => !h.key.startsWith(ERROR_PREFIX) && h.key !== REPROCESSED_FROM)
    .map((h) => ({ key: h.key, value: h.value }));
  headers.push({ key: REPROCESSED_FROM, value: enc.encode(deadLetterId(r)) });
  return { key: r.key, value: r.value, headers };
}

const RELATIVE = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`/`--until`: an ISO-8601 time, or a duration ago (`90m`, `2h`, `7d`). NaN when neither. */
export function parseTimeFlag(text: string, now: number): number {
  const rel = RELATIVE.exec(text.trim());
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return Number.NaN;
  return Date.parse(text);
}
