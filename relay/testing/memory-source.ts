// An in-memory Source for tests: per-partition logs, batches handed over on a microtask, pause/resume
// honoured, commits recorded, and revocation/assignment that can be triggered by the test.
import type { Source, SourceHandler, SourceRecord, TopicPartition } from '../core/contracts.ts';

export interface MemorySource extends Source {
  /** Appends records to the log (offsets assigned per partition) and feeds them when not paused. */
  produce(
    topic: string,
    partition: number,
    records: ReadonlyArray<Partial<Pick<SourceRecord, 'key' | 'value' | 'headers' | 'timestamp'>>>,
  ): void;
  /** Last committed offset per "topic/partition". */
  readonly committed: Map<string, bigint>;
  readonly commits: Array<TopicPartition & { offset: bigint }>;
  isPaused(tp: TopicPartition): boolean;
  pauseEvents: number;
  resumeEvents: number;
  revoke(partitions: readonly TopicPartition[]): Promise<void>;
}

const enc = new TextEncoder();
export const text = (s: string) => enc.encode(s);
export const json = (v: unknown) => enc.encode(JSON.stringify(v));

export function createMemorySource({ batchSize = 100 }: { batchSize?: number } = {}): MemorySource {
  const logs = new Map<string, { tp: TopicPartition; records: SourceRecord[]; position: number }>();
  const paused = new Set<string>();
  const committed = new Map<string, bigint>();
  const commits: Array<TopicPartition & { offset: bigint }> = [];
  let handler: SourceHandler | undefined;
  let connected = false;
  let scheduled = false;
  const key = (tp: TopicPartition) => `${tp.topic}/${tp.partition}`;

  const feed = () => {
    scheduled = false;
    if (!handler || !connected) return;
    for (const [k, log] of logs) {
      if (paused.has(k)) continue;
      while (log.position < log.records.length && !paused.has(k)) {
        const batch = log.records.slice(log.position, log.position + batchSize);
        log.position += batch.length;
        handler.onRecords(batch);
      }
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(feed, 0);
  };

  const source: MemorySource = {
    committed,
    commits,
    pauseEvents: 0,
    resumeEvents: 0,
    produce(topic, partition, records) {
      const k = key({ topic, partition });
      let log = logs.get(k);
      if (!log) {
        log = { tp: { topic, partition }, records: [], position: 0 };
        logs.set(k, log);
        handler?.onAssigned([{ topic, partition }]);
      }
      for (const r of records) {
        log.records.push({
          topic,
          partition,
          offset: BigInt(log.records.length),
          key: r.key ?? null,
          value: r.value === undefined ? null : r.value,
          headers: r.headers ?? [],
          timestamp: r.timestamp ?? Date.now(),
        });
      }
      schedule();
    },
    async start(h) {
      handler = h;
      connected = true;
      h.onAssigned([...logs.values()].map((l) => l.tp));
      schedule();
    },
    pause(partitions) {
      for (const tp of partitions) paused.add(key(tp));
      source.pauseEvents++;
    },
    resume(partitions) {
      for (const tp of partitions) paused.delete(key(tp));
      source.resumeEvents++;
      schedule();
    },
    async commit(offsets) {
      for (const o of offsets) {
        const prev = committed.get(key(o));
        if (prev !== undefined && o.offset < prev) throw new Error(`commit went backwards on ${key(o)}`);
        committed.set(key(o), o.offset);
        commits.push(o);
      }
    },
    lag() {
      return [...logs.values()].map((l) => ({
        ...l.tp,
        lag: BigInt(l.records.length) - (committed.get(key(l.tp)) ?? 0n),
      }));
    },
    isConnected: () => connected,
    isPaused: (tp) => paused.has(key(tp)),
    async revoke(partitions) {
      await handler?.onRevoked(partitions);
      for (const tp of partitions) {
        const log = logs.get(key(tp));
        // The next owner starts from the committed offset.
        if (log) log.position = Number(committed.get(key(tp)) ?? 0n);
      }
    },
    async stop() {
      connected = false;
    },
  };
  return source;
}
