// DedupeStore on Redis over TCP (ioredis). Claims, done-marks and releases are queued and go out in
// one pipeline (one round trip) per tick, or, while a pipeline awaits its replies, together with
// everything queued meanwhile (a busy relay sends few large batches), as at most three Lua calls
// (EVALSHA): all claims, all done marks, all releases, each carrying every key of the batch
// (dedupe-scripts.ts). The claim script is SET NX PX per key and, when refused, tells atomically:
// done / ours (re-entrant, lease extended) / someone else's. One command per batch instead of one per
// record keeps both the client and Redis (which share the relay's cores) cheap. Single Redis, not
// Cluster (keys span slots). When Redis is unreachable, calls fail fast with FERRY_DEDUPE_UNAVAILABLE
// (no offline queue) and the core applies the sink's onUnavailable.
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { ClaimResult, DedupeStore } from '../core/contracts.ts';
import { dedupeKey, describeFailure, pendingValue, storeUnavailable } from './dedupe-keys.ts';
import { CLAIM_MANY_LUA, claimResultOf, DONE_MANY_LUA, RELEASE_MANY_LUA } from './dedupe-scripts.ts';

/** Options of the Redis dedupe store. */
export interface RedisDedupeOptions {
  /** This relay instance, written into its claims. */
  readonly instanceId: string;
  /** redis://host:port/db; or pass `redis` options. */
  readonly url?: string;
  /** ioredis options, instead of `url`. */
  readonly redis?: RedisOptions;
  /** Key prefix (default `ferry:dedupe:`). */
  readonly prefix?: string;
  /** A command not answered in this time fails (the sink's `onUnavailable` decides what follows). */
  readonly commandTimeoutMs?: number;
  /** Connecting gives up after this time. */
  readonly connectTimeoutMs?: number;
  /** Upper bound of one pipeline; more operations in the same tick start another. */
  readonly maxBatch?: number;
  /** Pipelines awaiting replies at once; operations issued meanwhile wait and go out together. */
  readonly maxPipelines?: number;
}

/** The Redis dedupe store. */
export interface RedisDedupeStore extends DedupeStore {
  /** Resolves once connected (or rejects after connectTimeoutMs); calls before that fail fast. */
  ready(): Promise<void>;
  /** Pipelines sent and operations carried, for tests and metrics. */
  stats(): { readonly batches: number; readonly operations: number };
}

/** One queued operation; its promise settles when its batch's reply arrives. */
interface Op {
  readonly kind: 'claim' | 'done' | 'release';
  readonly key: string;
  /** Lease (claim) or retention TTL (done), ms. */
  readonly ms: number;
  resolve: (r: ClaimResult | undefined) => void;
  reject: (e: unknown) => void;
}

const noop = () => {};

const KINDS = ['claim', 'done', 'release'] as const;
const SCRIPTS = { claim: CLAIM_MANY_LUA, done: DONE_MANY_LUA, release: RELEASE_MANY_LUA } as const;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const defer: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

/** A dedupe store on Redis (ioredis): claims, done marks and releases as Lua scripts, pipelined per tick. */
export function createRedisDedupeStore({
  instanceId,
  url = 'redis://127.0.0.1:6379',
  redis: redisOptions = {},
  prefix = 'ferry:dedupe:',
  commandTimeoutMs = 2_000,
  connectTimeoutMs = 5_000,
  maxBatch = 1_000,
  maxPipelines = 1,
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
  let inFlight = 0;
  let batches = 0;
  let operations = 0;
  let closed = false;

  const argsOf = (kind: Op['kind'], ops: readonly Op[]): Array<string | number> => {
    const keys = ops.map((o) => o.key);
    if (kind === 'claim') return [...keys, pending, ...ops.map((o) => o.ms)];
    if (kind === 'done') return [...keys, ...ops.map((o) => o.ms)];
    return [...keys, pending];
  };

  const settleGroup = (kind: Op['kind'], ops: readonly Op[], err: Error | null, result: unknown) => {
    if (err !== null) {
      const e = storeUnavailable('redis', describeFailure(err));
      for (const op of ops) op.reject(e);
      return;
    }
    if (kind !== 'claim') {
      for (const op of ops) op.resolve(undefined);
      return;
    }
    const codes = Array.isArray(result) ? result : [];
    ops.forEach((op, i) => {
      const r = claimResultOf(codes[i]);
      if (r === undefined) op.reject(storeUnavailable('redis', 'unexpected claim reply'));
      else op.resolve(r);
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

  /**
   * Sends what is queued, at most `maxPipelines` pipelines awaiting replies at a time: while Redis
   * answers one batch, the next one fills up (one round trip instead of one per tick when busy, no
   * added delay when idle). `force` (close) sends everything at once.
   */
  const flush = (force = false) => {
    scheduled = false;
    while (queue.length > 0 && (force || inFlight < maxPipelines)) {
      const ops = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
      inFlight += 1;
      void run(ops, false).finally(landed);
    }
  };
  const schedule = () => {
    if (scheduled || queue.length === 0 || inFlight >= maxPipelines) return;
    scheduled = true;
    defer(flush);
  };
  const landed = () => {
    inFlight -= 1;
    schedule();
  };

  function enqueueOp(op: Op): void {
    queue.push(op);
    schedule();
  }

  /** One object and one promise per operation (no closures, no async wrapper). */
  function submit(
    kind: Op['kind'],
    sink: string,
    eventId: string,
    ms: number,
  ): Promise<ClaimResult | undefined> {
    if (closed) return Promise.reject(storeUnavailable('redis', 'closed'));
    const op: Op = { kind, key: dedupeKey(prefix, sink, eventId), ms, resolve: noop, reject: noop };
    const promise = new Promise<ClaimResult | undefined>((resolve, reject) => {
      op.resolve = resolve;
      op.reject = reject;
    });
    enqueueOp(op);
    return promise;
  }

  return {
    claim: (sink, eventId, leaseMs) => submit('claim', sink, eventId, leaseMs) as Promise<ClaimResult>,
    markDone: (sink, eventId, ttlMs) => submit('done', sink, eventId, ttlMs) as Promise<undefined>,
    release: (sink, eventId) => submit('release', sink, eventId, 0) as Promise<undefined>,
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
      flush(true);
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
