// A Source fed over HTTP instead of a Kafka consumer, for runtimes that cannot hold one open (edge).
// A pusher (a Worker, Redpanda's HTTP proxy reader, a test) sends batches of records with their log
// positions; `push` resolves once the relay has committed past every record of the batch, i.e. once
// every route of every record is terminal (delivered, deduplicated, filtered or dead-lettered).
//
// Positions make retries safe: a re-pushed record that was really handed to the core and is below the
// committed offset is acknowledged at once, one still in progress is waited for, never handed to the
// core twice. Offsets must increase within a batch; a gap is allowed (compacted topics), but an offset
// that was skipped (inside a gap, or below where this relay first saw the partition) was never
// processed: a batch holding one is refused whole (`conflict`), so nothing unprocessed is acknowledged.
import type { Source, SourceHandler, SourceRecord, TopicPartition } from './contracts.ts';
import { createOffsetRanges, type OffsetRanges } from './offset-ranges.ts';

export type PushResult =
  | { readonly status: 'committed'; readonly accepted: number; readonly alreadyDone: number }
  | { readonly status: 'paused'; readonly partitions: readonly TopicPartition[] }
  | { readonly status: 'rejected'; readonly message: string }
  | {
      readonly status: 'conflict';
      readonly message: string;
      readonly topic: string;
      readonly partition: number;
      /** The first offsets of the batch that were never processed here (decimal strings). */
      readonly offsets: readonly string[];
    }
  | { readonly status: 'timeout'; readonly accepted: number }
  | { readonly status: 'stopped' };

export interface PushSource extends Source {
  push(records: readonly SourceRecord[], options?: { readonly timeoutMs?: number }): Promise<PushResult>;
}

interface PartitionState {
  readonly tp: TopicPartition;
  /** Highest offset handed to the core. */
  lastSeen: bigint;
  /** Next offset to read, as committed by the core. */
  committed: bigint;
  /** Every offset handed to the core; what lies between them below `lastSeen` was skipped. */
  readonly seen: OffsetRanges;
  paused: boolean;
  readonly waiters: Array<{ readonly until: bigint; readonly resolve: () => void }>;
}

const keyOf = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

/** Offsets of `list` at or below what `s` has seen that were never handed to the core. */
function skippedOffsets(s: PartitionState | undefined, list: readonly SourceRecord[]): bigint[] {
  if (!s) return [];
  const skipped: bigint[] = [];
  for (const r of list) if (r.offset <= s.lastSeen && !s.seen.has(r.offset)) skipped.push(r.offset);
  return skipped;
}

function conflict(s: PartitionState, skipped: readonly bigint[]): PushResult {
  const shown = skipped.slice(0, 10).map(String);
  const more = skipped.length > shown.length ? ` and ${skipped.length - shown.length} more` : '';
  const below = skipped.some((o) => o < s.seen.floor)
    ? `; offsets below ${s.seen.floor} are no longer tracked`
    : '';
  return {
    status: 'conflict',
    message:
      `${s.tp.topic}/${s.tp.partition}: never processed here, so not acknowledged: offsets ` +
      `${shown.join(', ')}${more} (skipped below ${s.lastSeen}, the highest offset taken${below}); ` +
      'nothing of the batch was taken',
    topic: s.tp.topic,
    partition: s.tp.partition,
    offsets: shown,
  };
}

export function createPushSource({
  defaultTimeoutMs = 30_000,
}: {
  defaultTimeoutMs?: number;
} = {}): PushSource {
  const partitions = new Map<string, PartitionState>();
  let handler: SourceHandler | undefined;
  let running = false;
  const stopWaiters = new Set<() => void>();

  const settleWaiters = (s: PartitionState) => {
    for (let i = s.waiters.length - 1; i >= 0; i--) {
      const w = s.waiters[i] as PartitionState['waiters'][number];
      if (s.committed > w.until) {
        s.waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  return {
    async start(h) {
      handler = h;
      running = true;
    },
    pause(tps) {
      for (const tp of tps) {
        const s = partitions.get(keyOf(tp));
        if (s) s.paused = true;
      }
    },
    resume(tps) {
      for (const tp of tps) {
        const s = partitions.get(keyOf(tp));
        if (s) s.paused = false;
      }
    },
    async commit(offsets) {
      for (const o of offsets) {
        const s = partitions.get(keyOf(o));
        if (!s || o.offset <= s.committed) continue;
        s.committed = o.offset;
        settleWaiters(s);
      }
    },
    lag: () => [],
    isConnected: () => running,
    async stop() {
      running = false;
      for (const resolve of stopWaiters) resolve();
      stopWaiters.clear();
    },
    async push(records, { timeoutMs = defaultTimeoutMs } = {}) {
      if (!running || !handler) return { status: 'stopped' };
      // Validate first: a batch is taken whole or not at all.
      const byPartition = new Map<string, SourceRecord[]>();
      for (const r of records) {
        const list = byPartition.get(keyOf(r)) ?? [];
        const prev = list.at(-1);
        if (prev && r.offset <= prev.offset)
          return { status: 'rejected', message: `offsets must increase within ${r.topic}/${r.partition}` };
        list.push(r);
        byPartition.set(keyOf(r), list);
      }
      for (const [k, list] of byPartition) {
        const s = partitions.get(k);
        const skipped = skippedOffsets(s, list);
        if (s && skipped.length > 0) return conflict(s, skipped);
      }
      const paused = [...byPartition.keys()]
        .map((k) => partitions.get(k))
        .filter((s): s is PartitionState => s?.paused === true);
      if (paused.length > 0) return { status: 'paused', partitions: paused.map((s) => s.tp) };

      let accepted = 0;
      let alreadyDone = 0;
      const waits: Array<Promise<void>> = [];
      const assigned: TopicPartition[] = [];
      const fresh: SourceRecord[] = [];
      for (const [k, list] of byPartition) {
        let s = partitions.get(k);
        const first = list[0] as SourceRecord;
        if (!s) {
          s = {
            tp: { topic: first.topic, partition: first.partition },
            lastSeen: first.offset - 1n,
            committed: first.offset,
            seen: createOffsetRanges(),
            paused: false,
            waiters: [],
          };
          partitions.set(k, s);
          assigned.push(s.tp);
        }
        const state = s;
        for (const r of list) {
          if (r.offset <= state.lastSeen) {
            if (r.offset < state.committed) alreadyDone++;
            else accepted++;
          } else {
            fresh.push(r);
            state.seen.add(r.offset);
            accepted++;
          }
        }
        const last = (list.at(-1) as SourceRecord).offset;
        if (last > state.lastSeen) state.lastSeen = last;
        if (state.committed <= last)
          waits.push(new Promise((resolve) => state.waiters.push({ until: last, resolve })));
      }
      if (assigned.length > 0) handler.onAssigned(assigned);
      if (fresh.length > 0) handler.onRecords(fresh);

      let timer: ReturnType<typeof setTimeout> | undefined;
      let stopped: (() => void) | undefined;
      const outcome = await Promise.race([
        Promise.all(waits).then(() => 'committed' as const),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        }),
        new Promise<'stopped'>((resolve) => {
          stopped = () => resolve('stopped');
          stopWaiters.add(stopped);
        }),
      ]);
      clearTimeout(timer);
      if (stopped) stopWaiters.delete(stopped);
      if (outcome === 'committed') return { status: 'committed', accepted, alreadyDone };
      if (outcome === 'timeout') return { status: 'timeout', accepted };
      return { status: 'stopped' };
    },
  };
}
