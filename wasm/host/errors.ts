// Errors of the Wasm host: a brand, a guard, a code and a retry flag (docs/style.md §4).
import type { FerryWasmErrorCode } from './types.ts';

const BRAND = Symbol.for('ferry.wasm.error');

/** Why a trap happened, for logs and metrics. */
export type TrapKind = 'trap' | 'out_of_fuel' | 'proc_exit' | 'exited' | 'shutdown' | 'worker';

export interface FerryWasmErrorInit {
  code: FerryWasmErrorCode;
  message: string;
  retryable?: boolean;
  kind?: TrapKind;
  /** Absolute offset of the record being processed when the guest trapped, if any. */
  offset?: bigint;
  cause?: unknown;
}

export class FerryWasmError extends Error {
  readonly [BRAND] = true;
  readonly code: FerryWasmErrorCode;
  readonly retryable: boolean;
  readonly kind: TrapKind | undefined;
  readonly offset: bigint | undefined;
  /** For a trap: how long the host waits before the restarted instance takes batches (§11 backoff). */
  retryAfterMs: number | undefined;

  constructor(init: FerryWasmErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'FerryWasmError';
    this.code = init.code;
    this.retryable = init.retryable ?? init.code === 'FERRY_WASM_TRAP';
    this.kind = init.kind;
    this.offset = init.offset;
    this.retryAfterMs = undefined;
  }
}

export function isFerryWasmError(error: unknown): error is FerryWasmError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

export function isWasmTrap(error: unknown): error is FerryWasmError {
  return isFerryWasmError(error) && error.code === 'FERRY_WASM_TRAP';
}
