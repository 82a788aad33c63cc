// One sink's lane: per-key FIFO queues, at most `maxInFlight` keys in flight (one record per key at a
// time, so per-key order holds while different keys run concurrently, beyond the partition count),
// each delivery through the dedupe protocol and the sink's composed policy, ending in a terminal
// outcome. A key that cannot make progress (retries exhausted with `block`, dedupe pending elsewhere,
// store down with `block`) is parked with a timer; the other keys keep flowing. When the breaker opens
// and the sink's onOpen is `pause`, the lane stops taking records and lets one probe through after the
// half-open delay; a half-open success closes the breaker and the lane runs again.
import {
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isIsolatedCircuitError,
  isTaskCancelledError,
} from 'cockatiel';
import { classify } from './classify.ts';
import type {
  Clock,
  DeadLetterReason,
  DedupeStore,
  DlqWriter,
  HttpSender,
  Logger,
  Metrics,
  Outcome,
  SourceRecord,
  TopicPartition,
} from './contracts.ts';
import { errorMessage, FerryError, isFerryError, isRetryableError } from './errors.ts';
import type { SinkOptions } from './options.ts';
import { type BreakerStateName, createSinkPolicy } from './policy.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { commitTimestampOf } from './record.ts';
import { createRequestBuilder } from './request-builder.ts';

/** One record on its way to one sink. */
export interface Delivery {
  readonly record: SourceRecord;
  readonly value: unknown;
  readonly eventId: string;
  readonly key: string;
  /** False once the partition was revoked: the result no longer counts and nothing is dead-lettered. */
  isCurrent(): boolean;
  /** Called exactly once: the terminal outcome, or `abandoned` (revoked partition, shutdown). */
  done(outcome: Outcome | 'abandoned'): void;
}

interface Attempted {
  attempts: number;
  firstFailureAt: number | undefined;
  lastFailureAt: number | undefined;
  dedupeFailures: number;
}

type Step =
  | { readonly kind: 'terminal'; readonly outcome: Outcome }
  | { readonly kind: 'wait'; readonly ms: number; readonly reason: string; readonly parked: boolean }
  | { readonly kind: 'requeue' }
  | { readonly kind: 'abandoned' };

interface KeyLane {
  readonly key: string;
  readonly queue: Array<Delivery & { state: Attempted }>;
  busy: boolean;
  waitingUntil: number | undefined;
  reason: string | undefined;
  parked: boolean;
}

export type SinkMode = 'running' | 'paused' | 'open';

export interface ParkedKey {
  readonly key: string;
  readonly reason: string;
  readonly until: number;
  readonly queued: number;
  readonly parked: boolean;
}

/** The sink's settings as the admin API shows them: no headers, no auth (they may hold secrets). */
export interface SinkSettings {
  readonly url: string;
  readonly method: string;
  readonly maxInFlight: number;
  readonly bufferSize: number;
  readonly rateLimitPerSecond: number | undefined;
  readonly onOpen: SinkOptions['onOpen'];
  readonly onExhausted: SinkOptions['onExhausted'];
  readonly dedupe: string;
}

export interface SinkState {
  readonly id: string;
  readonly settings: SinkSettings;
  readonly mode: SinkMode;
  readonly breaker: BreakerStateName;
  readonly inFlight: number;
  readonly buffered: number;
  readonly bufferFull: boolean;
  readonly keys: number;
  readonly parkedKeys: readonly ParkedKey[];
}

export interface SinkRunner {
  readonly id: string;
  readonly sink: SinkOptions;
  enqueue(delivery: Delivery): void;
  /** Admin pause/resume (independent of the breaker). */
  pause(): void;
  resume(): void;
  /** Drops queued deliveries of these partitions (calls done('abandoned')); in-flight ones finish. */
  abandon(partitions: readonly TopicPartition[]): void;
  /** Deliveries of these partitions in flight right now. */
  busyIn(partitions: readonly TopicPartition[]): number;
  isFull(): boolean;
  state(): SinkState;
  /** Cancels timers and in-flight waits; queued deliveries are abandoned. */
  stop(): void;
}

export interface SinkRunnerOptions {
  readonly sink: SinkOptions;
  readonly sender: HttpSender;
  readonly dedupe: DedupeStore | undefined;
  readonly dlq: DlqWriter;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called when the lane's fullness or mode changes, so the relay can pause/resume partitions. */
  readonly onFlowChange: () => void;
  readonly random?: () => number;
}

