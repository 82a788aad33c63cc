// The resilience policy of one sink, composed once, outer to inner:
//   bulkhead(maxInFlight) -> retry(exponential backoff + full jitter, honouring Retry-After)
//     -> circuit breaker (consecutive or sampling) -> timeout
// The sink runner already starts a delivery only while fewer than maxInFlight are in flight, so the
// bulkhead never rejects in normal operation; it stays as the policy's own bound on concurrent calls
// (the sink's declared bulkhead, whoever calls the policy) for ~0.3 µs per call.
// Only retryable sink failures count against the breaker and get retried; a permanent rejection
// (other 4xx) passes straight through, and an open breaker surfaces as BrokenCircuitError so the
// caller can apply the sink's onOpen setting. Metrics hang on the policy events here, nowhere else.
import {
  type BulkheadPolicy,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IPolicy,
  type IRetryBackoffContext,
  isTaskCancelledError,
  retry,
  SamplingBreaker,
} from 'cockatiel';
import type { Metrics } from './contracts.ts';
import { isFerryError, isRetryableError } from './errors.ts';
import type { RetryOptions, SinkOptions } from './options.ts';
import { createTimeoutLayer } from './timeout-layer.ts';

/** A circuit breaker's state as the admin API and metrics name it. */
export type BreakerStateName = 'closed' | 'open' | 'half-open' | 'isolated';

export function breakerStateName(state: CircuitState): BreakerStateName {
  switch (state) {
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half-open';
    case CircuitState.Isolated:
      return 'isolated';
    default:
      return 'closed';
  }
}

/** A Retry-After longer than this is clamped (a sink asking for hours would hold a key forever). */
const MAX_RETRY_AFTER_MS = 300_000;

/** Exponential backoff with optional full jitter, never shorter than the sink's Retry-After. */
export function retryBackoff(
  options: RetryOptions,
  random: () => number = Math.random,
): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const make = (
    attempt: number,
    context: IRetryBackoffContext<unknown>,
  ): IBackoff<IRetryBackoffContext<unknown>> => {
    const ceiling = Math.min(options.backoffCapMs, options.backoffBaseMs * 2 ** (attempt - 1));
    const jittered = options.jitter === 'full' ? Math.floor(random() * ceiling) : ceiling;
    const failure = 'error' in context.result ? context.result.error : undefined;
    const asked = isFerryError(failure) ? failure.retryAfterMs : undefined;
    const duration =
      asked === undefined
        ? jittered
        : Math.max(jittered, Math.min(asked, Math.max(options.backoffCapMs, MAX_RETRY_AFTER_MS)));
    return { duration, next: (ctx) => make(attempt + 1, ctx) };
  };
  return { next: (ctx) => make(1, ctx) };
}

const isTransient = (e: unknown) => isRetryableError(e) || isTaskCancelledError(e);

/** What the sink runner calls: one execution through every layer. */
export interface PolicyExecutor {
  execute<T>(
    fn: (context: { readonly signal: AbortSignal; readonly attempt?: number }) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
}

/**
 * cockatiel's wrap(), outer to inner, without its per-layer context merge: wrap spreads a new context
 * object at every layer of every call, and the inner function here only needs the innermost signal
 * (the timeout layer's, which follows the outer ones). The layers and their order are unchanged.
 */
export function compose(layers: readonly IPolicy[]): PolicyExecutor {
  const last = layers.length - 1;
  const run = <T>(
    i: number,
    fn: (context: { readonly signal: AbortSignal }) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> =>
    i === last
      ? (layers[i] as IPolicy).execute(fn, signal)
      : (layers[i] as IPolicy).execute((context) => run(i + 1, fn, context.signal), signal);
  return {
    execute: (fn, signal) => run(0, fn, signal),
  };
}

export interface SinkPolicy {
  readonly policy: PolicyExecutor;
  readonly breaker: CircuitBreakerPolicy;
  readonly bulkhead: BulkheadPolicy;
  /** Subscribes to breaker transitions (the sink runner pauses and resumes on them). */
  onBreakerChange(listener: (state: BreakerStateName) => void): void;
  dispose(): void;
}

export function createSinkPolicy(sink: SinkOptions, metrics: Metrics, random?: () => number): SinkPolicy {
  const labels = { sink: sink.id };
  const retries = metrics.counter('ferry_retries_total', 'Delivery attempts retried, per sink', ['sink']);
  const exhausted = metrics.counter(
    'ferry_retries_exhausted_total',
    'Deliveries whose retries ran out, per sink',
    ['sink'],
  );
  const breakerGauge = metrics.gauge(
    'ferry_breaker_state',
    'Circuit breaker state per sink: 0 closed, 1 open, 2 half-open',
    ['sink'],
  );
  const breakerOpens = metrics.counter(
    'ferry_breaker_opened_total',
    'Times the circuit breaker opened, per sink',
    ['sink'],
  );

  const b = sink.breaker;
  const breaker = circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: b.halfOpenAfterMs,
    breaker:
      b.mode === 'consecutive'
        ? new ConsecutiveBreaker(b.threshold)
        : new SamplingBreaker({ threshold: b.threshold, duration: b.durationMs, minimumRps: b.minimumRps }),
  });
  const retryPolicy = retry(handleWhen(isTransient), {
    maxAttempts: Math.max(0, sink.retry.attempts - 1),
    backoff: retryBackoff(sink.retry, random),
  });
  const limiter = bulkhead(sink.maxInFlight, 0);
  // cockatiel's aggressive timeout (abortOnReturn: false) rebuilt without its per-call events,
  // race and wrappers (timeout-layer.ts; timeout-layer.test.ts runs both on the same cases).
  const timeoutPolicy = createTimeoutLayer(sink.timeoutMs) as unknown as IPolicy;

  const listeners: Array<(state: BreakerStateName) => void> = [];
  const disposables = [
    retryPolicy.onRetry(() => retries.inc(labels)),
    retryPolicy.onGiveUp((r) => {
      if ('error' in r && isTransient(r.error)) exhausted.inc(labels);
    }),
    breaker.onBreak(() => breakerOpens.inc(labels)),
    breaker.onStateChange((state) => {
      breakerGauge.set(
        labels,
        state === CircuitState.Open
          ? 1
          : state === CircuitState.HalfOpen
            ? 2
            : state === CircuitState.Isolated
              ? 3
              : 0,
      );
      const name = breakerStateName(state);
      for (const l of listeners) l(name);
    }),
  ];
  breakerGauge.set(labels, 0);
  retries.inc(labels, 0);

  return {
    policy: compose([limiter, retryPolicy, breaker, timeoutPolicy]),
    breaker,
    bulkhead: limiter,
    onBreakerChange(listener) {
      listeners.push(listener);
    },
    dispose() {
      for (const d of disposables) d.dispose();
    },
  };
}
