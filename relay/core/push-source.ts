// A Source fed over HTTP instead of a Kafka consumer, for runtimes that cannot hold one open (edge).
// A pusher (a Worker, Redpanda's HTTP proxy reader, a test) sends batches of records with their log
// positions; `push` resolves once the relay has committed past every record of the batch, i.e. once
// every route of every record is terminal (delivered, deduplicated, filtered or dead-lettered).
//
// Positions make retries safe: a re-pushed record below the committed offset is acknowledged at once,
// one still in progress is waited for, never handed to the core twice. Offsets must increase per
// partition; a gap is allowed (compacted topics), going backwards is not.
import type { Source, SourceHandler, SourceRecord, TopicPartition } from './contracts.ts';

export type PushResult =
  | { readonly status: 'committed'; readonly accepted: number; readonly alreadyDone: number }
  | { readonly status: 'paused'; readonly partitions: readonly TopicPartition[] }
  | { readonly status: 'rejected'; readonly message: string }
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
  paused: boolean;
  readonly waiters: Array<{ readonly until: bigint; readonly resolve: () => void }>;
}

const keyOf = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

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
            paused: false,
            waiters: [],
          };
          partitions.set(k, s);
          assigned.push(s.tp);
        }
        const state = s;
        for (const r of list) {
          if (r.offset < state.committed) alreadyDone++;
          else if (r.offset <= state.lastSeen) accepted++;
          else {
            fresh.push(r);
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
