// DedupeStore on Redis over TCP (ioredis). Every claim, done-mark and release issued in the same
// tick goes out in one pipeline (one round trip). A claim is a plain SET NX PX first (the common
// case, cheapest for Redis); only a refused one runs the Lua claim script (EVALSHA), which atomically
// tells done / ours (re-entrant, lease extended) / someone else's. Release-if-ours is a Lua script. When Redis is unreachable, calls fail
// fast with FERRY_DEDUPE_UNAVAILABLE (no offline queue) and the core applies the sink's onUnavailable.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { ClaimResult, DedupeStore } from '../core/contracts.ts';
import { DONE, dedupeKey, describeFailure, pendingValue, storeUnavailable } from './dedupe-keys.ts';
import { CLAIM_LUA, claimResultOf, RELEASE_LUA } from './dedupe-scripts.ts';

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
      /** First a plain SET NX (cheap for Redis); only a refused one goes through the Lua script. */
      scripted: boolean;
      resolve: (r: ClaimResult) => void;
      reject: (e: unknown) => void;
    }
  | { kind: 'done'; key: string; ttlMs: number; resolve: (r: unknown) => void; reject: (e: unknown) => void }
  | { kind: 'release'; key: string; resolve: (r: unknown) => void; reject: (e: unknown) => void };

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
  const claimSha = sha1(CLAIM_LUA);
  const releaseSha = sha1(RELEASE_LUA);
  let queue: Op[] = [];
  let scheduled = false;
  let batches = 0;
  let operations = 0;
  let closed = false;

  const addToPipeline = (p: ReturnType<Redis['pipeline']>, op: Op, useEval: boolean) => {
    if (op.kind === 'claim') {
      if (!op.scripted) p.set(op.key, pending, 'PX', op.leaseMs, 'NX');
      else if (useEval) p.eval(CLAIM_LUA, 1, op.key, pending, op.leaseMs);
      else p.evalsha(claimSha, 1, op.key, pending, op.leaseMs);
    } else if (op.kind === 'release') {
      if (useEval) p.eval(RELEASE_LUA, 1, op.key, pending);
      else p.evalsha(releaseSha, 1, op.key, pending);
    } else {
      p.set(op.key, DONE, 'PX', op.ttlMs);
    }
  };

  const settle = (op: Op, err: Error | null, result: unknown) => {
    if (err !== null) return op.reject(storeUnavailable('redis', describeFailure(err)));
    if (op.kind === 'claim') {
      if (!op.scripted) {
        if (result === 'OK') return op.resolve('claimed');
        // Taken: find out by whom (done, us, someone else) atomically, in the next batch.
        op.scripted = true;
        return enqueueOp(op);
      }
      const r = claimResultOf(result);
      if (r === undefined) op.reject(storeUnavailable('redis', 'unexpected claim reply'));
      else op.resolve(r);
    } else op.resolve(result);
  };

  async function run(ops: Op[], useEval: boolean): Promise<void> {
    const p = client.pipeline();
    for (const op of ops) addToPipeline(p, op, useEval);
    batches += 1;
    operations += ops.length;
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await p.exec();
    } catch (err) {
      for (const op of ops) op.reject(storeUnavailable('redis', describeFailure(err)));
      return;
    }
    if (results === null) {
      for (const op of ops) op.reject(storeUnavailable('redis', 'pipeline discarded'));
      return;
    }
    const noScript: Op[] = [];
    ops.forEach((op, i) => {
      const [err, result] = results[i] ?? [new Error('missing reply'), null];
      if (err !== null && !useEval && String(err.message).startsWith('NOSCRIPT')) noScript.push(op);
      else settle(op, err, result);
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
      return enqueue<ClaimResult>((resolve, reject) => ({
        kind: 'claim',
        key,
        leaseMs,
        scripted: false,
        resolve,
        reject,
      }));
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
