// One sink's lane: per-key FIFO queues, at most `maxInFlight` keys in flight (one record per key at a
// time, so per-key order holds while different keys run concurrently, beyond the partition count);
// each record goes through deliver.ts (dedupe protocol, composed policy, DLQ) to a terminal outcome,
// and this file decides what the key does next. A key that cannot make progress (retries exhausted with `block`, dedupe pending elsewhere,
// store down with `block`) is parked with a timer; the other keys keep flowing. When the breaker opens
// and the sink's onOpen is `pause`, the lane stops taking records and lets one probe through after the
// half-open delay; a half-open success closes the breaker and the lane runs again.
import type { Clock, DedupeStore, HttpSender, Logger, Metrics, TopicPartition } from './contracts.ts';
import { createDeliverer, type Delivery, freshAttempts, type Step, type TrackedDelivery } from './deliver.ts';
import type { DeadLetterer } from './dlq-write.ts';
import { errorMessage, FerryError } from './errors.ts';
import type { SinkOptions } from './options.ts';
import { type BreakerStateName, createSinkPolicy } from './policy.ts';
import { createRateLimiter } from './rate-limiter.ts';
import type { Redactor } from './redact.ts';
import { createRequestBuilder } from './request-builder.ts';

export type { Delivery } from './deliver.ts';

interface KeyLane {
  readonly key: string;
  readonly queue: TrackedDelivery[];
  busy: boolean;
  waitingUntil: number | undefined;
  reason: string | undefined;
  parked: boolean;
}

/** Running, paused by the admin API, or stopped by an open breaker (`onOpen: pause`). */
export type SinkMode = 'running' | 'paused' | 'open';

/** A key held back for a sink, for the admin API. */
export interface ParkedKey {
  /** The record key. */
  readonly key: string;
  /** Why it is held. */
  readonly reason: string;
  /** When it is tried again, ms since the epoch. */
  readonly until: number;
  /** Records of the key waiting behind it. */
  readonly queued: number;
  /** Parked by `onExhausted: block` (false: waiting out a retry). */
  readonly parked: boolean;
}

/** The sink's settings as the admin API shows them: no headers, no auth (they may hold secrets). */
export interface SinkSettings {
  /** URL template. */
  readonly url: string;
  /** HTTP method. */
  readonly method: string;
  /** Requests in flight at once. */
  readonly maxInFlight: number;
  /** Records buffered before the partitions pause. */
  readonly bufferSize: number;
  /** Requests per second at most. */
  readonly rateLimitPerSecond: number | undefined;
  /** What an open breaker does. */
  readonly onOpen: SinkOptions['onOpen'];
  /** What exhausted retries do. */
  readonly onExhausted: SinkOptions['onExhausted'];
  /** The dedupe store, or off. */
  readonly dedupe: string;
}

/** One sink's live state, for the admin API. */
export interface SinkState {
  /** Sink id. */
  readonly id: string;
  /** Its settings, without headers or auth. */
  readonly settings: SinkSettings;
  /** Running, paused or open. */
  readonly mode: SinkMode;
  /** The breaker's state. */
  readonly breaker: BreakerStateName;
  /** Requests in flight. */
  readonly inFlight: number;
  /** Records buffered. */
  readonly buffered: number;
  /** Whether the buffer is full (its partitions paused). */
  readonly bufferFull: boolean;
  /** Keys with records in the sink. */
  readonly keys: number;
  /** Keys held back. */
  readonly parkedKeys: readonly ParkedKey[];
}

