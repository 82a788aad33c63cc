// Source on @platformatic/kafka: a consumer group with manual commits and its own fetch loop.
//
// Why not the client's MessagesStream: it can only pause as a whole, and on every group join it
// rewinds all partitions to their committed offsets, which would hand the core records it already
// owns. So the Consumer does what it is good at (join, sync, heartbeat, commit, fetch sessions) and
// this file owns positions, per-partition pause, and rebalances:
//
// - Positions live here. A fetch response is applied to a partition only if the partition is still
//   owned, not paused, and its position is still the offset that was requested, so a response that
//   raced a pause, a rebalance or a seek is dropped and re-fetched, never skipped.
// - On every join the new assignment is diffed with the old one, synchronously in the event: revoked
//   partitions stop being fetched and committed at once; then `handler.onRevoked` is awaited before
//   newly added partitions start (from their committed offsets). Retained partitions keep flowing.
//   If generations were skipped (we were out of the group), everything counts as revoked and re-added.
// - The client cannot hold a rebalance open while we finish, so stale commits are made impossible
//   instead: commits are filtered against the current assignment when the request is built, and the
//   filter is re-applied when the client retries a commit after rejoining (the offsets are a getter);
//   the broker rejects a commit carrying an old generation.
// - Rejoin watchdog (kafka-source-rejoin.ts): when the client's background rejoin fails, it stops
//   heartbeating and never rejoins by itself. The watchdog drops the whole assignment through the
//   revocation path above and rejoins with capped, jittered exponential backoff.
// - Missing topics: a routed topic that does not exist (yet) does not fail start(). The source stays
//   not ready (notReadyReason names the topics), checks again with capped exponential backoff, logs
//   one line per check, and joins the group once every topic exists; records then flow with no restart.
import { Consumer, consumerGroupChannel, ListOffsetTimestamps } from '@platformatic/kafka';
import { type KafkaConnection, kafkaClientOptions } from '../../wasm/index.ts';
import { silentLogger } from '../core/clock.ts';
import type { Logger, Metrics, Source, SourceHandler, TopicPartition } from '../core/contracts.ts';
import { decodeBatches } from './kafka-records.ts';
import { createRejoinWatchdog } from './kafka-source-rejoin.ts';

/** Options of the Kafka source. */
export interface KafkaSourceOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  /** TLS and SASL (absent: plaintext). */
  readonly connection?: KafkaConnection;
  /** Consumer group id. */
  readonly groupId: string;
  /** Topics to consume. */
  readonly topics: readonly string[];
  /** Kafka client id. */
  readonly clientId?: string;
  /** Where a partition without a committed offset starts. */
  readonly fromBeginning?: boolean;
  /** Group session timeout. */
  readonly sessionTimeoutMs?: number;
  /** Group rebalance timeout. */
  readonly rebalanceTimeoutMs?: number;
  /** Heartbeat interval. */
  readonly heartbeatIntervalMs?: number;
  /** Longest wait of one fetch. */
  readonly maxWaitMs?: number;
  /** Most bytes of one fetch. */
  readonly maxBytes?: number;
  /** Most bytes per partition of one fetch. */
  readonly maxBytesPerPartition?: number;
  /** Called with errors of the background consumer. */
  readonly onError?: (error: unknown) => void;
  /** Rejoin the group by itself after a failed background rejoin (default on; off only to show the bug). */
  readonly rejoinWatchdog?: boolean;
  /** First rejoin backoff; doubles per failed attempt up to the cap, each drawn with jitter in [d/2, d]. */
  readonly rejoinBackoffMs?: number;
  /** Cap of the rejoin backoff. */
  readonly rejoinBackoffCapMs?: number;
  /** How often membership is checked, and how long the consumer may be inactive (a join in flight) before it counts as lost. */
  readonly membershipCheckMs?: number;
  /** How long the consumer may be inactive before it counts as lost. */
  readonly membershipGraceMs?: number;
  /** Where the source logs. */
  readonly logger?: Logger;
  /** Where the source counts (lag, rejoins). */
  readonly metrics?: Metrics;
  /** First wait before checking again for routed topics that do not exist; doubles up to the cap. */
  readonly missingTopicRetryMs?: number;
  /** Cap of the missing-topic wait. */
  readonly missingTopicRetryCapMs?: number;
}

