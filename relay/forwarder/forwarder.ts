// The push forwarder: records from a long-lived Source (the Kafka consumer group) pushed in batches to
// an edge relay's /push/batches, with the relay's commit rule carried over: a partition's offset is
// committed only after the relay answered 200 committed for the batch holding it.
//
// - One lane per assigned partition, one batch in flight per lane, so a partition's records reach the
//   relay in log order; partitions proceed independently.
// - A lane sends when it holds `batchSize` records or `maxBytes` of body, or when its oldest buffered
//   record has waited `lingerMs`. A lane holding `maxBufferedRecords` pauses its partition at the
//   source until a batch is taken from it.
// - A batch is retried until the relay commits it (push-answer.ts says how each answer is handled),
//   with exponential backoff and full jitter (never shorter than Retry-After), and the same body, so the
//   relay answers a re-push by position and its dedupe keeps the API from seeing a record twice.
// - A batch the relay refuses for good (409, 401, 400, 413) stops the forwarder: `failed` resolves and
//   every lane is abandoned, committing nothing more.
// - Revoked partitions: their lanes are abandoned at once (nothing of them is committed after that) and
//   the revocation completes when their loops have ended. The new owner pushes from the committed offset.
// - stop(): no new batch or attempt starts; a push already on the wire may finish within the grace
//   period and is committed if the relay committed it; then what is left is abandoned uncommitted.
import { createSystemClock, silentLogger } from '../core/clock.ts';
import type { Clock, Logger, Source, SourceRecord, TopicPartition } from '../core/contracts.ts';
import type { FerryError } from '../core/errors.ts';
import { type EncodedPushRecord, encodePushRecord, joinPushBatch, type PushBatch } from './push-batch.ts';
import type { PushClient } from './push-client.ts';

export interface ForwarderOptions {
  readonly source: Source;
  readonly client: PushClient;
  readonly clock?: Clock;
  /** Most records in one push (the relay's push.maxRecords is 1000 by default). */
  readonly batchSize?: number;
  /** Most body bytes in one push (the relay's push.maxBodyBytes is 4 MiB by default). */
  readonly maxBytes?: number;
  /** How long a lane waits for more records before sending a batch that is not full. */
  readonly lingerMs?: number;
  /** Records a lane buffers before its partition pauses at the source. */
  readonly maxBufferedRecords?: number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /** A Retry-After longer than this is clamped. */
  readonly maxRetryAfterMs?: number;
  readonly random?: () => number;
  readonly logger?: Logger;
}

export interface ForwarderStats {
  /** Records and batches pushed (first attempts). */
  readonly pushedRecords: number;
  readonly pushedBatches: number;
  /** Records and batches the relay committed and whose offsets were committed at the source. */
  readonly committedRecords: number;
  readonly committedBatches: number;
  /** Records the relay answered as committed before (pushed again after a restart or a lost answer). */
  readonly alreadyDone: number;
  /** Pushes of a batch again after 202 (the relay was still working on it). */
  readonly repushes: number;
  /** Pushes again after a failure (429, 5xx, network, timeout). */
  readonly retries: number;
  readonly inFlightBatches: number;
  readonly bufferedRecords: number;
  /** The last reason a push was retried, if any. */
  readonly lastRetryReason: string | undefined;
}

export interface Forwarder {
  start(): Promise<void>;
  /** Stops pushing (see above) and then the source. */
  stop(options?: { readonly graceMs?: number }): Promise<void>;
  stats(): ForwarderStats;
  /** Resolves with the error when a batch was refused for good; the forwarder has stopped pushing. */
  readonly failed: Promise<FerryError>;
}

interface Lane {
  readonly tp: TopicPartition;
  /** Records as they will be sent (encoded once, on arrival). */
  readonly buffer: EncodedPushRecord[];
  bytes: number;
  /** When the oldest buffered record arrived. */
  firstAt: number | undefined;
  paused: boolean;
  /** Abandon: revoked, failed, or the stop's grace period is over. */
  readonly abandon: AbortController;
  /** Aborted when records arrive, to wake a waiting loop. */
  wake: AbortController | undefined;
  loop: Promise<void>;
}

const laneKey = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

