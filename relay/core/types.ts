// The core's public types, for a program that wires a relay or writes an adapter: the contracts
// between the core and its adapters, the resolved options, the error type and the relay itself.
export type * from './contracts.ts';
export { FerryError, type FerryErrorCode, isFerryError, isRetryableError } from './errors.ts';
export type * from './options.ts';
export type { BreakerStateName } from './policy.ts';
export type { Redactor } from './redact.ts';
export type {
  CreateRelayOptions,
  DedupeStores,
  PartitionState,
  Relay,
  RelayState,
  ReplayOutcome,
} from './relay.ts';
export type { ParkedKey, SinkMode, SinkSettings, SinkState } from './sink-runner.ts';
