// The relay's resolved configuration as the core uses it. relay/config validates the YAML file and
// produces exactly this shape (with defaults filled in); tests may build it directly.

export type FilterPredicate =
  | { readonly field: string; readonly eq: unknown }
  | { readonly field: string; readonly ne: unknown }
  | { readonly field: string; readonly in: readonly unknown[] }
  | { readonly field: string; readonly exists: boolean }
  | { readonly field: string; readonly gt: number }
  | { readonly field: string; readonly gte: number }
  | { readonly field: string; readonly lt: number }
  | { readonly field: string; readonly lte: number };

export interface RetryOptions {
  /** Total attempts, the first included. */
  readonly attempts: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  readonly jitter: 'full' | 'none';
}

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

export interface DedupeOptions {
  readonly enabled: boolean;
  readonly store: 'redis' | 'upstash' | 'memory';
  readonly ttlMs: number;
  readonly leaseMs: number;
  readonly onUnavailable: 'deliver' | 'block';
}

export type BodyOptions =
  | { readonly kind: 'value' }
  /** Output field name -> dotted path into the record value. */
  | { readonly kind: 'project'; readonly fields: Readonly<Record<string, string>> };

export interface AuthOptions {
  readonly bearer?: string | undefined;
  /** Standard Webhooks secret (`whsec_<base64>` or raw base64). */
  readonly webhookSecret?: string | undefined;
}

export interface SinkOptions {
  readonly id: string;
  /** URL template: fixed origin, `{dotted.path}` placeholders in path and query only. */
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: AuthOptions;
  readonly body: BodyOptions;
  readonly timeoutMs: number;
  readonly retry: RetryOptions;
  readonly breaker: BreakerOptions;
  readonly maxInFlight: number;
  /** Records buffered for this sink before its partitions pause. */
  readonly bufferSize: number;
  readonly rateLimitPerSecond: number | undefined;
  readonly onOpen: 'pause' | 'deadletter';
  readonly onExhausted: 'deadletter' | 'block';
  /** How long a key parked by `onExhausted: block` waits before it is tried again. */
  readonly parkMs: number;
  readonly dedupe: DedupeOptions;
  readonly filter: readonly FilterPredicate[];
}

export interface RouteOptions {
  readonly name: string;
  readonly topics: readonly string[];
  readonly sinks: readonly SinkOptions[];
}

export interface RelayOptions {
  readonly routes: readonly RouteOptions[];
  /** How often terminal low-water marks are committed. */
  readonly commitIntervalMs: number;
  /** How long onRevoked waits for in-flight work of revoked partitions before abandoning it. */
  readonly revokeTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
}
