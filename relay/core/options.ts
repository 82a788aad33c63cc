// The relay's resolved configuration as the core uses it. relay/config validates the YAML file and
// produces exactly this shape (with defaults filled in); tests may build it directly.

/** One filter condition on a dotted path into the record value; a sink takes a record when all hold. */
export type FilterPredicate =
  | { readonly field: string; readonly eq: unknown }
  | { readonly field: string; readonly ne: unknown }
  | { readonly field: string; readonly in: readonly unknown[] }
  | { readonly field: string; readonly exists: boolean }
  | { readonly field: string; readonly gt: number }
  | { readonly field: string; readonly gte: number }
  | { readonly field: string; readonly lt: number }
  | { readonly field: string; readonly lte: number };

/** How a failed delivery is retried. */
export interface RetryOptions {
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** First backoff. */
  readonly backoffBaseMs: number;
  /** Longest backoff. */
  readonly backoffCapMs: number;
  /** `full`: each wait drawn uniformly from 0 to the backoff; `none`: the backoff itself. */
  readonly jitter: 'full' | 'none';
}

/** When the circuit breaker opens: after consecutive failures, or a failure ratio over a sampling window. */
export type BreakerOptions =
  | { readonly mode: 'consecutive'; readonly threshold: number; readonly halfOpenAfterMs: number }
  | {
      readonly mode: 'sampling';
      /** Failure ratio 0..1 that opens the breaker. */
      readonly threshold: number;
      readonly durationMs: number;
      readonly minimumRps: number;
      readonly halfOpenAfterMs: number;
    };

/** The sink's dedupe settings. */
export interface DedupeOptions {
  /** Whether deliveries are deduplicated. */
  readonly enabled: boolean;
  /** Which store keeps the event ids. */
  readonly store: 'redis' | 'upstash' | 'memory';
  /** How long a delivered event id is remembered. */
  readonly ttlMs: number;
  /** How long a claim holds before another instance may take it. */
  readonly leaseMs: number;
  /** When the store is unreachable: deliver anyway, or wait for it. */
  readonly onUnavailable: 'deliver' | 'block';
}

/** What the request body is: the record value as is, or a projection of its fields. */
export type BodyOptions =
  | { readonly kind: 'value' }
  /** Output field name -> dotted path into the record value. */
  | { readonly kind: 'project'; readonly fields: Readonly<Record<string, string>> };

/** How the sink authenticates. */
export interface AuthOptions {
  /** Bearer token (a secret). */
  readonly bearer?: string | undefined;
  /** Standard Webhooks secret (`whsec_<base64>` or raw base64). */
  readonly webhookSecret?: string | undefined;
}

/** One sink: an HTTP API with its request template and policies. */
export interface SinkOptions {
  /** Unique sink id. */
  readonly id: string;
  /** URL template: fixed origin, `{dotted.path}` placeholders in path and query only. */
  readonly url: string;
  /** HTTP method. */
  readonly method: string;
  /** Extra request headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Authentication. */
  readonly auth: AuthOptions;
  /** Request body. */
  readonly body: BodyOptions;
  /** One request gives up after this many milliseconds. */
  readonly timeoutMs: number;
  /** Retry policy. */
  readonly retry: RetryOptions;
  /** Circuit breaker. */
  readonly breaker: BreakerOptions;
  /** Requests in flight at once. */
  readonly maxInFlight: number;
  /** Records buffered for this sink before its partitions pause. */
  readonly bufferSize: number;
  /** Requests per second at most (undefined: no limit). */
  readonly rateLimitPerSecond: number | undefined;
  /** While the breaker is open: pause the sink, or dead-letter what arrives. */
  readonly onOpen: 'pause' | 'deadletter';
  /** When retries run out: dead-letter the record, or park its key and try again later. */
  readonly onExhausted: 'deadletter' | 'block';
  /** How long a key parked by `onExhausted: block` waits before it is tried again. */
  readonly parkMs: number;
  /** Dedupe settings. */
  readonly dedupe: DedupeOptions;
  /** Filter conditions, all of which must hold. */
  readonly filter: readonly FilterPredicate[];
}

/** One route: topics and the sinks that get their records. */
export interface RouteOptions {
  /** Route name. */
  readonly name: string;
  /** Topics routed. */
  readonly topics: readonly string[];
  /** Sinks of the route. */
  readonly sinks: readonly SinkOptions[];
}

/** The core's options: routes and timings. */
export interface RelayOptions {
  /** Routes. */
  readonly routes: readonly RouteOptions[];
  /** How often terminal low-water marks are committed. */
  readonly commitIntervalMs: number;
  /** How long onRevoked waits for in-flight work of revoked partitions before abandoning it. */
  readonly revokeTimeoutMs: number;
  /** How long a graceful stop may take. */
  readonly shutdownTimeoutMs: number;
}
