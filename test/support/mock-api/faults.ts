// Fault injection for one mock endpoint: a plain spec (JSON over the control API) and a pure
// decision function that picks what happens to the next request. Randomness and time are passed in,
// so the decision is testable without a server.

export type LatencySpec =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'normal'; readonly meanMs: number; readonly stdDevMs: number }
  | { readonly kind: 'exponential'; readonly meanMs: number };

export interface FaultSpec {
  /** Delay before the answer (all answers, faults included). */
  readonly latency?: LatencySpec;
  /** Probability 0..1 of answering `errorStatus` (default 500). */
  readonly errorRate?: number;
  readonly errorStatus?: number;
  /** Answer `status` for the next `count` requests and/or until `forMs` after the spec was set. */
  readonly fixed?: {
    readonly status: number;
    readonly count?: number;
    readonly forMs?: number;
    readonly retryAfter?: string;
  };
  /** Probability 0..1 of a 429 with `Retry-After: retryAfter` (seconds, default "1"). */
  readonly rateLimit?: { readonly rate: number; readonly retryAfter?: string };
  /** Probability 0..1 of never answering (the client must time out). */
  readonly hangRate?: number;
  /** Probability 0..1 of destroying the connection without an answer. */
  readonly resetRate?: number;
  /** The down switch: every request's connection is destroyed at once. */
  readonly down?: boolean;
  /** Status of a successful answer (default 200). */
  readonly successStatus?: number;
  /** Failure answers (non-2xx) echo the request's headers in their JSON body, as some APIs do. */
  readonly echoHeaders?: boolean;
}

export type Decision =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly retryAfter?: string;
      readonly delayMs: number;
    }
  | { readonly kind: 'reset'; readonly delayMs: number }
  | { readonly kind: 'hang' }
  | { readonly kind: 'down' };

/** Mutable per-endpoint fault state: the spec plus what is left of a fixed window. */
export interface FaultState {
  spec: FaultSpec;
  setAt: number;
  fixedLeft: number;
}

export function createFaultState(spec: FaultSpec = {}, now = Date.now()): FaultState {
  return { spec, setAt: now, fixedLeft: spec.fixed?.count ?? Number.POSITIVE_INFINITY };
}

export function sampleLatency(spec: LatencySpec | undefined, random: () => number): number {
  if (spec === undefined) return 0;
  switch (spec.kind) {
    case 'fixed':
      return Math.max(0, spec.ms);
    case 'uniform':
      return spec.minMs + random() * Math.max(0, spec.maxMs - spec.minMs);
    case 'normal': {
      // Box-Muller; clamp at zero.
      const u = Math.max(random(), 1e-12);
      const v = random();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.max(0, spec.meanMs + z * spec.stdDevMs);
    }
    case 'exponential':
      return -Math.log(Math.max(1 - random(), 1e-12)) * spec.meanMs;
  }
}

export function decide(state: FaultState, now: number, random: () => number = Math.random): Decision {
  const { spec } = state;
  if (spec.down) return { kind: 'down' };
  const delayMs = sampleLatency(spec.latency, random);
  const fixed = spec.fixed;
  if (fixed !== undefined) {
    const inWindow = fixed.forMs === undefined || now - state.setAt < fixed.forMs;
    if (inWindow && state.fixedLeft > 0) {
      state.fixedLeft -= 1;
      return fixed.retryAfter === undefined
        ? { kind: 'answer', status: fixed.status, delayMs }
        : { kind: 'answer', status: fixed.status, retryAfter: fixed.retryAfter, delayMs };
    }
  }
  if (spec.resetRate !== undefined && random() < spec.resetRate) return { kind: 'reset', delayMs };
  if (spec.hangRate !== undefined && random() < spec.hangRate) return { kind: 'hang' };
  if (spec.rateLimit !== undefined && random() < spec.rateLimit.rate) {
    return { kind: 'answer', status: 429, retryAfter: spec.rateLimit.retryAfter ?? '1', delayMs };
  }
  if (spec.errorRate !== undefined && random() < spec.errorRate) {
    return { kind: 'answer', status: spec.errorStatus ?? 500, delayMs };
  }
  return { kind: 'answer', status: spec.successStatus ?? 200, delayMs };
}
