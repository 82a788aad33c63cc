// The commit rule: a partition's committable offset is the low-water mark of terminal records, i.e.
// the first offset that is not yet terminal (or one past the last seen when all are). Each record has
// a count of routes still open; it becomes terminal when that count reaches zero.
//
// Partitions carry a generation. Revoking a partition bumps it, and work finishing later under the old
// generation is ignored, so stale offsets are never committed.
import type { TopicPartition } from './contracts.ts';

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly generation: number;
  /** False once revoked (or replaced): settles of its tickets are ignored. */
  live: boolean;
  /**
   * Offsets with open routes, in arrival order (ascending within a partition), and their open route
   * counts in a parallel array: index arithmetic instead of a Map keyed by bigint per record.
   */
  offsets: bigint[];
  left: number[];
  /** Absolute index of offsets[0] (entries before it were terminal and dropped). */
  base: number;
  /** First entry that may still be open. */
  head: number;
  /** Entries with open routes. */
  open: number;
  /** Highest offset seen (the next offset to read after it, once everything is terminal). */
  last: bigint | undefined;
  /** Last offset handed to Source.commit. */
  committed: bigint | undefined;
}

export interface RecordTicket {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly generation: number;
}

/** The tracker's own view of a ticket: its partition state and its entry. */
interface Ticket extends RecordTicket {
  readonly state: PartitionState;
  /** Absolute entry index; -1 for a record tracked with no routes. */
  readonly index: number;
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
  // Records arrive in runs of one partition: the last state looked up is usually the next one too.
  let recent: PartitionState | undefined;

  const stateFor = (topic: string, partition: number): PartitionState => {
    if (recent?.live && recent.partition === partition && recent.topic === topic) return recent;
    const key = tpKey(topic, partition);
    let s = states.get(key);
    if (!s) {
      s = {
        topic,
        partition,
        generation: ++generations,
        live: true,
        offsets: [],
        left: [],
        base: 0,
        head: 0,
        open: 0,
        last: undefined,
        committed: undefined,
      };
      states.set(key, s);
    }
    recent = s;
    return s;
  };

  const lowWater = (s: PartitionState): bigint | undefined => {
    const { offsets, left } = s;
    while (s.head < offsets.length && left[s.head] === 0) s.head++;
    if (s.head > 1024 && s.head * 2 > offsets.length) {
      offsets.splice(0, s.head);
      left.splice(0, s.head);
      s.base += s.head;
      s.head = 0;
    }
    if (s.head < offsets.length) return offsets[s.head];
    return s.last === undefined ? undefined : s.last + 1n;
  };

  const forget = (key: string) => {
    const s = states.get(key);
    if (s === undefined) return;
    s.live = false;
    states.delete(key);
    if (recent === s) recent = undefined;
  };

  return {
    track(topic, partition, offset, routes) {
      const s = stateFor(topic, partition);
      if (s.last === undefined || offset > s.last) s.last = offset;
      let index = -1;
      if (routes > 0) {
        index = s.base + s.offsets.length;
        s.offsets.push(offset);
        s.left.push(routes);
        s.open += 1;
      }
      const ticket: Ticket = { topic, partition, offset, generation: s.generation, state: s, index };
      return ticket;
    },
    settle(ticket) {
      const { state: s, index } = ticket as Ticket;
      if (!s.live) return false;
      const i = index - s.base;
      const left = s.left[i];
      if (i < 0 || left === undefined || left <= 0) return false;
      s.left[i] = left - 1;
      if (left === 1) s.open -= 1;
      return true;
    },
    isCurrent(ticket) {
      return (ticket as Ticket).state.live;
    },
    takeCommittable() {
      const out: Array<TopicPartition & { offset: bigint }> = [];
      for (const s of states.values()) {
        const lw = lowWater(s);
        if (lw === undefined || (s.committed !== undefined && lw <= s.committed)) continue;
        s.committed = lw;
        out.push({ topic: s.topic, partition: s.partition, offset: lw });
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
      return states.get(tpKey(tp.topic, tp.partition))?.open ?? 0;
    },
    assign(partitions) {
      for (const tp of partitions) stateFor(tp.topic, tp.partition);
    },
    revoke(partitions) {
      for (const tp of partitions) forget(tpKey(tp.topic, tp.partition));
    },
    partitions() {
      return [...states.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
    },
  };
}
