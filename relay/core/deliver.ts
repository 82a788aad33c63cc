// Delivering one record to one sink, start to outcome: the dedupe claim, the request, the call
// through the sink's composed policy, the classification of what came back, the `done` mark or the
// release, and the DLQ write when the record cannot be delivered. Returns what the lane should do next;
// it never touches the lane's queues itself. A record whose event id cannot be a header value is
// dead-lettered before anything else (FERRY_EVENT_ID_INVALID): no claim, no request, no retry, no park.
// A record's retry budget (`retry.attempts`) lasts across the breaker's requeues and probes: once its
// attempts reach it, onExhausted applies, however often the breaker opened in between.
// Text from outside (client error messages, response bodies) is scrubbed and bounded by `redact`
// before it becomes a DLQ reason, a parked-key reason or a log field.
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
  HttpSender,
  Logger,
  Metrics,
  Outcome,
  SinkRequest,
  SourceRecord,
} from './contracts.ts';
import type { DeadLetterer } from './dlq-write.ts';
import { errorMessage, isFerryError, isRetryableError } from './errors.ts';
import { eventIdProblem } from './identifiers.ts';
import type { SinkOptions } from './options.ts';
import type { PolicyExecutor } from './policy.ts';
import { bound, type Redactor, redactPatterns } from './redact.ts';
import type { RequestBuilder } from './request-builder.ts';

/** One record on its way to one sink. */
export interface Delivery {
  readonly record: SourceRecord;
  /**
   * The parsed record value when the sink reads fields of it (filter, projection, URL template);
   * undefined when it sends the value as it is (intake then only checked that it is JSON).
   */
  readonly value: unknown;
  /** The CDC commit time (commitTimestampOf in record.ts), for the freshness metric. */
  readonly commitTimestamp: number;
  readonly eventId: string;
  readonly key: string;
  /** False once the partition was revoked: the result no longer counts and nothing is dead-lettered. */
  isCurrent(): boolean;
  /** Called exactly once: the terminal outcome, or `abandoned` (revoked partition, shutdown). */
  done(outcome: Outcome | 'abandoned'): void;
}

export interface Attempted {
  /** HTTP attempts made for this record, in all. */
  attempts: number;
  /**
   * Attempts counted against the retry budget (`retry.attempts`): kept across breaker requeues and
   * half-open probes, so a record that keeps reopening the breaker still runs out; reset when the
   * record is parked (`onExhausted: block`), which starts a new budget after the park.
   */
  spent: number;
  /** What the last failed attempt said (scrubbed), for the exhaustion reason. */
  lastFailure: string | undefined;
  firstFailureAt: number | undefined;
  lastFailureAt: number | undefined;
  dedupeFailures: number;
}

export type Step =
  | { readonly kind: 'terminal'; readonly outcome: Outcome }
  | { readonly kind: 'wait'; readonly ms: number; readonly reason: string; readonly parked: boolean }
  | { readonly kind: 'requeue' }
  | { readonly kind: 'abandoned' };

export type TrackedDelivery = Delivery & { state: Attempted };

/** A fresh attempt record for a delivery entering a sink's lane. */
export const freshAttempts = (): Attempted => ({
  attempts: 0,
  spent: 0,
  lastFailure: undefined,
  firstFailureAt: undefined,
  lastFailureAt: undefined,
  dedupeFailures: 0,
});

export interface DelivererOptions {
  readonly sink: SinkOptions;
  readonly sender: HttpSender;
  readonly dedupe: DedupeStore | undefined;
  /** The relay's shared dead-letter rule (dlq-write.ts). */
  readonly dlq: DeadLetterer;
  readonly policy: PolicyExecutor;
  readonly requests: RequestBuilder;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Aborted when the relay stops: waits end and results count as abandoned. */
  readonly signal: AbortSignal;
  /** Scrubs outside text (default: credential patterns only, no configured secrets). */
  readonly redact?: Redactor;
}

/**
 * Thrown inside the policy instead of an attempt beyond the record's retry budget (a record requeued
 * by the open breaker resumes with the budget it had left). Not transient: neither the retry layer
 * nor the breaker handles it.
 */
const BUDGET_SPENT = new Error('retry budget spent');

// The common steps are shared constants: nothing downstream mutates a Step.
const DELIVERED: Step = { kind: 'terminal', outcome: 'delivered' };
const DEDUPLICATED: Step = { kind: 'terminal', outcome: 'deduplicated' };
const PENDING_RETRY_MS = 250;
/** Event ids in log lines: a longer one is logged as a prefix plus its length and fingerprint. */
const LOGGED_ID_CHARS = 200;

