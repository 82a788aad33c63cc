// The portable runner: `ferry transform run`. A consumer group on the input topic, one host instance per
// assigned partition (like the broker's VM per partition), outputs produced with acks=all by an idempotent
// producer and acknowledged before the input offsets are committed.
//
// Commits: lanes only record the next offset of an acknowledged batch; one coalesced commit request is
// in flight at a time, none while the group is rebalancing, and its offsets are filtered against the
// current assignment when the request is built. Why: the client's commit() re-joins the group itself
// when a commit fails with a rebalance/generation error. With one commit per lane in flight, the commits
// that failed during a rebalance re-joined again right after it completed ("leader re-joining group
// during Stable"), which started the next rebalance: a storm that lasted as long as records flowed.
//
// Rebalances: the client re-delivers retained partitions from their committed offsets after every join;
// each lane drops what it already queued. Revoked partitions stop at once: their queued records are
// dropped (the next owner fetches them from the committed offset) and the batches in its host finish.
//
// Broker outages: the client gives up after its retries (the stream is destroyed with "fetch failed N
// times", or the consumer emits 'error' when a background rejoin fails) and never fetches again, while
// the process would stay alive with its partitions frozen. The runner treats that as a lost consumer:
// every lane is revoked (its in-host batches finish or are dropped uncommitted), the stream and consumer
// are closed, and a new consumer joins the group with backoff (1 s doubling to 30 s) for as long as it
// takes. A consumer that stays out of the group with no join of its own counts as lost too.
import { Consumer, Producer } from '@platformatic/kafka';
import { buildEnviron } from '../host/config.ts';
import { createTransformHost } from '../host/host.ts';
import { prepareModule } from '../host/prepare.ts';
import type { OutputRecord } from '../host/types.ts';
import { kafkaClientOptions } from '../kafka/connection.ts';
import { rejoinDelay, sleep } from './backoff.ts';
import { createRunnerMetrics } from './metrics.ts';
import { createPartitionLane, type InputMessage, type PartitionLane } from './partition.ts';
import { ensureTopics } from './topics.ts';
import type { TransformRunner, TransformRunnerOptions } from './types.ts';

