// The seams between the runtime-free core and its adapters. The core depends only on these
// interfaces; each runtime's entry point hands it implementations (Kafka source, undici/fetch sink,
// Redis/Upstash/memory dedupe, Kafka DLQ writer, metrics registry, clock).
// Web standards only in relay/core: no node:*, Deno, Bun or cloudflare:* imports.

/** One header; a record may carry the same key more than once, so headers are a list. */
export interface RecordHeader {
  /** Header name. */
  readonly key: string;
  /** Header value, raw bytes (null: a header without a value). */
  readonly value: Uint8Array | null;
}

/** A record as the core sees it, whatever source it came from. */
export interface SourceRecord {
  /** Topic the record was read from. */
  readonly topic: string;
  /** Partition within the topic. */
  readonly partition: number;
  /** Kafka offsets are int64; bigint keeps them exact. */
  readonly offset: bigint;
  /** Record key, raw bytes (null: no key). */
  readonly key: Uint8Array | null;
  /** Record value, raw bytes (null: a tombstone). */
  readonly value: Uint8Array | null;
  /** Headers in record order. */
  readonly headers: readonly RecordHeader[];
  /** Record timestamp, ms since the epoch. */
  readonly timestamp: number;
}

/** One partition of one topic. */
export interface TopicPartition {
  /** Topic name. */
  readonly topic: string;
  /** Partition number. */
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
  /** Fetches again for these partitions. */
  resume(partitions: readonly TopicPartition[]): void;
  /** Commits "next offset to read" per partition; only offsets the core says are terminal. */
  commit(offsets: ReadonlyArray<TopicPartition & { readonly offset: bigint }>): Promise<void>;
  /** Consumer lag per partition, when the source knows it. */
  lag(): ReadonlyArray<TopicPartition & { readonly lag: bigint }>;
  /** Whether the source is connected and consuming, for /readyz. */
  isConnected(): boolean;
  /** Why the source is not consuming (e.g. routed topics that do not exist yet), for /readyz. */
  notReadyReason?(): string | undefined;
  /** Leaves the group cleanly (commits what the core allows first). */
  stop(): Promise<void>;
}

/** What a source calls: records in, and the partitions it gains and loses. */
export interface SourceHandler {
  /** A batch of records, in offset order per partition. */
  onRecords(records: readonly SourceRecord[]): void;
  /** Partitions were taken away: finish or abandon their in-flight work, commit nothing stale. */
  onRevoked(partitions: readonly TopicPartition[]): Promise<void>;
  /** Partitions were given to this consumer. */
  onAssigned(partitions: readonly TopicPartition[]): void;
}

/** One HTTP request the sink will make; the core builds it from the route's templates. */
export interface SinkRequest {
  /** Absolute http(s) URL. */
  readonly url: string;
  /** HTTP method. */
  readonly method: string;
  /** Request headers, names lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Request body (null: none). */
  readonly body: Uint8Array | string | null;
  /** The request is given up (`timeout`) after this many milliseconds. */
  readonly timeoutMs: number;
  /** Aborts the request from outside (the sink stopping). */
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

/** Sends a sink's HTTP requests: one per sink, on the runtime's client (undici, fetch). */
export interface HttpSender {
  /**
   * True when send() ends every request by itself once `timeoutMs` has passed, and close() ends those
   * still in flight: the core then passes no per-call `signal` (an AbortController and a listener per
   * request saved). The policy's timeout still rejects the call at the limit either way.
   */
  readonly endsRequests?: boolean;
  /** Sends one request; failures come back as a SinkResponse, never as a rejection. */
  send(request: SinkRequest): Promise<SinkResponse>;
  /** Ends what is in flight and releases connections. */
  close(): Promise<void>;
}

/** The result of trying to claim an event for a sink. See docs/delivery.md#dedupe-protocol. */
export type ClaimResult = 'claimed' | 'done' | 'pending-elsewhere';

/** Where a sink's delivered event ids are kept, so a retry, restart or rebalance sends none twice. */
export interface DedupeStore {
  /** SET ferry:dedupe:<sink>:<eventId> pending:<instance> NX PX <leaseMs>, batched where possible. */
  claim(sink: string, eventId: string, leaseMs: number): Promise<ClaimResult>;
  /** Marks delivered: the value becomes `done` with the retention TTL. */
  markDone(sink: string, eventId: string, ttlMs: number): Promise<void>;
  /** Releases a claim only if it is still ours. */
  release(sink: string, eventId: string): Promise<void>;
  /** Whether the store answers, for /readyz. */
  ping(): Promise<boolean>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** `full`: the original record with the ferry-error-* headers; `pointer`: it did not fit (see dlq-headers.ts). */
export type DlqWriteKind = 'full' | 'pointer';

/** Writes a record to dlq.relay: the original record plus ferry-error-* headers. */
export interface DlqWriter {
  /** Resolves once acknowledged, with the kind written (undefined counts as `full`). */
  write(record: SourceRecord, error: DeadLetterReason): Promise<DlqWriteKind | undefined>;
  /** Flushes and closes the producer. */
  close(): Promise<void>;
}

/** Why a record was dead-lettered: becomes its ferry-error-* headers. */
export interface DeadLetterReason {
  /** Where it failed. */
  readonly stage: 'parse' | 'deliver' | 'config' | 'dedupe';
  /** An error code (FERRY_*). */
  readonly code: string;
  /** What went wrong, scrubbed of secrets. */
  readonly message: string;
  /** The sink that gave up on it. */
  readonly sink: string;
  /** Delivery attempts made. */
  readonly attempts: number;
  /** First failure, ms since the epoch. */
  readonly firstFailureAt: number;
  /** Last failure, ms since the epoch. */
  readonly lastFailureAt: number;
}

/** Metrics without assuming prom-client: counters, gauges and histograms keyed by labels. */
export interface Metrics {
  /** A counter (`ferry_<noun>_total`). */
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  /** A gauge. */
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  /** A histogram with these bucket bounds. */
  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames?: readonly string[],
  ): Histogram;
}
/** A monotonically increasing count per label set. */
export interface Counter {
  /** Adds `by` (default 1). */
  inc(labels?: Readonly<Record<string, string>>, by?: number): void;
}
/** A value per label set that goes up and down. */
export interface Gauge {
  /** Sets the value. */
  set(labels: Readonly<Record<string, string>>, value: number): void;
}
/** A distribution per label set. */
export interface Histogram {
  /** Records one observation. */
  observe(labels: Readonly<Record<string, string>>, value: number): void;
}

/** Time as the core sees it; tests pass a fake one. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Reads dead-lettered records back (dlq.relay) for replay. Reads from the beginning of the topic up to the
 * end offsets seen when `read` was called, then the iteration ends. Records come back as written:
 * original key, value and headers plus the ferry-error-* headers (see dlq-headers.ts).
 */
export interface DlqReader {
  /** The dead-lettered records up to the end offsets seen now. */
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
  /** Closes the consumer. */
  close(): Promise<void>;
}

/** Minimal structured logger; the entry points pass one that writes JSON lines. */
export interface Logger {
  /** Normal operation. */
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Something degraded that the relay works around. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Something failed. */
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}
