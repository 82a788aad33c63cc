// Replays dead-lettered records from dlq.relay back through one sink's lane (same dedupe protocol,
// same policy), filtered by sink, failure time and source offset range, at a bounded rate. A dry run
// reports what would be sent and sends nothing.
import type { Clock, DlqReader } from './contracts.ts';
import { parseDeadLetter } from './dlq-headers.ts';
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
  readonly limit?: number | undefined;
  readonly dryRun?: boolean | undefined;
}

export interface ReplayItem {
  readonly eventId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly code: string;
  readonly failedAt: string;
  readonly dlqPartition: number;
  readonly dlqOffset: string;
  readonly outcome?: ReplayOutcome;
}

export interface ReplayReport {
  readonly dryRun: boolean;
  readonly scanned: number;
  readonly matched: number;
  readonly sent: number;
  readonly outcomes: Readonly<Record<string, number>>;
  /** The first 200 matched records. */
  readonly items: readonly ReplayItem[];
}

const MAX_ITEMS = 200;

export async function replayDeadLetters({
  reader,
  relay,
  clock,
  filter,
  perSecond = 100,
  signal,
}: {
  reader: DlqReader;
  relay: Relay;
  clock: Clock;
  filter: ReplayFilter;
  perSecond?: number;
  signal?: AbortSignal;
}): Promise<ReplayReport> {
  const limiter = createRateLimiter(perSecond);
  const dryRun = filter.dryRun === true;
  const limit = filter.limit ?? 10_000;
  let scanned = 0;
  let matched = 0;
  const items: ReplayItem[] = [];
  const pending: Array<Promise<void>> = [];
  const outcomes: Record<string, number> = {};

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
    };
    const index = items.length < MAX_ITEMS ? items.push(item) - 1 : -1;
    if (dryRun) continue;
    for (let wait = limiter.take(clock.now()); wait > 0; wait = limiter.take(clock.now()))
      await clock.sleep(wait, signal);
    pending.push(
      relay.replay(filter.sink, original).then((outcome) => {
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (index >= 0) items[index] = { ...item, outcome };
      }),
    );
  }
  await Promise.all(pending);
  return { dryRun, scanned, matched, sent: dryRun ? 0 : pending.length, outcomes, items };
}
