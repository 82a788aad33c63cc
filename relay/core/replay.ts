// Replays dead-lettered records from dlq.relay back through one sink's lane (same dedupe protocol,
// same policy), filtered by sink, failure time and source offset range, at a bounded rate. A dry run
// reports what would be sent and sends nothing. A pointer record (the original did not fit the DLQ
// topic) is replayed with the original read back from its source topic at its offset, after its
// sha-256 is checked; when the source no longer has it (or has other bytes there) the item is
// reported `missing`, never silently skipped.
import type { Clock, DlqReader, SourceRecord } from './contracts.ts';
import { type DeadLetter, parseDeadLetter } from './dlq-headers.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { eventIdOf } from './record.ts';
import type { Relay, ReplayOutcome } from './relay.ts';

export interface ReplayFilter {
  readonly sink: string;
  /** Failure time window (ms since epoch), on ferry-error-last-failure-at. */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /** Source position window. */
  readonly topic?: string | undefined;
  readonly partition?: number | undefined;
  readonly fromOffset?: bigint | undefined;
  readonly toOffset?: bigint | undefined;
  /** Only dead letters with this `ferry-error-code`. */
  readonly code?: string | undefined;
  readonly limit?: number | undefined;
  readonly dryRun?: boolean | undefined;
}

/** `missing`: a pointer whose original the source topic no longer holds (or holds other bytes). */
export type ReplayItemOutcome = ReplayOutcome | 'missing';

export interface ReplayItem {
  readonly eventId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly code: string;
  readonly failedAt: string;
  readonly dlqPartition: number;
  readonly dlqOffset: string;
  /** The DLQ record is a pointer: the original is read from the source topic. */
  readonly pointer?: true;
  /** Why a pointer's original could not be replayed. */
  readonly missing?: string;
  readonly outcome?: ReplayItemOutcome;
}

/** Where a replay stands, reported as it goes (the sends' outcomes arrive as the sink answers). */
export interface ReplayProgress {
  readonly scanned: number;
  readonly matched: number;
  readonly sent: number;
  readonly outcomes: Readonly<Record<string, number>>;
}

export interface ReplayReport {
  readonly dryRun: boolean;
  readonly scanned: number;
  readonly matched: number;
  readonly sent: number;
  /** Pointers whose original the source no longer has (also counted in outcomes.missing). */
  readonly missing: number;
  readonly outcomes: Readonly<Record<string, number>>;
  /** The first 200 matched records. */
  readonly items: readonly ReplayItem[];
}

const MAX_ITEMS = 200;

const hex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** The record to replay for a dead letter: itself, or for a pointer the checked original. */
async function originalOf(
  reader: DlqReader,
  dead: DeadLetter,
  signal: AbortSignal | undefined,
): Promise<{ record: SourceRecord } | { missing: string }> {
  const { pointer, original } = dead;
  if (pointer === undefined) return { record: original };
  if (!reader.original) return { missing: 'the DLQ reader cannot read source topics' };
  const found = await reader.original(original.topic, original.partition, original.offset, signal);
  if (found === undefined)
    return {
      missing: `${original.topic}/${original.partition}@${original.offset} is no longer in the source`,
    };
  const value = found.value ?? new Uint8Array(0);
  const digest = hex(await crypto.subtle.digest('SHA-256', value as Uint8Array<ArrayBuffer>));
  if (value.byteLength !== pointer.originalSize || digest !== pointer.sha256)
    return {
      missing: `the source record at ${original.topic}/${original.partition}@${original.offset} differs (sha-256)`,
    };
  return { record: found };
}

export async function replayDeadLetters({
  reader,
  relay,
  clock,
  filter,
  perSecond = 100,
  signal,
  onProgress,
}: {
  reader: DlqReader;
  relay: Relay;
  clock: Clock;
  filter: ReplayFilter;
  perSecond?: number;
  signal?: AbortSignal;
  /** Called after each matched record is sent (or found missing) and after each outcome. */
  onProgress?: (progress: ReplayProgress) => void;
}): Promise<ReplayReport> {
  const limiter = createRateLimiter(perSecond);
  const dryRun = filter.dryRun === true;
  const limit = filter.limit ?? 10_000;
  let scanned = 0;
  let matched = 0;
  const items: ReplayItem[] = [];
  const pending: Array<Promise<void>> = [];
  const outcomes: Record<string, number> = {};
  let missing = 0;
  const progress = () => onProgress?.({ scanned, matched, sent: pending.length, outcomes: { ...outcomes } });

  for await (const record of reader.read(signal ? { signal } : {})) {
    scanned++;
    const dead = parseDeadLetter(record);
    if (!dead || dead.reason.sink !== filter.sink) continue;
    const { original, reason } = dead;
    if (filter.from !== undefined && reason.lastFailureAt < filter.from) continue;
    if (filter.to !== undefined && reason.lastFailureAt > filter.to) continue;
    if (filter.topic !== undefined && original.topic !== filter.topic) continue;
    if (filter.partition !== undefined && original.partition !== filter.partition) continue;
    if (filter.fromOffset !== undefined && original.offset < filter.fromOffset) continue;
    if (filter.toOffset !== undefined && original.offset > filter.toOffset) continue;
    if (filter.code !== undefined && reason.code !== filter.code) continue;
    if (matched >= limit) break;
    matched++;
    const item: ReplayItem = {
      eventId: eventIdOf(original),
      topic: original.topic,
      partition: original.partition,
      offset: String(original.offset),
      code: reason.code,
      failedAt: new Date(reason.lastFailureAt).toISOString(),
      dlqPartition: dead.dlq.partition,
      dlqOffset: String(dead.dlq.offset),
      ...(dead.pointer ? { pointer: true as const } : {}),
    };
    const index = items.length < MAX_ITEMS ? items.push(item) - 1 : -1;
    if (dryRun) continue;
    const resolved = await originalOf(reader, dead, signal);
    if ('missing' in resolved) {
      missing++;
      outcomes.missing = (outcomes.missing ?? 0) + 1;
      if (index >= 0) items[index] = { ...item, outcome: 'missing', missing: resolved.missing };
      progress();
      continue;
    }
    for (let wait = limiter.take(clock.now()); wait > 0; wait = limiter.take(clock.now()))
      await clock.sleep(wait, signal);
    pending.push(
      relay.replay(filter.sink, resolved.record).then((outcome) => {
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (index >= 0) items[index] = { ...item, outcome };
        progress();
      }),
    );
    progress();
  }
  await Promise.all(pending);
  return { dryRun, scanned, matched, sent: dryRun ? 0 : pending.length, missing, outcomes, items };
}
