// The seams between the runtime-free core and its adapters. The core depends only on these
// interfaces; each runtime's entry point hands it implementations (Kafka source, undici/fetch sink,
// Redis/Upstash/memory dedupe, Kafka DLQ writer, metrics registry, clock).
// Web standards only in relay/core: no node:*, Deno, Bun or cloudflare:* imports.

/** One header; a record may carry the same key more than once, so headers are a list. */
export interface RecordHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** A record as the core sees it, whatever source it came from. */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are int64; bigint keeps them exact. */
  readonly offset: bigint;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
  /** Record timestamp, ms since the epoch. */
  readonly timestamp: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** The terminal state of one record for one route, which is what the commit rule counts. */
export type Outcome = 'delivered' | 'deduplicated' | 'filtered' | 'deadlettered';

/**
 * What the core needs from a source. A Kafka consumer group implements it, and so does the HTTP
 * push source of the edge runtimes (a batch in, a per-record outcome out).
 */
export interface Source {
  /** Starts consuming; `handler` receives batches per partition. Resolves once connected. */
  start(handler: SourceHandler): Promise<void>;
  /** Stops fetching for these partitions (records already handed over stay owned by the core). */
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Commits "next offset to read" per partition; only offsets the core says are terminal. */
  commit(offsets: ReadonlyArray<TopicPartition & { readonly offset: bigint }>): Promise<void>;
  /** Consumer lag per partition, when the source knows it. */
  lag(): ReadonlyArray<TopicPartition & { readonly lag: bigint }>;
  isConnected(): boolean;
  /** Why the source is not consuming (e.g. routed topics that do not exist yet), for /readyz. */
  notReadyReason?(): string | undefined;
  /** Leaves the group cleanly (commits what the core allows first). */
  stop(): Promise<void>;
}

export interface SourceHandler {
  onRecords(records: readonly SourceRecord[]): void;
  /** Partitions were taken away: finish or abandon their in-flight work, commit nothing stale. */
  onRevoked(partitions: readonly TopicPartition[]): Promise<void>;
  onAssigned(partitions: readonly TopicPartition[]): void;
}

/** One HTTP request the sink will make; the core builds it from the route's templates. */
export interface SinkRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string | null;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** What came back. Network failures and timeouts are reported, not thrown. */
export type SinkResponse =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly retryAfterMs?: number;
      readonly body?: string;
    }
  | { readonly kind: 'network-error'; readonly message: string }
  /** The client refused the request before sending it (invalid argument): retrying cannot help. */
  | { readonly kind: 'invalid-request'; readonly message: string }
  | { readonly kind: 'timeout' };

export interface HttpSender {
  /**
   * True when send() ends every request by itself once `timeoutMs` has passed, and close() ends those
   * still in flight: the core then passes no per-call `signal` (an AbortController and a listener per
   * request saved). The policy's timeout still rejects the call at the limit either way.
   */
  readonly endsRequests?: boolean;
  send(request: SinkRequest): Promise<SinkResponse>;
  close(): Promise<void>;
}

/** The result of trying to claim an event for a sink. See docs/delivery.md#dedupe-protocol. */
export type ClaimResult = 'claimed' | 'done' | 'pending-elsewhere';

export interface DedupeStore {
  /** SET ferry:dedupe:<sink>:<eventId> pending:<instance> NX PX <leaseMs>, batched where possible. */
  claim(sink: string, eventId: string, leaseMs: number): Promise<ClaimResult>;
  /** Marks delivered: the value becomes `done` with the retention TTL. */
  markDone(sink: string, eventId: string, ttlMs: number): Promise<void>;
  /** Releases a claim only if it is still ours. */
  release(sink: string, eventId: string): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** A record for dlq.relay: the original record plus ferry-error-* headers. Resolves when acked. */
/** `full`: the original record with the ferry-error-* headers; `pointer`: it did not fit (see dlq-headers.ts). */
export type DlqWriteKind = 'full' | 'pointer';

export interface DlqWriter {
  /** Resolves once acknowledged, with the kind written (undefined counts as `full`). */
  write(record: SourceRecord, error: DeadLetterReason): Promise<DlqWriteKind | undefined>;
  close(): Promise<void>;
}

export interface DeadLetterReason {
  readonly stage: 'parse' | 'deliver' | 'config' | 'dedupe';
  readonly code: string;
  readonly message: string;
  readonly sink: string;
  readonly attempts: number;
  readonly firstFailureAt: number;
  readonly lastFailureAt: number;
}

/** Metrics without assuming prom-client: counters, gauges and histograms keyed by labels. */
export interface Metrics {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames?: readonly string[],
  ): Histogram;
}
export interface Counter {
  inc(labels?: Readonly<Record<string, string>>, by?: number): void;
}
export interface Gauge {
  set(labels: Readonly<Record<string, string>>, value: number): void;
}
export interface Histogram {
  observe(labels: Readonly<Record<string, string>>, value: number): void;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Reads dead-lettered records back (dlq.relay) for replay. Reads from the beginning of the topic up to the
 * end offsets seen when `read` was called, then the iteration ends. Records come back as written:
 * original key, value and headers plus the ferry-error-* headers (see dlq-headers.ts).
 */
export interface DlqReader {
  read(options?: { readonly signal?: AbortSignal }): AsyncIterable<SourceRecord>;
  /**
   * The source record at exactly this position (what a pointer record stands for), or undefined when
   * the source no longer has it (retention, compaction, deleted topic).
   */
  original?(
    topic: string,
    partition: number,
    offset: bigint,
    signal?: AbortSignal,
  ): Promise<SourceRecord | undefined>;
  close(): Promise<void>;
}

/** Minimal structured logger; the entry points pass one that writes JSON lines. */
export interface Logger {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}