export function createDeliverer({
  sink,
  sender,
  dedupe,
  dlq,
  policy,
  requests,
  metrics,
  clock,
  logger,
  signal,
  redact = redactPatterns,
}: DelivererOptions): {
  process(delivery: TrackedDelivery): Promise<Step>;
} {
  const labels = { sink: sink.id };
  const endsRequests = sender.endsRequests === true;
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
    exhausted: metrics.counter(
      'ferry_retries_exhausted_total',
      'Deliveries whose retries ran out, per sink',
      ['sink'],
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
  };

  // Every per-sink series exists from the start (at 0), so dashboards and rate() see it before the first event.
  m.delivered.inc(labels, 0);
  m.deduplicated.inc(labels, 0);

  /** An error's message, scrubbed and bounded: it came from a client, a server or a record. */
  const said = (e: unknown) => redact(errorMessage(e));

  async function deadLetter(
    delivery: TrackedDelivery,
    code: string,
    message: string,
    stage: DeadLetterReason['stage'] = 'deliver',
  ): Promise<Step> {
    if (!delivery.isCurrent()) return { kind: 'abandoned' };
    const now = clock.now();
    const reason: DeadLetterReason = {
      stage,
      code,
      message: redact(message),
      sink: sink.id,
      attempts: delivery.state.attempts,
      firstFailureAt: delivery.state.firstFailureAt ?? now,
      lastFailureAt: delivery.state.lastFailureAt ?? now,
    };
    const kind = await dlq.write(delivery.record, reason, () => delivery.isCurrent(), signal);
    if (kind === undefined) return { kind: 'abandoned' };
    m.deadlettered.inc({ sink: sink.id, code });
    logger.warn('record dead-lettered', {
      sink: sink.id,
      code,
      kind,
      topic: delivery.record.topic,
      partition: delivery.record.partition,
      offset: String(delivery.record.offset),
      eventId: bound(delivery.eventId, LOGGED_ID_CHARS),
    });
    return { kind: 'terminal', outcome: 'deadlettered' };
  }

  /** Retries ran out: dead-letter, or park the key (`block`) with a fresh budget for after the park. */
  function exhausted(delivery: TrackedDelivery, last: string): Promise<Step> | Step {
    const { state } = delivery;
    if (sink.onExhausted === 'deadletter') {
      return deadLetter(delivery, 'FERRY_RETRIES_EXHAUSTED', `${state.attempts} attempts, last: ${last}`);
    }
    state.spent = 0;
    m.parked.inc(labels);
    return {
      kind: 'wait',
      ms: sink.parkMs,
      reason: `retries exhausted (${state.attempts} attempts), last: ${last}`,
      parked: true,
    };
  }

  async function release(eventId: string, claimed: boolean): Promise<void> {
    if (!claimed || !dedupe) return;
    try {
      await dedupe.release(sink.id, eventId);
    } catch (e) {
      // The lease expires on its own; another instance waits at most leaseMs.
      logger.warn('dedupe release failed', { sink: sink.id, error: said(e) });
    }
  }

  /**
   * Event ids this sink is delivering right now. The store's claim is re-entrant for its own instance
   * (a restart with the same instance id takes its claims back), so two records with one event id
   * under different keys would both be claimed here and both sent: the second waits instead, then
   * finds the event done (or the claim released, and delivers it).
   */
  const active = new Set<string>();

  async function process(delivery: TrackedDelivery): Promise<Step> {
    if (!sink.dedupe.enabled || !dedupe) return deliverOnce(delivery);
    const { eventId } = delivery;
    if (active.has(eventId)) {
      return {
        kind: 'wait',
        ms: Math.min(PENDING_RETRY_MS, sink.dedupe.leaseMs),
        reason: 'same event id in flight on this instance',
        parked: false,
      };
    }
    active.add(eventId);
    try {
      return await deliverOnce(delivery);
    } finally {
      active.delete(eventId);
    }
  }

  async function deliverOnce(delivery: TrackedDelivery): Promise<Step> {
    const { state, eventId } = delivery;
    if (!delivery.isCurrent()) return { kind: 'abandoned' };

    // 0. An event id no HTTP client can send would fail the same way forever: permanent, at once.
    const idProblem = eventIdProblem(eventId);
    if (idProblem !== undefined) return deadLetter(delivery, 'FERRY_EVENT_ID_INVALID', idProblem);

    // 1. Dedupe claim.
    let claimed = false;
    let unclaimedDelivery = false;
    if (sink.dedupe.enabled && dedupe) {
      try {
        const claim = await dedupe.claim(sink.id, eventId, sink.dedupe.leaseMs);
        state.dedupeFailures = 0;
        if (claim === 'done') {
          m.deduplicated.inc(labels);
          return DEDUPLICATED;
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
            logger.warn('dedupe store unreachable, blocking key', { sink: sink.id, error: said(e) });
          const ms = Math.min(
            sink.retry.backoffCapMs,
            sink.retry.backoffBaseMs * 2 ** Math.min(state.dedupeFailures, 16),
          );
          return { kind: 'wait', ms, reason: `dedupe store unreachable: ${said(e)}`, parked: false };
        }
        if (state.dedupeFailures === 1)
          logger.warn('dedupe store unreachable, delivering without a claim', {
            sink: sink.id,
            error: said(e),
          });
        unclaimedDelivery = true;
      }
    }

    // 2. Build the request (a failure is permanent for this record: the same bytes fail the same way).
    let request: SinkRequest;
    try {
      const built = requests.build(delivery.record, delivery.value, eventId, clock.now());
      request = built instanceof Promise ? await built : built;
    } catch (e) {
      await release(eventId, claimed);
      state.attempts = Math.max(state.attempts, 0);
      return deadLetter(delivery, isFerryError(e) ? e.code : 'FERRY_REQUEST_INVALID', said(e));
    }

    // 3. Deliver through the composed policy, within what is left of the record's retry budget.
    try {
      await policy.execute(async (context) => {
        if (state.spent >= sink.retry.attempts) throw BUDGET_SPENT;
        state.attempts++;
        state.spent++;
        const started = clock.now();
        // Built field by field: an object spread per attempt showed up in Bun's profile (JSC's
        // copyDataProperties).
        const response = await sender.send({
          url: request.url,
          method: request.method,
          headers: request.headers,
          body: request.body,
          timeoutMs: request.timeoutMs,
          // Read only when needed: the timeout layer makes the call's AbortController on first read.
          signal: endsRequests ? undefined : context.signal,
        });
        m.latency.observe(labels, (clock.now() - started) / 1000);
        const result = classify(response);
        if (result.kind === 'failed') {
          const now = clock.now();
          state.firstFailureAt ??= now;
          state.lastFailureAt = now;
          state.lastFailure = said(result.error);
          throw result.error;
        }
        return result.status;
      }, signal);
    } catch (e) {
      await release(eventId, claimed);
      if (signal.aborted) return { kind: 'abandoned' };
      if (isBrokenCircuitError(e) || isIsolatedCircuitError(e)) {
        if (sink.onOpen === 'deadletter')
          return deadLetter(delivery, 'FERRY_BREAKER_OPEN', 'circuit breaker open');
        // Requeued for the probe with the budget it has left; a record whose failures keep opening
        // the breaker runs out like any other.
        if (state.spent < sink.retry.attempts) return { kind: 'requeue' };
        m.exhausted.inc(labels);
        return exhausted(delivery, state.lastFailure ?? 'circuit breaker open');
      }
      if (e === BUDGET_SPENT) {
        m.exhausted.inc(labels);
        return exhausted(delivery, state.lastFailure ?? 'circuit breaker open');
      }
      if (isBulkheadRejectedError(e)) return { kind: 'requeue' };
      const transient = isRetryableError(e) || isTaskCancelledError(e);
      if (!transient) {
        return deadLetter(delivery, isFerryError(e) ? e.code : 'FERRY_SINK_REJECTED', errorMessage(e));
      }
      // The retry layer gave up (and counted it).
      return exhausted(delivery, isTaskCancelledError(e) ? 'sink timed out' : said(e));
    }

    // 4. Delivered: mark done (a failure here only weakens dedupe for this event, it is not lost).
    if (claimed || unclaimedDelivery) {
      try {
        await dedupe?.markDone(sink.id, eventId, sink.dedupe.ttlMs);
      } catch (e) {
        m.dedupeUnavailable.inc({ sink: sink.id, action: 'mark-done-failed' });
        logger.warn('dedupe markDone failed', { sink: sink.id, error: said(e) });
      }
    }
    m.delivered.inc(labels);
    m.freshness.observe(labels, Math.max(0, clock.now() - delivery.commitTimestamp) / 1000);
    return DELIVERED;
  }

  return { process };
}
