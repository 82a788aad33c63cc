// Public entry of the Wasm host.
export { FerryWasmError, isFerryWasmError, isWasmTrap, type TrapKind } from './errors.ts';
export { createTransformHost } from './host.ts';
export { encodeWriteOptions, parseWriteOptions } from './options.ts';
export { decodePayload, encodePayload, isValidPayload, type PayloadRecord } from './payload.ts';
export { MAX_PIPELINE_DEPTH } from './shared.ts';
export type * from './types.ts';
