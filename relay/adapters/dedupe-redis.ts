// DedupeStore on Redis over TCP (ioredis). Every claim, done-mark and release issued in the same
// tick goes out in one pipeline (one round trip) as at most three Lua calls (EVALSHA): all claims,
// all done marks, all releases, each carrying every key of the batch (dedupe-scripts.ts). The claim
// script is SET NX PX per key and, when refused, tells atomically: done / ours (re-entrant, lease
// extended) / someone else's. One command per batch instead of one per record keeps both the client
// and Redis (which share the relay's cores) cheap. Single Redis, not Cluster (keys span slots). When Redis is unreachable, calls fail
// fast with FERRY_DEDUPE_UNAVAILABLE (no offline queue) and the core applies the sink's onUnavailable.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { ClaimResult, DedupeStore } from '../core/contracts.ts';
import { dedupeKey, describeFailure, pendingValue, storeUnavailable } from './dedupe-keys.ts';
import { CLAIM_MANY_LUA, claimResultOf, DONE_MANY_LUA, RELEASE_MANY_LUA } from './dedupe-scripts.ts';

export interface RedisDedupeOptions {
  readonly instanceId: string;
  /** redis://host:port/db; or pass `redis` options. */
  readonly url?: string;
  readonly redis?: RedisOptions;
  readonly prefix?: string;
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Upper bound of one pipeline; more operations in the same tick start another. */
  readonly maxBatch?: number;
}

export interface RedisDedupeStore extends DedupeStore {
  /** Resolves once connected (or rejects after connectTimeoutMs); calls before that fail fast. */
  ready(): Promise<void>;
  /** Pipelines sent and operations carried, for tests and metrics. */
  stats(): { readonly batches: number; readonly operations: number };
}

type Op =
  | {
      kind: 'claim';
      key: string;
      leaseMs: number;
      resolve: (r: ClaimResult) => void;
      reject: (e: unknown) => void;
    }
  | { kind: 'done'; key: string; ttlMs: number; resolve: (r: unknown) => void; reject: (e: unknown) => void }
  | { kind: 'release'; key: string; resolve: (r: unknown) => void; reject: (e: unknown) => void };

const KINDS = ['claim', 'done', 'release'] as const;
const SCRIPTS = { claim: CLAIM_MANY_LUA, done: DONE_MANY_LUA, release: RELEASE_MANY_LUA } as const;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const defer: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

export function createRedisDedupeStore({
  instanceId,
  url = 'redis://127.0.0.1:6379',
  redis: redisOptions = {},
  prefix = 'ferry:dedupe:',
  commandTimeoutMs = 2_000,
  connectTimeoutMs = 5_000,
  maxBatch = 1_000,
}: RedisDedupeOptions): RedisDedupeStore {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    retryStrategy: (times: number) => Math.min(50 * 2 ** times, 1_000),
    lazyConnect: false,
    ...redisOptions,
  });
  // Errors surface through the calls; an unhandled 'error' event would crash the process.
  client.on('error', () => {});
  const pending = pendingValue(instanceId);
  const shas = { claim: sha1(CLAIM_MANY_LUA), done: sha1(DONE_MANY_LUA), release: sha1(RELEASE_MANY_LUA) };
  let queue: Op[] = [];
  let scheduled = false;
  let batches = 0;
  let operations = 0;
  let closed = false;

  const argsOf = (kind: Op['kind'], ops: readonly Op[]): Array<string | number> => {
    const keys = ops.map((o) => o.key);
    if (kind === 'claim') return [...keys, pending, ...ops.map((o) => (o as { leaseMs: number }).leaseMs)];
    if (kind === 'done') return [...keys, ...ops.map((o) => (o as { ttlMs: number }).ttlMs)];
    return [...keys, pending];
  };

  const settleGroup = (kind: Op['kind'], ops: readonly Op[], err: Error | null, result: unknown) => {
    if (err !== null) {
      const e = storeUnavailable('redis', describeFailure(err));
      for (const op of ops) op.reject(e);
      return;
    }
    if (kind !== 'claim') {
      for (const op of ops) (op.resolve as (r: unknown) => void)(result);
      return;
    }
    const codes = Array.isArray(result) ? result : [];
    ops.forEach((op, i) => {
      const r = claimResultOf(codes[i]);
      if (r === undefined) op.reject(storeUnavailable('redis', 'unexpected claim reply'));
      else (op.resolve as (r: ClaimResult) => void)(r);
    });
  };

  /** One pipeline per batch, holding at most one script call per kind of operation. */
  async function run(ops: Op[], useEval: boolean): Promise<void> {
    const groups = KINDS.map((kind) => [kind, ops.filter((o) => o.kind === kind)] as const).filter(
      ([, g]) => g.length > 0,
    );
    const p = client.pipeline();
    for (const [kind, group] of groups) {
      if (useEval) p.eval(SCRIPTS[kind], group.length, ...argsOf(kind, group));
      else p.evalsha(shas[kind], group.length, ...argsOf(kind, group));
    }
    batches += 1;
    operations += ops.length;
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await p.exec();
    } catch (err) {
      const e = storeUnavailable('redis', describeFailure(err));
      for (const op of ops) op.reject(e);
      return;
    }
    if (results === null) {
      const e = storeUnavailable('redis', 'pipeline discarded');
      for (const op of ops) op.reject(e);
      return;
    }
    const noScript: Op[] = [];
    groups.forEach(([kind, group], i) => {
      const [err, result] = results[i] ?? [new Error('missing reply'), null];
      if (err !== null && !useEval && String(err.message).startsWith('NOSCRIPT')) noScript.push(...group);
      else settleGroup(kind, group, err, result);
    });
    if (noScript.length > 0) await run(noScript, true);
  }

  const flush = () => {
    scheduled = false;
    while (queue.length > 0) {
      const ops = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
      void run(ops, false);
    }
  };

  function enqueueOp(op: Op): void {
    queue.push(op);
    if (queue.length >= maxBatch) flush();
    else if (!scheduled) {
      scheduled = true;
      defer(flush);
    }
  }

  const enqueue = <T>(make: (resolve: (r: T) => void, reject: (e: unknown) => void) => Op): Promise<T> => {
    if (closed) return Promise.reject(storeUnavailable('redis', 'closed'));
    return new Promise<T>((resolve, reject) => enqueueOp(make(resolve, reject)));
  };

  return {
    claim(sink, eventId, leaseMs) {
      const key = dedupeKey(prefix, sink, eventId);
      return enqueue<ClaimResult>((resolve, reject) => ({ kind: 'claim', key, leaseMs, resolve, reject }));
    },
    async markDone(sink, eventId, ttlMs) {
      const key = dedupeKey(prefix, sink, eventId);
      await enqueue<unknown>((resolve, reject) => ({ kind: 'done', key, ttlMs, resolve, reject }));
    },
    async release(sink, eventId) {
      const key = dedupeKey(prefix, sink, eventId);
      await enqueue<unknown>((resolve, reject) => ({ kind: 'release', key, resolve, reject }));
    },
    async ping() {
      if (client.status !== 'ready') return false;
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    ready() {
      if (client.status === 'ready') return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          client.off('ready', onReady);
          reject(storeUnavailable('redis', 'connect timeout'));
        }, connectTimeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          resolve();
        };
        client.once('ready', onReady);
      });
    },
    stats: () => ({ batches, operations }),
    async close() {
      closed = true;
      flush();
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
