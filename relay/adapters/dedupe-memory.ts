// An in-process DedupeStore with real TTLs, for a single relay instance and for tests. Same
// semantics as the Redis store: SET NX with a lease, `done` with a retention TTL, release-if-ours.
import type { ClaimResult, DedupeStore } from '../core/contracts.ts';
import { DONE, dedupeKey, pendingValue } from './dedupe-keys.ts';

/** Options of the in-process dedupe store (one process, tests, single-instance setups). */
export interface MemoryDedupeOptions {
  /** This relay instance, written into its claims. */
  readonly instanceId: string;
  /** Key prefix (default `ferry:dedupe:`). */
  readonly prefix?: string;
  /** Clock for expiry (tests). */
  readonly now?: () => number;
  /** Expired entries are swept every this many writes (reads always check expiry). */
  readonly sweepEvery?: number;
  /** Share one table between several stores (several instances in one process, tests). */
  readonly table?: MemoryDedupeTable;
}

/** The entries of a memory dedupe store, shareable between stores in one process. */
export type MemoryDedupeTable = Map<string, { value: string; expiresAt: number }>;

export function createMemoryDedupeTable(): MemoryDedupeTable {
  return new Map();
}

/** The in-process dedupe store. */
export interface MemoryDedupeStore extends DedupeStore {
  /** The live value of a key, for tests. */
  peek(sink: string, eventId: string): string | undefined;
  /** Live entries, for tests. */
  size(): number;
}

/** A dedupe store in this process's memory: claims, done marks and leases with expiry, no persistence. */
export function createMemoryDedupeStore({
  instanceId,
  prefix = 'ferry:dedupe:',
  now = Date.now,
  sweepEvery = 10_000,
  table,
}: MemoryDedupeOptions): MemoryDedupeStore {
  const entries: MemoryDedupeTable = table ?? createMemoryDedupeTable();
  const owned = table === undefined;
  const pending = pendingValue(instanceId);
  let writes = 0;

  const live = (key: string) => {
    const e = entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return e;
  };
  const put = (key: string, value: string, ttlMs: number) => {
    entries.set(key, { value, expiresAt: now() + ttlMs });
    if (++writes % sweepEvery === 0) {
      const t = now();
      for (const [k, e] of entries) if (e.expiresAt <= t) entries.delete(k);
    }
  };

  return {
    async claim(sink, eventId, leaseMs): Promise<ClaimResult> {
      const key = dedupeKey(prefix, sink, eventId);
      const e = live(key);
      if (e === undefined) {
        put(key, pending, leaseMs);
        return 'claimed';
      }
      if (e.value === DONE) return 'done';
      if (e.value === pending) {
        put(key, pending, leaseMs);
        return 'claimed';
      }
      return 'pending-elsewhere';
    },
    async markDone(sink, eventId, ttlMs) {
      put(dedupeKey(prefix, sink, eventId), DONE, ttlMs);
    },
    async release(sink, eventId) {
      const key = dedupeKey(prefix, sink, eventId);
      if (live(key)?.value === pending) entries.delete(key);
    },
    async ping() {
      return true;
    },
    async close() {
      if (owned) entries.clear();
    },
    peek: (sink, eventId) => live(dedupeKey(prefix, sink, eventId))?.value,
    size: () => entries.size,
  };
}