export function createTransformRunner({
  module,
  name,
  inputTopic,
  outputTopics,
  env = {},
  brokers = ['127.0.0.1:19092'],
  connection = {},
  groupId = `ferry-transform-${name}`,
  clientId = `ferry-transform-${name}`,
  startFrom = 'earliest',
  maxBatchRecords = 1000,
  pipelineDepth = 4,
  maxBufferedRecords = 10_000,
  memoryLimitBytes,
  recordTimeoutMs,
  backoff,
  sessionTimeoutMs = 10_000,
  heartbeatIntervalMs = 1_000,
  rebalanceTimeoutMs = 15_000,
  stopTimeoutMs = 15_000,
  metricsIntervalMs = 5_000,
  onMetrics = () => {},
  onLog,
  onEvent = () => {},
}: TransformRunnerOptions): TransformRunner {
  const metrics = createRunnerMetrics();
  const lanes = new Map<number, PartitionLane>();
  /** Partitions of the current assignment (from the last join). Only these are processed and committed. */
  let owned = new Set<number>();
  /** A revoked lane still finishing its batch: a new lane for the same partition waits for it. */
  const laneStops = new Map<number, Promise<void>>();
  let consumer: Consumer | null = null;
  let producer: Producer | null = null;
  let stream: Awaited<ReturnType<Consumer['consume']>> | null = null;
  let paused = false;
  let stopping: Promise<void> | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  /** Rejoin after a lost consumer, while it runs; stop() wakes its backoff through `wake`. */
  let recovering: Promise<void> | null = null;
  const wake = new AbortController();
  let membershipTimer: ReturnType<typeof setInterval> | null = null;
  let inactiveSince: number | undefined;
  /** Next offsets to commit (acknowledged batches), per partition. */
  const pending = new Map<number, bigint>();
  let committing: Promise<void> | null = null;
  /** Between a rebalance notice from the client and the end of the next join: commits would fail. */
  let rebalancing = false;
  let resolveDone!: () => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => {});

  function buffered(): number {
    let n = 0;
    for (const lane of lanes.values()) n += lane.queued();
    return n;
  }

  // Input back-pressure: pause the stream while too much is queued, resume when half drained.
  function flowControl(): void {
    if (stream === null || stopping !== null) return;
    const n = buffered();
    if (!paused && n >= maxBufferedRecords) {
      paused = true;
      stream.pause();
    } else if (paused && n < maxBufferedRecords / 2) {
      paused = false;
      stream.resume();
    }
  }

  /** Resolves with the promise's value, or after `ms` with `undefined` and an event (stop must end). */
  async function bounded<T>(what: string, promise: Promise<T>, ms = stopTimeoutMs): Promise<T | undefined> {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<undefined>((resolve) => {
      timeout = setTimeout(() => {
        onEvent(`stop: ${what} did not end within ${ms} ms; going on`);
        resolve(undefined);
      }, ms);
    });
    try {
      return await Promise.race([promise, expired]);
    } finally {
      clearTimeout(timeout);
    }
  }

  function recordCommit(partition: number, offset: bigint): void {
    if (!owned.has(partition)) return;
    if ((pending.get(partition) ?? -1n) < offset) pending.set(partition, offset);
    flushCommits();
  }

  function flushCommits(): void {
    if (committing !== null || rebalancing || consumer === null || pending.size === 0) return;
    const c = consumer;
    const wanted = [...pending].filter(([p]) => owned.has(p));
    pending.clear();
    if (wanted.length === 0) return;
    // Re-evaluated each time the client builds the request, including its retry after a rejoin.
    const request = {
      get offsets() {
        return wanted
          .filter(([p]) => owned.has(p))
          .map(([partition, offset]) => ({ topic: inputTopic, partition, offset, leaderEpoch: -1 }));
      },
    };
    const commit: Promise<void> = c
      .commit(request)
      .then(
        () => {
          for (const _ of wanted) metrics.countCommit();
        },
        (error: Error) => {
          onEvent(`commit of [${wanted.map(([p, o]) => `${p}@${o}`).join(', ')}] failed (${error.message})`);
          // A later commit covers it; a partition that moved is re-processed by its next owner.
          for (const [p, o] of wanted) {
            if (owned.has(p) && (pending.get(p) ?? -1n) < o) pending.set(p, o);
          }
        },
      )
      .finally(() => {
        // A commit on a consumer lost to an outage may never settle: recovery forgets it.
        if (committing !== commit) return;
        committing = null;
        if (stopping === null) flushCommits();
      });
    committing = commit;
  }

  async function produce(outputs: OutputRecord[]): Promise<void> {
    if (outputs.length === 0) return;
    await producer!.send({
      messages: outputs.map((o) => ({
        topic: o.topic,
        key: o.key === null ? undefined : Buffer.from(o.key.buffer, o.key.byteOffset, o.key.byteLength),
        value:
          o.value === null ? undefined : Buffer.from(o.value.buffer, o.value.byteOffset, o.value.byteLength),
        headers: new Map(
          o.headers.map((h) => [
            Buffer.from(h.key),
            h.value === null
              ? (null as unknown as Buffer)
              : Buffer.from(h.value.buffer, h.value.byteOffset, h.value.byteLength),
          ]),
        ),
      })),
    });
  }

  function lane(partition: number): PartitionLane {
    const existing = lanes.get(partition);
    if (existing !== undefined) return existing;
    const l: PartitionLane = createPartitionLane({
      topic: inputTopic,
      partition,
      maxBatchRecords,
      pipelineDepth,
      ...(backoff === undefined ? {} : { backoff }),
      createHost: async () => {
        await laneStops.get(partition);
        const host = await createTransformHost({
          module,
          name,
          inputTopic,
          outputTopics,
          env,
          pipelineDepth,
          ...(memoryLimitBytes === undefined ? {} : { memoryLimitBytes }),
          ...(recordTimeoutMs === undefined ? {} : { recordTimeoutMs }),
          ...(backoff === undefined ? {} : { backoff }),
          ...(onLog === undefined ? {} : { onLog }),
        });
        onEvent(`partition ${inputTopic}/${partition}: transform instance started`);
        return host;
      },
      produce,
      commit: async (offset) => {
        // A lane whose partition was revoked must not commit: the new owner may already have started.
        if (lanes.get(partition) !== l || !owned.has(partition) || consumer === null) return;
        recordCommit(partition, offset);
      },
      onBatch: (records, outputs) => {
        // A column the rules do not know is logged once, the first time it is seen (then only counted).
        for (const field of metrics.countBatch(records, outputs))
          onEvent(
            `${inputTopic}: column ${JSON.stringify(field)} is not in ${name}'s rules; clean events name it in ferry-unknown-fields (ferry_transform_unknown_fields_total)`,
          );
        flowControl();
      },
      onTrap: (error) => {
        metrics.countTrap();
        metrics.countRestart();
        onEvent(`partition ${inputTopic}/${partition}: ${error.message}; restarting with backoff`);
      },
      onEvent,
      onFatal: (error) => {
        onEvent(`partition ${inputTopic}/${partition}: fatal: ${(error as Error).message}`);
        void stop().then(() => rejectDone(error));
      },
    });
    lanes.set(partition, l);
    return l;
  }

  function onRebalance(): void {
    rebalancing = true;
  }

  function onJoin(payload: {
    generationId?: number;
    assignments?: ReadonlyArray<{ topic: string; partitions: number[] }>;
  }): void {
    const now = new Set(
      payload.assignments?.filter((a) => a.topic === inputTopic).flatMap((a) => a.partitions) ?? [],
    );
    rebalancing = false;
    assign(now);
    onEvent(
      `assigned ${inputTopic} partitions [${[...now].sort((a, b) => a - b).join(', ')}] (generation ${payload.generationId ?? '?'})`,
    );
  }

  /** Makes `now` the owned partitions: the lanes of the others stop (their queued records are dropped). */
  function assign(now: Set<number>): void {
    owned = now;
    for (const p of pending.keys()) if (!now.has(p)) pending.delete(p);
    for (const [partition, l] of lanes) {
      if (!now.has(partition)) {
        lanes.delete(partition);
        const s = Promise.all([laneStops.get(partition), l.stop()]).then(() => {});
        laneStops.set(partition, s);
        void s.finally(() => {
          if (laneStops.get(partition) === s) laneStops.delete(partition);
        });
      }
    }
    metrics.setPartitions([...now]);
    // The revoked lanes' queued records are gone: a stream paused for them would never resume (no
    // more data and no more batches would call flowControl), leaving the new assignment unfetched.
    flowControl();
  }

  async function measureLag(): Promise<void> {
    if (consumer === null) return;
    try {
      const lag = await consumer.getLag({ topics: [inputTopic] });
      (lag.get(inputTopic) ?? []).forEach((n, p) => {
        if (n >= 0n && owned.has(p)) metrics.setLag(p, Number(n));
      });
    } catch {
      // lag is best effort
    }
  }

  async function start(): Promise<void> {
    // Refuse at once what every partition's instance would refuse (link errors, bad env / topics).
    buildEnviron(inputTopic, outputTopics, env);
    await prepareModule(module, memoryLimitBytes ?? 2 * 1024 * 1024);
    const created = await ensureTopics(brokers, inputTopic, outputTopics, connection);
    if (created.length > 0) onEvent(`created output topics ${created.join(', ')}`);
    producer = new Producer({
      ...kafkaClientOptions(connection),
      clientId: `${clientId}-producer`,
      bootstrapBrokers: brokers,
      acks: -1,
      idempotent: true,
    });
    await connect();
    if (metricsIntervalMs > 0) {
      timer = setInterval(() => {
        void measureLag().then(() => onMetrics(metrics.snapshot()));
      }, metricsIntervalMs);
    }
    membershipTimer = setInterval(checkMembership, 1_000);
  }

  /** A new consumer joins the group and its stream starts feeding the lanes. */
  async function connect(): Promise<void> {
    const c = new Consumer({
      ...kafkaClientOptions(connection),
      clientId,
      groupId,
      bootstrapBrokers: brokers,
      autocommit: false,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      rebalanceTimeout: rebalanceTimeoutMs,
      maxWaitTime: 250,
    });
    consumer = c;
    inactiveSince = undefined;
    // The client reports a failed background rejoin (after a rebalance) as an 'error' event on the
    // consumer itself; with no listener Node throws it as an uncaught exception. While stopping it is
    // expected (the connection pool is closing); otherwise the group is lost: join again.
    c.on('error', (error: Error) => lose(c, `consumer error: ${error.message}`));
    c.on('consumer:group:join', (payload) => {
      if (consumer === c) onJoin(payload);
    });
    c.on('consumer:group:rebalance', () => {
      if (consumer === c) onRebalance();
    });
    const s = await c.consume({
      topics: [inputTopic],
      mode: 'committed',
      fallbackMode: startFrom,
      autocommit: false,
      sessionTimeout: sessionTimeoutMs,
      rebalanceTimeout: rebalanceTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
    });
    if (consumer !== c) {
      // Lost (or stopped) while joining: this stream is not the runner's.
      await s.close().catch(() => {});
      return;
    }
    stream = s;
    paused = false;
    s.on('data', (m) => {
      // Records fetched before a revocation can still arrive: they belong to the new owner now.
      if (stopping !== null || stream !== s || !owned.has(m.partition)) return;
      lane(m.partition).push(m as unknown as InputMessage);
      flowControl();
    });
    // The client destroys the stream when its fetch loop gives up ("fetch failed N times"): it never
    // fetches again, so the consumer is lost.
    s.on('error', (error: Error) => lose(c, `consumer error: ${error.message}`));
    s.on('close', () => {
      if (stream === s) lose(c, 'consumer stream closed');
    });
  }

  /** Out of the group with no join of its own for longer than a join can take: lost too. */
  function checkMembership(): void {
    const c = consumer;
    if (c === null || stopping !== null || recovering !== null) return;
    if (c.isActive()) {
      inactiveSince = undefined;
      return;
    }
    const now = Date.now();
    inactiveSince ??= now;
    if (now - inactiveSince > sessionTimeoutMs + rebalanceTimeoutMs)
      lose(c, `not a group member for ${now - inactiveSince} ms`);
  }

  function lose(c: Consumer, reason: string): void {
    if (stopping !== null || recovering !== null || consumer !== c) return;
    onEvent(`${reason}; closing the consumer and joining again`);
    recovering = recover().finally(() => {
      recovering = null;
    });
  }

  async function recover(): Promise<void> {
    const oldStream = stream;
    const oldConsumer = consumer;
    stream = null;
    consumer = null;
    committing = null;
    rebalancing = false;
    assign(new Set());
    await bounded(
      'lost consumer stream close',
      oldStream?.close().catch(() => {}) ?? Promise.resolve(),
      5_000,
    );
    await bounded(
      'lost consumer close',
      oldConsumer?.close(true).catch(() => {}) ?? Promise.resolve(),
      5_000,
    );
    for (let attempt = 1; stopping === null; attempt++) {
      const delay = rejoinDelay(attempt);
      await sleep(delay, wake.signal);
      if (stopping !== null) return;
      try {
        await connect();
        metrics.countRejoin();
        onEvent(`consumer joined again (attempt ${attempt})`);
        return;
      } catch (error) {
        // connect() may have set it before failing (the narrowing above does not see that).
        const failed = consumer as Consumer | null;
        consumer = null;
        stream = null;
        await bounded(
          'failed consumer close',
          failed?.close(true).catch(() => {}) ?? Promise.resolve(),
          5_000,
        );
        onEvent(
          `rejoin attempt ${attempt} failed (${(error as Error).message}); next in ${rejoinDelay(attempt + 1)} ms`,
        );
      }
    }
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      if (timer !== null) clearInterval(timer);
      if (membershipTimer !== null) clearInterval(membershipTimer);
      wake.abort();
      await bounded('rejoin', recovering ?? Promise.resolve());
      stream?.pause();
      const all = [...lanes.values()].map((l) => l.stop());
      lanes.clear();
      await bounded('partition lanes', Promise.allSettled([...all, ...laneStops.values()]));
      // The last acknowledged offsets: one final commit, unless the group is rebalancing (then the next
      // owner re-processes from the last commit: duplicates, nothing lost).
      await bounded('commit in flight', committing ?? Promise.resolve());
      flushCommits();
      await bounded('final commit', committing ?? Promise.resolve());
      await bounded('lag', measureLag(), 5_000);
      await bounded('consumer stream close', stream?.close().catch(() => {}) ?? Promise.resolve());
      if (
        (await bounded(
          'consumer close',
          consumer?.close().then(
            () => true,
            () => true,
          ) ?? Promise.resolve(true),
        )) === undefined
      ) {
        await bounded(
          'consumer forced close',
          consumer?.close(true).catch(() => {}) ?? Promise.resolve(),
          5_000,
        );
      }
      await bounded('producer close', producer?.close().catch(() => {}) ?? Promise.resolve());
      onMetrics(metrics.snapshot());
      resolveDone();
    })();
    return stopping;
  }

  return {
    start: async () => {
      try {
        await start();
      } catch (error) {
        await stop();
        throw error;
      }
    },
    stop,
    metrics: () => metrics.snapshot(),
    prometheus: () => metrics.prometheus({ transform: name, input: inputTopic }),
    done,
  };
}
