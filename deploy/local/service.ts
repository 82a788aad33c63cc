// The shape every local service shares, so `stack` can start, probe and stop them uniformly.
import type { ServiceName } from './config.ts';
import type { Health } from './health.ts';
import type { Say } from './install.ts';

export interface Service {
  name: ServiceName;
  port: number;
  /** Writes config and initialises the data dir; idempotent. */
  prepare(say: Say): Promise<void>;
  /** Spawns the process detached and returns its pid. */
  start(): number;
  /** Readiness probe used while waiting after start. */
  ready(): Promise<Health>;
  /** Runs once the service is ready (schema, connector registration); idempotent. */
  provision?(say: Say): Promise<void>;
  /** How long start + ready may take. */
  startTimeoutMs: number;
  /** The polite stop signal (TERM unless the server wants another). */
  stopSignal: NodeJS.Signals;
}
