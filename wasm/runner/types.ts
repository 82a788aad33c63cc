// Options of the portable runner: input topic -> Wasm transform -> output topics, beside Apache Kafka.
import type { BackoffOptions, LogLevel } from '../host/types.ts';
import type { KafkaConnection } from '../kafka/connection.ts';
import type { RunnerMetricsSnapshot } from './metrics.ts';

export interface TransformRunnerOptions {
  /** The .wasm bytes. */
  module: Uint8Array;
  /** Transform name (argv[0], log prefix, default consumer group suffix). */
  name: string;
  inputTopic: string;
  /** Index 0 is the default output topic. Created if missing. */
  outputTopics: string[];
  env?: Record<string, string>;
  brokers?: string[];
  /** TLS and SASL to the brokers (absent: plaintext). */
  connection?: KafkaConnection;
  /** Consumer group; default `ferry-transform-<name>`. */
  groupId?: string;
  clientId?: string;
  /** Where a group without committed offsets starts: the input's beginning (default) or its end. */
  startFrom?: 'earliest' | 'latest';
  /** Most records handed to the guest in one batch. Default 1000. */
  maxBatchRecords?: number;
  /**
   * Batches per partition in the transform host at once, transformed while the previous batch's outputs
   * are produced (outputs are still produced, acknowledged and committed in input order). Default 4.
   */
  pipelineDepth?: number;
  /** Records buffered across partitions before the input is paused. Default 10,000. */
  maxBufferedRecords?: number;
  memoryLimitBytes?: number;
  recordTimeoutMs?: number;
  backoff?: BackoffOptions;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long the broker waits for every member to re-join during a rebalance (default 15 s). */
  rebalanceTimeoutMs?: number;
  /** stop(): the bound on each step (lanes, final commit, closing the clients), default 15 s. */
  stopTimeoutMs?: number;
  /** How often lag is measured and onMetrics called. Default 5000 ms; 0 = never. */
  metricsIntervalMs?: number;
  onMetrics?(snapshot: RunnerMetricsSnapshot): void;
  onLog?(level: LogLevel, line: string): void;
  /** Runner events (assignments, traps, commit failures), one line each. */
  onEvent?(line: string): void;
}

export interface TransformRunner {
  /** Joins the group and starts processing. Resolves once the consumer is running. */
  start(): Promise<void>;
  /**
   * Graceful stop: stops fetching, lets every partition finish the batches in its host (outputs
   * acknowledged, offsets committed), closes the instances, leaves the group. Idempotent.
   */
  stop(): Promise<void>;
  metrics(): RunnerMetricsSnapshot;
  prometheus(): string;
  /** Resolves when the runner stops, rejects on a fatal error (a module the host refuses). */
  readonly done: Promise<void>;
}
