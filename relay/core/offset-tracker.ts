// The commit rule: a partition's committable offset is the low-water mark of terminal records, i.e.
// the first offset that is not yet terminal (or one past the last seen when all are). Each record has
// a count of routes still open; it becomes terminal when that count reaches zero.
//
// Partitions carry a generation. Revoking a partition bumps it, and work finishing later under the old
// generation is ignored, so stale offsets are never committed.
import type { TopicPartition } from './contracts.ts';

interface PartitionState {
  readonly generation: number;
  /** Offsets in arrival order (ascending within a partition) that are not yet popped. */
  readonly order: bigint[];
  head: number;
  readonly remaining: Map<bigint, number>;
  /** Next offset to read after everything terminal, once the queue drains. */
  nextAfterLast: bigint | undefined;
  /** Last offset handed to Source.commit. */
  committed: bigint | undefined;
}

export interface RecordTicket {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly generation: number;
}

export interface OffsetTracker {
  /** Registers a record with `routes` open routes; returns its ticket (routes 0 = terminal at once). */
  track(topic: string, partition: number, offset: bigint, routes: number): RecordTicket;
  /** One route of this record reached a terminal state. Returns false if the ticket is stale. */
  settle(ticket: RecordTicket): boolean;
  isCurrent(ticket: RecordTicket): boolean;
  /** Offsets that advanced since the last call, ready for Source.commit. */
  takeCommittable(): Array<TopicPartition & { offset: bigint }>;
  /** A commit failed: offer these partitions' marks again next time. */
  uncommit(partitions: readonly TopicPartition[]): void;
  /** Open (non-terminal) records per partition. */
  pending(partition: TopicPartition): number;
  assign(partitions: readonly TopicPartition[]): void;
  /** Forget partitions: later settles of their tickets are ignored. */
  revoke(partitions: readonly TopicPartition[]): void;
  partitions(): TopicPartition[];
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export function createOffsetTracker(): OffsetTracker {
  const states = new Map<string, PartitionState>();
  let generations = 0;

  const fresh = (): PartitionState => ({
    generation: ++generations,
    order: [],
    head: 0,
    remaining: new Map(),
    nextAfterLast: undefined,
    committed: undefined,
  });

  const stateFor = (topic: string, partition: number) => {
    const key = tpKey(topic, partition);
    let s = states.get(key);
    if (!s) {
      s = fresh();
      states.set(key, s);
    }
    return s;
  };

  const lowWater = (s: PartitionState): bigint | undefined => {
    while (s.head < s.order.length && !s.remaining.has(s.order[s.head] as bigint)) s.head++;
    if (s.head > 1024 && s.head * 2 > s.order.length) {
      s.order.splice(0, s.head);
      s.head = 0;
    }
    if (s.head < s.order.length) return s.order[s.head];
    return s.nextAfterLast;
  };

  return {
    track(topic, partition, offset, routes) {
      const s = stateFor(topic, partition);
      if (s.nextAfterLast === undefined || offset + 1n > s.nextAfterLast) s.nextAfterLast = offset + 1n;
      if (routes > 0) {
        s.order.push(offset);
        s.remaining.set(offset, routes);
      }
      return { topic, partition, offset, generation: s.generation };
    },
    settle(ticket) {
      const s = states.get(tpKey(ticket.topic, ticket.partition));
      if (!s || s.generation !== ticket.generation) return false;
      const left = s.remaining.get(ticket.offset);
      if (left === undefined) return false;
      if (left <= 1) s.remaining.delete(ticket.offset);
      else s.remaining.set(ticket.offset, left - 1);
      return true;
    },
    isCurrent(ticket) {
      const s = states.get(tpKey(ticket.topic, ticket.partition));
      return s !== undefined && s.generation === ticket.generation;
    },
    takeCommittable() {
      const out: Array<TopicPartition & { offset: bigint }> = [];
      for (const [key, s] of states) {
        const lw = lowWater(s);
        if (lw === undefined || (s.committed !== undefined && lw <= s.committed)) continue;
        s.committed = lw;
        const [topic, partition] = key.split('\u0000') as [string, string];
        out.push({ topic, partition: Number(partition), offset: lw });
      }
      return out;
    },
    uncommit(partitions) {
      for (const tp of partitions) {
        const s = states.get(tpKey(tp.topic, tp.partition));
        if (s) s.committed = undefined;
      }
    },
    pending(tp) {
      return states.get(tpKey(tp.topic, tp.partition))?.remaining.size ?? 0;
    },
    assign(partitions) {
      for (const tp of partitions) stateFor(tp.topic, tp.partition);
    },
    revoke(partitions) {
      for (const tp of partitions) states.delete(tpKey(tp.topic, tp.partition));
    },
    partitions() {
      return [...states.keys()].map((k) => {
        const [topic, partition] = k.split('\u0000') as [string, string];
        return { topic, partition: Number(partition) };
      });
    },
  };
}
