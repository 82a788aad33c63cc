// Public types of Ferry's Wasm host: the broker side of Redpanda's data-transform ABI (docs/abi.md §2-§11).
// One host = one transform instance (the broker runs one VM per partition); `process` hands a batch to
// the guest and resolves when the guest asks for the next one (docs/abi.md §2.4).
import type { RestartBackoffOptions } from './restart-backoff.ts';

/** A record handed to the guest. `offset` is absolute; `timestamp` is milliseconds since the epoch. */
export interface HostRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Array<{ key: string; value: Uint8Array | null }>;
  offset: bigint;
  timestamp: number;
}

/** One input batch (docs/abi.md §3 `read_batch_header`). Empty batches are skipped, as the broker does (§2.6). */
export interface InputBatch {
  baseOffset: bigint;
  records: HostRecord[];
  /** Raft term written to `partition_leader_epoch`; default 0. */
  partitionLeaderEpoch?: number;
  /** Producer id / epoch / base sequence written to the header; default -1. */
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
}

/** One record the guest emitted (write_record / write_record_with_options, docs/abi.md §3, §5, §6). */
export interface OutputRecord {
  /** Resolved output topic name (index 0 = default output topic). */
  topic: string;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Array<{ key: string; value: Uint8Array | null }>;
}

export interface BatchResult {
  outputs: OutputRecord[];
  /**
   * Optional: hands the bytes behind `outputs` back to the host, which copies a later batch's outputs
   * into them (memory still in the CPU's cache, instead of a fresh allocation per batch). Call it once
   * nothing reads these outputs' keys, values or header values any more (the runner: once they are
   * acknowledged); they hold another batch's bytes afterwards. A result never released is
   * garbage-collected as usual. A second call does nothing.
   */
  release(): void;
}

export type LogLevel = 'info' | 'warn';

/** Restart backoff after a trap (docs/abi.md §11: 1 s doubling to 30 s, from 1 s again 10 s after a start). */
export type BackoffOptions = RestartBackoffOptions;

export interface TransformHostOptions {
  /** The .wasm bytes (preferred: the memory limit is enforced by the heap size, §10) or a compiled module. */
  module: Uint8Array | WebAssembly.Module;
  /** Transform name: argv[0] (§8) and the prefix of log lines. Default 'transform'. */
  name?: string;
  inputTopic: string;
  /** Output topics, in declared order; index 0 is the default output (§8, §9). 1 to 8 distinct names. */
  outputTopics: string[];
  /** User variables (§9 rules: <= 128, key without '=' nor REDPANDA_ prefix, non-empty values <= 2 KiB). */
  env?: Record<string, string>;
  /** Linear memory limit (data_transforms_per_function_memory_limit, §10). Default 2 MiB. */
  memoryLimitBytes?: number;
  /** Per-record CPU budget and start-up budget (data_transforms_runtime_limit_ms, §2.5, §10). Default 3000. */
  recordTimeoutMs?: number;
  backoff?: BackoffOptions;
  /**
   * Guest logs as the broker's log manager takes them (§8): one event per fd_write to stdout (info) or
   * stderr (warn), the message as written (newlines included) cut at `logLineMaxBytes`; a message that is
   * not valid UTF-8 or holds a control character other than newline and tab is dropped. Default: console.
   */
  onLog?(level: LogLevel, message: string): void;
  /** Called once per trap, after process() has been rejected with the same error. */
  onTrap?(error: Error): void;
  /** data_transforms_logging_line_max_bytes (§8). Default 1024. */
  logLineMaxBytes?: number;
  /**
   * Batches handed to the worker at once (1..16: each slot reserves address space, shared.ts). With more than one, the guest goes from one batch to the
   * next without waiting for the main thread (fewer cross-thread wake-ups per batch); results still settle
   * in submission order. 1 = one batch at a time, the broker's own hand-off. Default 4.
   */
  pipelineDepth?: number;
}

export interface HostStats {
  /** Instances started after a trap. */
  restarts: number;
  traps: number;
  batches: number;
  recordsIn: number;
  recordsOut: number;
  /** Guest linear memory size in bytes at the last batch boundary (0 before the first batch). */
  memoryBytes: number;
}

export interface TransformHost {
  /**
   * Hands one batch to the guest. Resolves with the outputs once the guest calls read_batch_header again.
   * May be called again before the previous call settles: up to `pipelineDepth` batches are handed over,
   * later calls wait their turn (FIFO), and every call settles in submission order.
   * Rejects with a FerryWasmError (code FERRY_WASM_TRAP, retryable) if the guest traps or exceeds the
   * per-record budget: the batch it trapped on (the error has the record offset), and every later batch
   * not finished yet (handed over or waiting), since none of them was processed; batches finished before
   * the trap keep their results. The instance is then restarted in the background with the broker's
   * backoff, and calls made after the trap wait for it. To retry, re-send the rejected batches in order.
   */
  process(batch: InputBatch): Promise<BatchResult>;
  /** Stops the worker (a blocked read_batch_header ends with "vm was shutdown", §3). Idempotent. */
  close(): Promise<void>;
  readonly stats: Readonly<HostStats>;
}

export type FerryWasmErrorCode =
  /** The guest trapped (unreachable, OOB, host exception, proc_exit, exited _start, CPU budget). Retryable. */
  | 'FERRY_WASM_TRAP'
  /** The module was refused at compile/instantiate (bad import, missing export, memory over the limit). */
  | 'FERRY_WASM_LINK'
  /** Bad host options (env vars or output topics breaking §9 rules). */
  | 'FERRY_WASM_CONFIG'
  /** process() after close(), or in flight (or waiting) when close() was called. */
  | 'FERRY_WASM_CLOSED';