/** The Kafka source: a consumer group member. */
export interface KafkaSource extends Source {
  /** Current assignment and positions (next offset to fetch), for tests and the admin API. */
  positions(): ReadonlyArray<
    TopicPartition & { readonly position: bigint | undefined; readonly paused: boolean }
  >;
  /** The group generation this member joined. */
  generation(): number;
  /** True while the consumer is a group member (heartbeating). */
  isMember(): boolean;
  /** Why the source is not consuming yet (routed topics that do not exist), else undefined. */
  notReadyReason(): string | undefined;
}

type Key = string;
const keyOf = (topic: string, partition: number): Key => `${topic}\u0000${partition}`;
const splitKey = (key: Key): TopicPartition => {
  const i = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A Source on a Kafka consumer group (@platformatic/kafka): batches per partition, commits only what the core says is terminal, rejoins by itself. */
export function createKafkaSource({
  brokers,
  groupId,
  topics,
  clientId = 'ferry-relay',
  fromBeginning = true,
  sessionTimeoutMs = 10_000,
  rebalanceTimeoutMs = 15_000,
  heartbeatIntervalMs = 1_000,
  maxWaitMs = 250,
  maxBytes = 2 * 1024 * 1024,
  maxBytesPerPartition = 256 * 1024,
  onError = () => {},
  rejoinWatchdog = true,
  rejoinBackoffMs = 500,
  rejoinBackoffCapMs = 15_000,
  membershipCheckMs = 1_000,
  membershipGraceMs = rebalanceTimeoutMs + sessionTimeoutMs,
  logger = silentLogger,
  metrics,
  missingTopicRetryMs = 1_000,
  missingTopicRetryCapMs = 30_000,
  connection,
}: KafkaSourceOptions): KafkaSource {
  const consumer = new Consumer({
    ...kafkaClientOptions(connection),
    clientId,
    groupId,
    bootstrapBrokers: [...brokers],
    autocommit: false,
    sessionTimeout: sessionTimeoutMs,
    rebalanceTimeout: rebalanceTimeoutMs,
    heartbeatInterval: heartbeatIntervalMs,
    maxWaitTime: maxWaitMs,
    maxBytes,
    maxBytesPerPartition,
    minBytes: 1,
    retries: 5,
    retryDelay: 200,
  });

  // A failed background rejoin is emitted as an 'error' event on the consumer; without a listener
  // Node throws it as an uncaught exception and the relay dies. Report it; the fetch loop's own
  // error handling and the readiness probe (isConnected) carry on from there.
  consumer.on('error', (error: unknown) => {
    if (running) onError(error);
  });

  let handler: SourceHandler | undefined;
  let running = false;
  let connected = false;
  /** Partitions of the current assignment. Updated synchronously on every join. */
  let owned = new Set<Key>();
  let generation = -1;
  const positions = new Map<Key, bigint>();
  const paused = new Set<Key>();
  const highWatermarks = new Map<Key, bigint>();
  const committed = new Map<Key, bigint>();
  let rebalanceChain: Promise<void> = Promise.resolve();
  let commitChain: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  let loopDone: Promise<void> = Promise.resolve();
  /** Routed topics not found at the last check (empty once joined). */
  let missing: string[] = [];
  /** The background wait for missing topics, then the join. */
  let startup: Promise<void> = Promise.resolve();
  let cancelWait: (() => void) | undefined;
  let joined = false;

  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  async function startingOffsets(keys: readonly Key[]): Promise<Map<Key, bigint>> {
    const out = new Map<Key, bigint>();
    if (keys.length === 0) return out;
    const byTopic = new Map<string, number[]>();
    for (const k of keys) {
      const { topic, partition } = splitKey(k);
      const list = byTopic.get(topic) ?? [];
      list.push(partition);
      byTopic.set(topic, list);
    }
    const commits = await consumer.listCommittedOffsets({
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    });
    const missing = new Map<string, number[]>();
    for (const [topic, partitions] of byTopic) {
      const offsets = commits.get(topic) ?? [];
      for (const p of partitions) {
        const c = offsets[p];
        if (c !== undefined && c >= 0n) {
          out.set(keyOf(topic, p), c);
          committed.set(keyOf(topic, p), c);
        } else {
          const list = missing.get(topic) ?? [];
          list.push(p);
          missing.set(topic, list);
        }
      }
    }
    if (missing.size > 0) {
      const ends = await consumer.listOffsets({
        topics: [...missing.keys()],
        partitions: Object.fromEntries(missing),
        timestamp: fromBeginning ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
      });
      for (const [topic, partitions] of missing) {
        for (const p of partitions) out.set(keyOf(topic, p), ends.get(topic)?.[p] ?? 0n);
      }
    }
    return out;
  }

  function onJoin(payload: {
    generationId?: number;
    assignments?: ReadonlyArray<{ topic: string; partitions: number[] }>;
  }) {
    const next = new Set<Key>();
    for (const a of payload.assignments ?? []) for (const p of a.partitions) next.add(keyOf(a.topic, p));
    const gen = payload.generationId ?? consumer.generationId;
    if (gen === generation && next.size === owned.size && [...next].every((k) => owned.has(k))) return;
    // A skipped generation means someone else may have owned our partitions in between.
    const continuous = generation >= 0 && gen === generation + 1;
    generation = gen;
    const revoked: Key[] = [];
    const added: Key[] = [];
    for (const k of owned) if (!next.has(k) || !continuous) revoked.push(k);
    for (const k of next) if (!owned.has(k) || !continuous) added.push(k);
    owned = next;
    for (const k of revoked) {
      positions.delete(k);
      paused.delete(k);
      highWatermarks.delete(k);
      committed.delete(k);
    }
    // Each step runs even if an earlier one failed: one failing handler must not stall every later rebalance.
    rebalanceChain = rebalanceChain.catch(onError).then(async () => {
      if (revoked.length > 0) {
        try {
          await handler?.onRevoked(revoked.map(splitKey));
        } catch (err) {
          onError(err);
        }
      }
      let starts = new Map<Key, bigint>();
      for (let attempt = 0; ; attempt++) {
        try {
          starts = await startingOffsets(added.filter((k) => owned.has(k)));
          break;
        } catch (err) {
          // Kafka may be restarting: keep trying while running (a later rejoin supersedes this one).
          onError(err);
          if (!running) return;
          await sleep(Math.min(250 * 2 ** attempt, 2_000));
        }
      }
      const assigned: Key[] = [];
      for (const [k, offset] of starts) {
        if (owned.has(k) && !positions.has(k)) {
          positions.set(k, offset);
          assigned.push(k);
        }
      }
      if (assigned.length > 0) handler?.onAssigned(assigned.map(splitKey));
      poke();
    });
  }

  function fetchable(): Key[] {
    const out: Key[] = [];
    for (const k of owned) if (!paused.has(k) && positions.has(k)) out.push(k);
    return out;
  }

  async function clampPositions(keys: readonly Key[]): Promise<void> {
    const byTopic = new Map<string, number[]>();
    for (const k of keys) {
      const { topic, partition } = splitKey(k);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    const opts = { topics: [...byTopic.keys()], partitions: Object.fromEntries(byTopic) };
    const [low, high] = await Promise.all([
      consumer.listOffsets({ ...opts, timestamp: ListOffsetTimestamps.EARLIEST }),
      consumer.listOffsets({ ...opts, timestamp: ListOffsetTimestamps.LATEST }),
    ]);
    for (const k of keys) {
      const { topic, partition } = splitKey(k);
      const pos = positions.get(k);
      const lo = low.get(topic)?.[partition];
      const hi = high.get(topic)?.[partition];
      if (pos === undefined || lo === undefined || hi === undefined) continue;
      if (pos < lo) positions.set(k, fromBeginning ? lo : hi);
      else if (pos > hi) positions.set(k, hi);
    }
  }

  async function fetchOnce(): Promise<void> {
    const keys = fetchable();
    if (keys.length === 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1_000);
      });
      return;
    }
    const metadata = await consumer.metadata({ topics: [...topics] });
    const requested = new Map<Key, bigint>();
    const byTopic = new Map<string, Array<{ partition: number; fetchOffset: bigint }>>();
    for (const k of keys) {
      const { topic, partition } = splitKey(k);
      const fetchOffset = positions.get(k)!;
      requested.set(k, fetchOffset);
      const list = byTopic.get(topic) ?? [];
      list.push({ partition, fetchOffset });
      byTopic.set(topic, list);
    }
    // One request per leader.
    const byNode = new Map<
      number,
      Array<{ topicId: string; partitions: Array<{ partition: number; fetchOffset: bigint }> }>
    >();
    const topicNames = new Map<string, string>();
    for (const [topic, parts] of byTopic) {
      const meta = metadata.topics.get(topic);
      if (meta === undefined) continue;
      topicNames.set(meta.id, topic);
      for (const p of parts) {
        const node = meta.partitions[p.partition]?.leader ?? -1;
        if (node < 0) continue;
        const list = byNode.get(node) ?? [];
        let entry = list.find((e) => e.topicId === meta.id);
        if (entry === undefined) {
          entry = { topicId: meta.id, partitions: [] };
          list.push(entry);
        }
        entry.partitions.push(p);
        byNode.set(node, list);
      }
    }
    await Promise.all(
      [...byNode].map(async ([node, reqTopics]) => {
        let response: Awaited<ReturnType<typeof consumer.fetch>>;
        try {
          response = await consumer.fetch({
            node,
            maxWaitTime: maxWaitMs,
            minBytes: 1,
            maxBytes,
            topics: reqTopics.map((t) => ({
              topicId: t.topicId,
              partitions: t.partitions.map((p) => ({
                partition: p.partition,
                fetchOffset: p.fetchOffset,
                partitionMaxBytes: maxBytesPerPartition,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            })),
          });
        } catch (err) {
          if (String((err as Error)?.message ?? '').includes('OFFSET_OUT_OF_RANGE') || hasOutOfRange(err)) {
            await clampPositions(
              reqTopics.flatMap((t) =>
                t.partitions.map((p) => keyOf(topicNames.get(t.topicId)!, p.partition)),
              ),
            );
            return;
          }
          throw err;
        }
        connected = true;
        for (const t of response.responses) {
          const topic = topicNames.get(t.topicId);
          if (topic === undefined) continue;
          for (const p of t.partitions) {
            const k = keyOf(topic, p.partitionIndex);
            const from = requested.get(k);
            if (from === undefined) continue;
            if (p.highWatermark >= 0n) highWatermarks.set(k, p.highWatermark);
            // Only apply if nothing moved this partition while the fetch was in flight.
            if (!owned.has(k) || paused.has(k) || positions.get(k) !== from) continue;
            if (p.records === null || p.records === undefined || p.records.length === 0) continue;
            const { records, next } = decodeBatches(topic, p.partitionIndex, p.records, from);
            // Hand over first: if the handler throws, the position stays and the records are fetched again.
            if (records.length > 0) handler?.onRecords(records);
            if (next !== undefined) positions.set(k, next);
          }
        }
      }),
    );
  }

  function isUnknownTopic(err: unknown): boolean {
    // The client reports UNKNOWN_TOPIC_OR_PARTITION (API code 3) as a UserError `Unknown topic <name>.`
    const seen = new Set<unknown>();
    const walk = (e: unknown): boolean => {
      if (typeof e !== 'object' || e === null || seen.has(e)) return false;
      seen.add(e);
      const rec = e as { apiCode?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
      if (rec.apiCode === 3) return true;
      if (typeof rec.message === 'string' && rec.message.startsWith('Unknown topic ')) return true;
      if (Array.isArray(rec.errors) && rec.errors.some(walk)) return true;
      return walk(rec.cause);
    };
    return walk(err);
  }

  function hasOutOfRange(err: unknown): boolean {
    const seen = new Set<unknown>();
    const walk = (e: unknown): boolean => {
      if (typeof e !== 'object' || e === null || seen.has(e)) return false;
      seen.add(e);
      const rec = e as { apiId?: unknown; errors?: unknown; cause?: unknown };
      if (rec.apiId === 'OFFSET_OUT_OF_RANGE') return true;
      if (Array.isArray(rec.errors) && rec.errors.some(walk)) return true;
      return walk(rec.cause);
    };
    return walk(err);
  }

  async function loop(): Promise<void> {
    let backoff = 100;
    while (running) {
      try {
        await fetchOnce();
        backoff = 100;
      } catch (err) {
        if (!running) break;
        connected = false;
        onError(err);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  function doCommit(offsets: ReadonlyArray<TopicPartition & { readonly offset: bigint }>): Promise<void> {
    const wanted = offsets.map((o) => ({ ...o, key: keyOf(o.topic, o.partition) }));
    // Re-evaluated each time the client builds the request, including its retry after a rejoin.
    const request = {
      get offsets() {
        return wanted
          .filter((o) => owned.has(o.key))
          .map(({ topic, partition, offset }) => ({ topic, partition, offset, leaderEpoch: -1 }));
      },
    };
    if (request.offsets.length === 0) return Promise.resolve();
    return consumer.commit(request).then(() => {
      for (const o of wanted) {
        if (owned.has(o.key) && (committed.get(o.key) ?? -1n) < o.offset) committed.set(o.key, o.offset);
      }
    });
  }

  // Rejoin watchdog (kafka-source-rejoin.ts): after a failed background rejoin, revoke everything we
  // held (the handler finishes or abandons in-flight work; commits for it are filtered out) and rejoin.
  const watchdog = createRejoinWatchdog({
    groupId,
    isMember: () => consumer.isActive(),
    join: async () => {
      await consumer.joinGroup({
        sessionTimeout: sessionTimeoutMs,
        rebalanceTimeout: rebalanceTimeoutMs,
        heartbeatInterval: heartbeatIntervalMs,
      });
    },
    onLost: () => {
      if (owned.size > 0) onJoin({ generationId: generation, assignments: [] });
    },
    joinInFlight: () => !joinTracing || joinsInFlight > 0,
    graceMs: membershipGraceMs,
    checkMs: membershipCheckMs,
    backoffMs: rejoinBackoffMs,
    backoffCapMs: rejoinBackoffCapMs,
    logger,
    metrics,
  });
  const onClientRejoin = () => watchdog.check(true);
  // The client's own JoinGroups (heartbeat path, commit path), seen through its diagnostics channel:
  // counted from `start` to the end of their callback. If tracing is unavailable, the grace period rules.
  let joinsInFlight = 0;
  let joinTracing = false;
  const isOurJoin = (ctx: unknown) => {
    const c = ctx as { client?: unknown; operation?: unknown };
    return c.client === consumer && c.operation === 'joinGroup';
  };
  const joinTracer = {
    start: (ctx: unknown) => {
      if (isOurJoin(ctx)) joinsInFlight++;
    },
    asyncEnd: (ctx: unknown) => {
      if (isOurJoin(ctx) && joinsInFlight > 0) joinsInFlight--;
    },
    end: () => {},
    asyncStart: () => {},
    error: () => {},
  };

  /** Routed topics the broker does not know; other metadata failures are thrown. */
  async function missingTopics(): Promise<string[]> {
    const out: string[] = [];
    for (const topic of topics) {
      try {
        await consumer.metadata({ topics: [topic], forceUpdate: true });
      } catch (err) {
        if (!isUnknownTopic(err)) throw err;
        out.push(topic);
      }
    }
    return out;
  }

  async function join(): Promise<void> {
    consumer.on('consumer:group:join', onJoin);
    consumer.topics.trackAll(...topics);
    await consumer.joinGroup({
      sessionTimeout: sessionTimeoutMs,
      rebalanceTimeout: rebalanceTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
    });
    joined = true;
    await rebalanceChain;
    connected = true;
    loopDone = loop();
    if (rejoinWatchdog) {
      try {
        consumerGroupChannel.subscribe(joinTracer as never);
        joinTracing = true;
      } catch (err) {
        onError(err);
      }
      consumer.on('consumer:rejoin', onClientRejoin);
      watchdog.start();
    }
  }

  /** Checks again with capped exponential backoff until every topic exists (or stop), then joins. */
  async function waitForTopicsThenJoin(): Promise<void> {
    let delay = missingTopicRetryMs;
    while (running) {
      logger.warn('routed topics do not exist, not consuming yet', {
        topics: missing,
        retryInMs: delay,
      });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        cancelWait = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      cancelWait = undefined;
      if (!running) return;
      delay = Math.min(delay * 2, missingTopicRetryCapMs);
      try {
        missing = await missingTopics();
      } catch (err) {
        onError(err);
        continue;
      }
      if (missing.length > 0) continue;
      logger.info('routed topics exist now, joining the group', { topics: [...topics] });
      try {
        await join();
        return;
      } catch (err) {
        onError(err);
      }
    }
  }

  return {
    async start(h: SourceHandler): Promise<void> {
      handler = h;
      running = true;
      missing = await missingTopics();
      if (missing.length === 0) {
        await join();
        return;
      }
      // Not a failure: stay up, not ready, and join when the topics appear.
      startup = waitForTopicsThenJoin();
    },
    pause(partitions) {
      for (const tp of partitions) {
        const k = keyOf(tp.topic, tp.partition);
        if (owned.has(k)) paused.add(k);
      }
    },
    resume(partitions) {
      let any = false;
      for (const tp of partitions) any = paused.delete(keyOf(tp.topic, tp.partition)) || any;
      if (any) poke();
    },
    commit(offsets) {
      const run = commitChain.then(() => doCommit(offsets));
      commitChain = run.catch(() => {});
      return run;
    },
    lag() {
      const out: Array<TopicPartition & { lag: bigint }> = [];
      for (const k of owned) {
        const hw = highWatermarks.get(k);
        const base = committed.get(k) ?? positions.get(k);
        if (hw === undefined || base === undefined) continue;
        out.push({ ...splitKey(k), lag: hw > base ? hw - base : 0n });
      }
      return out;
    },
    isConnected: () => running && connected && consumer.isActive(),
    positions: () =>
      [...owned].map((k) => ({ ...splitKey(k), position: positions.get(k), paused: paused.has(k) })),
    generation: () => generation,
    isMember: () => consumer.isActive(),
    notReadyReason: () =>
      missing.length === 0
        ? undefined
        : `routed topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'do' : 'does'} not exist (retrying)`,
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      cancelWait?.();
      await startup;
      watchdog.stop();
      consumer.off('consumer:rejoin', onClientRejoin);
      if (joinTracing) consumerGroupChannel.unsubscribe(joinTracer as never);
      joinTracing = false;
      poke();
      await loopDone;
      await commitChain;
      await rebalanceChain.catch(() => {});
      consumer.off('consumer:group:join', onJoin);
      try {
        if (joined) await consumer.leaveGroup();
      } catch (err) {
        onError(err);
      }
      await consumer.close(true);
      await watchdog.settled();
      connected = false;
    },
  };
}