export function createForwarder({
  source,
  client,
  clock = createSystemClock(),
  batchSize = 500,
  maxBytes = 1024 * 1024,
  lingerMs = 50,
  maxBufferedRecords = 4 * batchSize,
  backoffBaseMs = 200,
  backoffCapMs = 30_000,
  maxRetryAfterMs = 300_000,
  random = Math.random,
  logger = silentLogger,
}: ForwarderOptions): Forwarder {
  const lanes = new Map<string, Lane>();
  const stopping = new AbortController();
  let failure: FerryError | undefined;
  let reportFailure: (error: FerryError) => void = () => {};
  const failed = new Promise<FerryError>((resolve) => {
    reportFailure = resolve;
  });
  const counts = {
    pushedRecords: 0,
    pushedBatches: 0,
    committedRecords: 0,
    committedBatches: 0,
    alreadyDone: 0,
    repushes: 0,
    retries: 0,
    inFlightBatches: 0,
  };
  let lastRetryReason: string | undefined;

  const over = (lane: Lane) =>
    lane.abandon.signal.aborted || stopping.signal.aborted || failure !== undefined;

  /**
   * Sleeps `ms` (or until woken when undefined); false when the lane was abandoned or the forwarder
   * stops. Listeners on the long-lived signals are removed after each wait (AbortSignal.any would keep
   * one dependent signal per wait alive as long as they live).
   */
  async function pause(lane: Lane, ms: number | undefined, wakeable: boolean): Promise<boolean> {
    const wait = new AbortController();
    const end = () => wait.abort();
    const parents = [lane.abandon.signal, stopping.signal];
    if (parents.some((p) => p.aborted)) return !over(lane);
    for (const p of parents) p.addEventListener('abort', end, { once: true });
    if (wakeable) lane.wake = wait;
    try {
      if (ms === undefined)
        await new Promise<void>((resolve) =>
          wait.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      else await clock.sleep(ms, wait.signal).catch(() => {});
    } finally {
      for (const p of parents) p.removeEventListener('abort', end);
      if (lane.wake === wait) lane.wake = undefined;
    }
    return !over(lane);
  }

  /** Waits until the lane holds a batch worth sending; false when it should end instead. */
  async function batchReady(lane: Lane): Promise<boolean> {
    for (;;) {
      if (over(lane)) return false;
      if (lane.buffer.length >= batchSize || lane.bytes >= maxBytes) return true;
      if (lane.buffer.length === 0) {
        if (!(await pause(lane, undefined, true))) return false;
        continue;
      }
      const due = (lane.firstAt ?? clock.now()) + lingerMs - clock.now();
      if (due <= 0) return true;
      if (!(await pause(lane, due, true))) return false;
    }
  }

  function take(lane: Lane): EncodedPushRecord[] {
    let n = 0;
    let bytes = 0;
    while (n < lane.buffer.length && n < batchSize) {
      const size = (lane.buffer[n] as EncodedPushRecord).bytes;
      if (n > 0 && bytes + size > maxBytes) break;
      bytes += size;
      n++;
    }
    const records = lane.buffer.splice(0, n);
    lane.bytes -= bytes;
    if (lane.buffer.length === 0) lane.firstAt = undefined;
    if (lane.paused && lane.buffer.length < maxBufferedRecords) {
      lane.paused = false;
      source.resume([lane.tp]);
    }
    return records;
  }

  function backoff(attempt: number, retryAfterMs: number | undefined): number {
    const ceiling = Math.min(backoffCapMs, backoffBaseMs * 2 ** (attempt - 1));
    const jittered = Math.floor(random() * ceiling);
    return retryAfterMs === undefined
      ? jittered
      : Math.max(jittered, Math.min(retryAfterMs, maxRetryAfterMs));
  }

  function fail(error: FerryError) {
    if (failure !== undefined) return;
    failure = error;
    logger.error('push refused for good: the forwarder stops', { code: error.code, message: error.message });
    for (const lane of lanes.values()) lane.abandon.abort();
    reportFailure(error);
  }

  /** Pushes until the relay commits the batch; 'abandoned' when the lane ends first. */
  async function deliver(lane: Lane, batch: PushBatch): Promise<'committed' | 'abandoned'> {
    let attempt = 0;
    let first = true;
    for (;;) {
      // A stop lets the push on the wire finish, but starts no new attempt.
      if (lane.abandon.signal.aborted || failure !== undefined || (!first && stopping.signal.aborted))
        return 'abandoned';
      if (first) {
        first = false;
        counts.pushedRecords += batch.records;
        counts.pushedBatches++;
      }
      const answer = await client.push(batch, lane.abandon.signal);
      // Abandoned (revoked, failed, or past the stop's grace period) means not committed, whatever came back.
      if (lane.abandon.signal.aborted || failure !== undefined) return 'abandoned';
      if (answer.kind === 'committed') {
        counts.alreadyDone += answer.alreadyDone;
        return 'committed';
      }
      if (answer.kind === 'fatal') {
        fail(answer.error);
        return 'abandoned';
      }
      if (answer.kind === 'again') {
        counts.repushes++;
        attempt = 0;
        continue;
      }
      counts.retries++;
      attempt++;
      lastRetryReason = answer.reason;
      const delayMs = backoff(attempt, answer.retryAfterMs);
      logger.warn('push failed, trying again', { batch: batch.id, reason: answer.reason, attempt, delayMs });
      if (!(await pause(lane, delayMs, false))) return 'abandoned';
    }
  }

  async function runLane(lane: Lane): Promise<void> {
    while (await batchReady(lane)) {
      const batch = joinPushBatch(take(lane));
      counts.inFlightBatches++;
      let outcome: 'committed' | 'abandoned';
      try {
        outcome = await deliver(lane, batch);
      } finally {
        counts.inFlightBatches--;
      }
      if (outcome !== 'committed') return;
      try {
        await source.commit([{ ...lane.tp, offset: batch.lastOffset + 1n }]);
        counts.committedRecords += batch.records;
        counts.committedBatches++;
      } catch (error) {
        // The relay has the batch; only the position is not saved. After a restart it is pushed again
        // and answered by position or deduplicated.
        logger.warn('offset commit failed', {
          batch: batch.id,
          error: String((error as Error)?.message ?? error),
        });
      }
    }
  }

  function laneFor(tp: TopicPartition): Lane {
    const key = laneKey(tp);
    let lane = lanes.get(key);
    if (lane === undefined) {
      const created: Lane = {
        tp: { topic: tp.topic, partition: tp.partition },
        buffer: [],
        bytes: 0,
        firstAt: undefined,
        paused: false,
        abandon: new AbortController(),
        wake: undefined,
        loop: Promise.resolve(),
      };
      if (failure !== undefined) created.abandon.abort();
      created.loop = runLane(created).catch((error) => {
        logger.error('forwarder lane failed', { error: String((error as Error)?.message ?? error) });
      });
      lanes.set(key, created);
      lane = created;
    }
    return lane;
  }

  const handler = {
    onAssigned(partitions: readonly TopicPartition[]) {
      for (const tp of partitions) laneFor(tp);
    },
    onRecords(records: readonly SourceRecord[]) {
      if (failure !== undefined || stopping.signal.aborted) return;
      const now = clock.now();
      const touched = new Set<Lane>();
      for (const r of records) {
        const lane = laneFor(r);
        const encoded = encodePushRecord(r);
        lane.buffer.push(encoded);
        lane.bytes += encoded.bytes;
        lane.firstAt ??= now;
        touched.add(lane);
      }
      for (const lane of touched) {
        if (!lane.paused && lane.buffer.length >= maxBufferedRecords) {
          lane.paused = true;
          source.pause([lane.tp]);
        }
        lane.wake?.abort();
      }
    },
    async onRevoked(partitions: readonly TopicPartition[]) {
      const ending: Array<Promise<void>> = [];
      for (const tp of partitions) {
        const lane = lanes.get(laneKey(tp));
        if (lane === undefined) continue;
        lanes.delete(laneKey(tp));
        lane.abandon.abort();
        ending.push(lane.loop);
      }
      await Promise.all(ending);
    },
  };

  return {
    failed,
    async start() {
      await source.start(handler);
    },
    async stop({ graceMs = 10_000 } = {}) {
      stopping.abort();
      const loops = Promise.all([...lanes.values()].map((l) => l.loop));
      const grace = new AbortController();
      await Promise.race([loops, clock.sleep(graceMs, grace.signal).catch(() => {})]);
      grace.abort();
      for (const lane of lanes.values()) lane.abandon.abort();
      await loops;
      await source.stop();
    },
    stats: () => ({
      ...counts,
      bufferedRecords: [...lanes.values()].reduce((n, l) => n + l.buffer.length, 0),
      lastRetryReason,
    }),
  };
}