const DLQ_RETRY_CAP_MS = 5_000;
const PENDING_RETRY_MS = 250;

export function createSinkRunner({
  sink,
  sender,
  dedupe,
  dlq,
  metrics,
  clock,
  logger,
  onFlowChange,
  random = Math.random,
}: SinkRunnerOptions): SinkRunner {
  const labels = { sink: sink.id };
  const m = {
    delivered: metrics.counter('ferry_records_delivered_total', 'Records delivered (2xx), per sink', [
      'sink',
    ]),
    deduplicated: metrics.counter(
      'ferry_records_deduplicated_total',
      'Records skipped as already delivered, per sink',
      ['sink'],
    ),
    deadlettered: metrics.counter(
      'ferry_records_deadlettered_total',
      'Records written to dlq.relay, per sink and code',
      ['sink', 'code'],
    ),
    dedupeUnavailable: metrics.counter(
      'ferry_dedupe_unavailable_total',
      'Dedupe store calls that failed, per sink and the action taken (deliver or block)',
      ['sink', 'action'],
    ),
    parked: metrics.counter(
      'ferry_keys_parked_total',
      'Times a key was parked for a sink (retries exhausted with block)',
      ['sink'],
    ),
    latency: metrics.histogram(
      'ferry_delivery_duration_seconds',
      'HTTP delivery attempt duration per sink',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      ['sink'],
    ),
    freshness: metrics.histogram(
      'ferry_freshness_seconds',
      'End-to-end age at delivery: now minus the CDC commit time (source.ts_ms or occurredAt) or the record timestamp',
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      ['sink'],
    ),
    inFlight: metrics.gauge('ferry_inflight_requests', 'Deliveries in flight per sink', ['sink']),
    buffered: metrics.gauge('ferry_buffered_records', 'Records queued for a sink, not yet terminal', [
      'sink',
    ]),
  };

  // Every per-sink series exists from the start (at 0), so dashboards and rate() see it before the first event.
  m.delivered.inc(labels, 0);
  m.deduplicated.inc(labels, 0);
  m.inFlight.set(labels, 0);
  m.buffered.set(labels, 0);

  const { policy, onBreakerChange, dispose } = createSinkPolicy(sink, metrics, random);
  const requests = createRequestBuilder(sink);
  const limiter = createRateLimiter(sink.rateLimitPerSecond);
  const stopper = new AbortController();
  const settings: SinkSettings = {
    url: sink.url,
    method: sink.method,
    maxInFlight: sink.maxInFlight,
    bufferSize: sink.bufferSize,
    rateLimitPerSecond: sink.rateLimitPerSecond,
    onOpen: sink.onOpen,
    onExhausted: sink.onExhausted,
    dedupe: sink.dedupe.enabled
      ? `${sink.dedupe.store} (${sink.dedupe.onUnavailable} when unreachable)`
      : 'off',
  };
  const keys = new Map<string, KeyLane>();
  const ready = new Set<string>();
  let inFlight = 0;
  let buffered = 0;
  let full = false;
  let adminPaused = false;
  let breakerOpen = false;
  let probeAllowed = false;
  let probeTimer = false;
  let rateTimer = false;
  let breakerName: BreakerStateName = 'closed';

  const mode = (): SinkMode => (adminPaused ? 'paused' : breakerOpen ? 'open' : 'running');

  const updateFullness = () => {
    const wasFull = full;
    if (!full && buffered >= sink.bufferSize) full = true;
    else if (full && buffered <= Math.floor(sink.bufferSize / 2)) full = false;
    m.buffered.set(labels, buffered);
    if (wasFull !== full) onFlowChange();
  };

  const sleep = async (ms: number) => {
    try {
      await clock.sleep(ms, stopper.signal);
      return true;
    } catch {
      return false;
    }
  };

  const scheduleProbe = () => {
    if (probeTimer || stopper.signal.aborted) return;
    probeTimer = true;
    void sleep(sink.breaker.halfOpenAfterMs).then((ok) => {
      probeTimer = false;
      if (!ok || !breakerOpen) return;
      probeAllowed = true;
      pump();
    });
  };

  onBreakerChange((state) => {
    breakerName = state;
    if (state === 'open' && sink.onOpen === 'pause') {
      if (!breakerOpen) {
        breakerOpen = true;
        logger.warn('breaker opened, sink paused', { sink: sink.id });
        onFlowChange();
      }
      scheduleProbe();
    } else if (state === 'closed' && breakerOpen) {
      breakerOpen = false;
      probeAllowed = false;
      logger.info('breaker closed after a half-open success, sink resumed', { sink: sink.id });
      onFlowChange();
      pump();
    }
  });

  function pump(): void {
    if (stopper.signal.aborted || adminPaused) return;
    while (ready.size > 0 && inFlight < sink.maxInFlight) {
      if (breakerOpen) {
        if (!probeAllowed || inFlight > 0) return;
        probeAllowed = false;
      }
      const wait = limiter.take(clock.now());
      if (wait > 0) {
        if (!rateTimer) {
          rateTimer = true;
          void sleep(wait).then(() => {
            rateTimer = false;
            pump();
          });
        }
        return;
      }
      const key = ready.values().next().value as string;
      ready.delete(key);
      const lane = keys.get(key);
      if (!lane || lane.busy || lane.queue.length === 0) continue;
      start(lane);
    }
  }

  function start(lane: KeyLane): void {
    const delivery = lane.queue[0];
    if (!delivery) return;
    lane.busy = true;
    lane.reason = undefined;
    lane.parked = false;
    lane.waitingUntil = undefined;
    inFlight++;
    m.inFlight.set(labels, inFlight);
    process(delivery)
      .catch((e): Step => {
        logger.error('unexpected delivery failure', { sink: sink.id, error: errorMessage(e) });
        return { kind: 'wait', ms: 1000, reason: `internal: ${errorMessage(e)}`, parked: false };
      })
      .then((step) => finish(lane, delivery, step));
  }

  function finish(lane: KeyLane, delivery: Delivery & { state: Attempted }, step: Step): void {
    inFlight--;
    m.inFlight.set(labels, inFlight);
    lane.busy = false;
    if (lane.queue[0] !== delivery) {
      // Abandoned while in flight (revoked partition): the head was already removed.
      requeueOrDelete(lane);
      pump();
      return;
    }
    switch (step.kind) {
      case 'terminal':
      case 'abandoned':
        lane.queue.shift();
        buffered--;
        delivery.done(step.kind === 'terminal' ? step.outcome : 'abandoned');
        requeueOrDelete(lane);
        updateFullness();
        break;
      case 'requeue':
        ready.add(lane.key);
        if (breakerOpen) scheduleProbe();
        break;
      case 'wait': {
        lane.waitingUntil = clock.now() + step.ms;
        lane.reason = step.reason;
        lane.parked = step.parked;
        void sleep(step.ms).then((ok) => {
          if (!ok || lane.busy || keys.get(lane.key) !== lane) return;
          lane.waitingUntil = undefined;
          if (lane.queue.length > 0) ready.add(lane.key);
          pump();
        });
        break;
      }
    }
    pump();
  }

  function requeueOrDelete(lane: KeyLane): void {
    if (lane.queue.length > 0) ready.add(lane.key);
    else if (!lane.busy) {
      keys.delete(lane.key);
      ready.delete(lane.key);
    }
  }

  async function deadLetter(
    delivery: Delivery & { state: Attempted },
    code: string,
    message: string,
    stage: DeadLetterReason['stage'] = 'deliver',
  ): Promise<Step> {
    if (!delivery.isCurrent()) return { kind: 'abandoned' };
    const now = clock.now();
    const reason: DeadLetterReason = {
      stage,
      code,
      message,
      sink: sink.id,
      attempts: delivery.state.attempts,
      firstFailureAt: delivery.state.firstFailureAt ?? now,
      lastFailureAt: delivery.state.lastFailureAt ?? now,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await dlq.write(delivery.record, reason);
        m.deadlettered.inc({ sink: sink.id, code });
        logger.warn('record dead-lettered', {
          sink: sink.id,
          code,
          topic: delivery.record.topic,
          partition: delivery.record.partition,
          offset: String(delivery.record.offset),
          eventId: delivery.eventId,
        });
        return { kind: 'terminal', outcome: 'deadlettered' };
      } catch (e) {
        logger.error('DLQ write failed, retrying', { sink: sink.id, error: errorMessage(e) });
        if (!delivery.isCurrent() || !(await sleep(Math.min(DLQ_RETRY_CAP_MS, 100 * 2 ** attempt))))
          return { kind: 'abandoned' };
      }
    }
  }

  async function release(eventId: string, claimed: boolean): Promise<void> {
    if (!claimed || !dedupe) return;
    try {
      await dedupe.release(sink.id, eventId);
    } catch (e) {
      // The lease expires on its own; another instance waits at most leaseMs.
      logger.warn('dedupe release failed', { sink: sink.id, error: errorMessage(e) });
    }
  }

  async function process(delivery: Delivery & { state: Attempted }): Promise<Step> {
    const { state, eventId } = delivery;
    if (!delivery.isCurrent()) return { kind: 'abandoned' };

    // 1. Dedupe claim.
    let claimed = false;
    let unclaimedDelivery = false;
    if (sink.dedupe.enabled && dedupe) {
      try {
        const claim = await dedupe.claim(sink.id, eventId, sink.dedupe.leaseMs);
        state.dedupeFailures = 0;
        if (claim === 'done') {
          m.deduplicated.inc(labels);
          return { kind: 'terminal', outcome: 'deduplicated' };
        }
        if (claim === 'pending-elsewhere') {
          return {
            kind: 'wait',
            ms: Math.min(PENDING_RETRY_MS, sink.dedupe.leaseMs),
            reason: 'claimed by another instance',
            parked: false,
          };
        }
        claimed = true;
      } catch (e) {
        state.dedupeFailures++;
        const action = sink.dedupe.onUnavailable;
        m.dedupeUnavailable.inc({ sink: sink.id, action });
        if (action === 'block') {
          if (state.dedupeFailures === 1)
            logger.warn('dedupe store unreachable, blocking key', { sink: sink.id, error: errorMessage(e) });
          const ms = Math.min(
            sink.retry.backoffCapMs,
            sink.retry.backoffBaseMs * 2 ** Math.min(state.dedupeFailures, 16),
          );
          return { kind: 'wait', ms, reason: `dedupe store unreachable: ${errorMessage(e)}`, parked: false };
        }
        if (state.dedupeFailures === 1)
          logger.warn('dedupe store unreachable, delivering without a claim', {
            sink: sink.id,
            error: errorMessage(e),
          });
        unclaimedDelivery = true;
      }
    }

    // 2. Build the request (URL template failures are permanent for this record).
    let request: Awaited<ReturnType<typeof requests.build>>;
    try {
      request = await requests.build(delivery.record, delivery.value, eventId, clock.now());
    } catch (e) {
      await release(eventId, claimed);
      state.attempts = Math.max(state.attempts, 0);
      return deadLetter(delivery, isFerryError(e) ? e.code : 'FERRY_URL_TEMPLATE', errorMessage(e));
    }

    // 3. Deliver through the composed policy.
    try {
      await policy.execute(async ({ signal }) => {
        state.attempts++;
        const started = clock.now();
        const response = await sender.send({ ...request, signal });
        m.latency.observe(labels, (clock.now() - started) / 1000);
        const result = classify(response);
        if (result.kind === 'failed') {
          const now = clock.now();
          state.firstFailureAt ??= now;
          state.lastFailureAt = now;
          throw result.error;
        }
        return result.status;
      }, stopper.signal);
    } catch (e) {
      await release(eventId, claimed);
      if (stopper.signal.aborted) return { kind: 'abandoned' };
      if (isBrokenCircuitError(e) || isIsolatedCircuitError(e)) {
        if (sink.onOpen === 'deadletter')
          return deadLetter(delivery, 'FERRY_BREAKER_OPEN', 'circuit breaker open');
        return { kind: 'requeue' };
      }
      if (isBulkheadRejectedError(e)) return { kind: 'requeue' };
      const transient = isRetryableError(e) || isTaskCancelledError(e);
      if (!transient) {
        return deadLetter(delivery, isFerryError(e) ? e.code : 'FERRY_SINK_REJECTED', errorMessage(e));
      }
      const last = isTaskCancelledError(e) ? 'sink timed out' : errorMessage(e);
      if (sink.onExhausted === 'deadletter') {
        return deadLetter(delivery, 'FERRY_RETRIES_EXHAUSTED', `${state.attempts} attempts, last: ${last}`);
      }
      m.parked.inc(labels);
      return {
        kind: 'wait',
        ms: sink.parkMs,
        reason: `retries exhausted (${state.attempts} attempts), last: ${last}`,
        parked: true,
      };
    }

    // 4. Delivered: mark done (a failure here only weakens dedupe for this event, it is not lost).
    if (claimed || unclaimedDelivery) {
      try {
        await dedupe?.markDone(sink.id, eventId, sink.dedupe.ttlMs);
      } catch (e) {
        m.dedupeUnavailable.inc({ sink: sink.id, action: 'mark-done-failed' });
        logger.warn('dedupe markDone failed', { sink: sink.id, error: errorMessage(e) });
      }
    }
    m.delivered.inc(labels);
    m.freshness.observe(
      labels,
      Math.max(0, clock.now() - commitTimestampOf(delivery.value, delivery.record)) / 1000,
    );
    return { kind: 'terminal', outcome: 'delivered' };
  }

  return {
    id: sink.id,
    sink,
    enqueue(delivery) {
      if (stopper.signal.aborted) {
        delivery.done('abandoned');
        return;
      }
      let lane = keys.get(delivery.key);
      if (!lane) {
        lane = {
          key: delivery.key,
          queue: [],
          busy: false,
          waitingUntil: undefined,
          reason: undefined,
          parked: false,
        };
        keys.set(delivery.key, lane);
      }
      lane.queue.push({
        ...delivery,
        isCurrent: delivery.isCurrent,
        done: delivery.done,
        state: { attempts: 0, firstFailureAt: undefined, lastFailureAt: undefined, dedupeFailures: 0 },
      });
      buffered++;
      if (!lane.busy && lane.waitingUntil === undefined) ready.add(lane.key);
      updateFullness();
      pump();
    },
    pause() {
      if (adminPaused) return;
      adminPaused = true;
      onFlowChange();
    },
    resume() {
      if (!adminPaused) return;
      adminPaused = false;
      onFlowChange();
      pump();
    },
    abandon(partitions) {
      const wanted = new Set(partitions.map((p) => `${p.topic}\u0000${p.partition}`));
      for (const lane of [...keys.values()]) {
        const keep: typeof lane.queue = [];
        for (let i = 0; i < lane.queue.length; i++) {
          const d = lane.queue[i] as (typeof lane.queue)[number];
          const inFlightHead = i === 0 && lane.busy;
          if (!inFlightHead && wanted.has(`${d.record.topic}\u0000${d.record.partition}`)) {
            buffered--;
            d.done('abandoned');
          } else keep.push(d);
        }
        lane.queue.splice(0, lane.queue.length, ...keep);
        if (lane.queue.length === 0 && !lane.busy) {
          keys.delete(lane.key);
          ready.delete(lane.key);
        }
      }
      updateFullness();
    },
    busyIn(partitions) {
      const wanted = new Set(partitions.map((p) => `${p.topic}\u0000${p.partition}`));
      let n = 0;
      for (const lane of keys.values()) {
        const head = lane.queue[0];
        if (lane.busy && head && wanted.has(`${head.record.topic}\u0000${head.record.partition}`)) n++;
      }
      return n;
    },
    isFull() {
      return full;
    },
    state() {
      const parkedKeys: ParkedKey[] = [];
      for (const lane of keys.values()) {
        if (lane.waitingUntil !== undefined) {
          parkedKeys.push({
            key: lane.key,
            reason: lane.reason ?? '',
            until: lane.waitingUntil,
            queued: lane.queue.length,
            parked: lane.parked,
          });
        }
      }
      return {
        id: sink.id,
        settings,
        mode: mode(),
        breaker: breakerName,
        inFlight,
        buffered,
        bufferFull: full,
        keys: keys.size,
        parkedKeys,
      };
    },
    stop() {
      if (stopper.signal.aborted) return;
      stopper.abort(new FerryError('FERRY_STOPPED', 'relay stopping'));
      for (const lane of keys.values()) {
        const from = lane.busy ? 1 : 0;
        for (const d of lane.queue.splice(from)) {
          buffered--;
          d.done('abandoned');
        }
      }
      ready.clear();
      dispose();
    },
  };
}