export interface SinkRunner {
  readonly id: string;
  /** `{ sink: id }`, shared so per-record metric calls allocate nothing. */
  readonly labels: Readonly<Record<string, string>>;
  readonly sink: SinkOptions;
  /** Whether deliveries must carry the parsed value (a filter, a projection body or a templated URL). */
  readonly readsValue: boolean;
  /**
   * Queues a delivery on its key's lane. A TrackedDelivery (with its own `state`) is queued as it is,
   * so it must be enqueued on one sink only; a plain Delivery gets a tracked copy.
   */
  enqueue(delivery: Delivery | TrackedDelivery): void;
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
  /** The relay's shared dead-letter rule (dlq-write.ts). */
  readonly dlq: DeadLetterer;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called when the lane's fullness or mode changes, so the relay can pause/resume partitions. */
  readonly onFlowChange: () => void;
  readonly random?: () => number;
  /** Scrubs outside text before it becomes a reason or a log field (deliver.ts). */
  readonly redact?: Redactor;
}

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
  redact,
}: SinkRunnerOptions): SinkRunner {
  const labels = { sink: sink.id };
  const m = {
    inFlight: metrics.gauge('ferry_inflight_requests', 'Deliveries in flight per sink', ['sink']),
    buffered: metrics.gauge('ferry_buffered_records', 'Records queued for a sink, not yet terminal', [
      'sink',
    ]),
    waitingKeys: metrics.gauge(
      'ferry_parked_keys',
      'Keys waiting before their next attempt (parked after exhausted retries, dedupe pending or store down), per sink',
      ['sink'],
    ),
    state: metrics.gauge(
      'ferry_sink_state',
      'Sink state: 0 running, 1 paused by an operator, 2 breaker open (paused)',
      ['sink'],
    ),
  };

  m.inFlight.set(labels, 0);
  m.buffered.set(labels, 0);

  const { policy, onBreakerChange, dispose } = createSinkPolicy(sink, metrics, random);
  const requests = createRequestBuilder(sink);
  const limiter = createRateLimiter(sink.rateLimitPerSecond);
  // Without a rate limit every token is free: no clock read per started record.
  const limited = sink.rateLimitPerSecond !== undefined && sink.rateLimitPerSecond > 0;
  const stopper = new AbortController();
  const { process } = createDeliverer({
    sink,
    sender,
    dedupe,
    dlq,
    policy,
    requests,
    metrics,
    clock,
    logger,
    signal: stopper.signal,
    ...(redact ? { redact } : {}),
  });
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
  let waiting = 0;
  const publishWaiting = (delta: number) => {
    waiting += delta;
    m.waitingKeys.set(labels, waiting);
  };
  /** The relay must re-plan paused partitions, and the state gauge follows the mode. */
  const modeChanged = () => {
    m.state.set(labels, adminPaused ? 1 : breakerOpen ? 2 : 0);
    onFlowChange();
  };
  m.waitingKeys.set(labels, 0);
  m.state.set(labels, 0);

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
        modeChanged();
      }
      scheduleProbe();
    } else if (state === 'closed' && breakerOpen) {
      breakerOpen = false;
      probeAllowed = false;
      logger.info('breaker closed after a half-open success, sink resumed', { sink: sink.id });
      modeChanged();
      pump();
    }
  });

  function pump(): void {
    if (stopper.signal.aborted || adminPaused) return;
    while (ready.size > 0 && inFlight < sink.maxInFlight) {
      // Breaker open: only one probe, and only when nothing else is in flight.
      if (breakerOpen && (!probeAllowed || inFlight > 0)) return;
      const key = ready.values().next().value as string;
      const lane = keys.get(key);
      if (!lane || lane.busy || lane.queue.length === 0) {
        ready.delete(key);
        continue;
      }
      const wait = limited ? limiter.take(clock.now()) : 0;
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
      ready.delete(key);
      if (breakerOpen) probeAllowed = false;
      start(lane);
    }
  }

  function start(lane: KeyLane): void {
    const delivery = lane.queue[0];
    if (!delivery) return;
    lane.busy = true;
    lane.reason = undefined;
    lane.parked = false;
    if (lane.waitingUntil !== undefined) publishWaiting(-1);
    lane.waitingUntil = undefined;
    inFlight++;
    m.inFlight.set(labels, inFlight);
    process(delivery).then(
      (step) => finish(lane, delivery, step),
      (e: unknown) => {
        logger.error('unexpected delivery failure', { sink: sink.id, error: errorMessage(e) });
        finish(lane, delivery, {
          kind: 'wait',
          ms: 1000,
          reason: `internal: ${errorMessage(e)}`,
          parked: false,
        });
      },
    );
  }

  function finish(lane: KeyLane, delivery: TrackedDelivery, step: Step): void {
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
        if (lane.waitingUntil === undefined) publishWaiting(1);
        lane.waitingUntil = clock.now() + step.ms;
        lane.reason = step.reason;
        lane.parked = step.parked;
        void sleep(step.ms).then((ok) => {
          if (!ok || lane.busy || keys.get(lane.key) !== lane || lane.waitingUntil === undefined) return;
          lane.waitingUntil = undefined;
          publishWaiting(-1);
          if (lane.queue.length > 0) ready.add(lane.key);
          pump();
        });
        break;
      }
    }
    // A probe that made no HTTP call (dedupe said done, store down, ...) leaves the breaker open: probe again.
    if (breakerOpen) scheduleProbe();
    pump();
  }

  function requeueOrDelete(lane: KeyLane): void {
    if (lane.queue.length > 0) ready.add(lane.key);
    else if (!lane.busy) {
      keys.delete(lane.key);
      ready.delete(lane.key);
    }
  }

  return {
    id: sink.id,
    labels,
    sink,
    readsValue: requests.readsValue || sink.filter.length > 0,
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
      lane.queue.push(
        'state' in delivery
          ? delivery
          : {
              ...delivery,
              isCurrent: delivery.isCurrent,
              done: delivery.done,
              state: freshAttempts(),
            },
      );
      buffered++;
      if (!lane.busy && lane.waitingUntil === undefined) ready.add(lane.key);
      updateFullness();
      pump();
    },
    pause() {
      if (adminPaused) return;
      adminPaused = true;
      modeChanged();
    },
    resume() {
      if (!adminPaused) return;
      adminPaused = false;
      modeChanged();
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
          if (lane.waitingUntil !== undefined) {
            lane.waitingUntil = undefined;
            publishWaiting(-1);
          }
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
