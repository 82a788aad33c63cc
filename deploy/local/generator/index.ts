// The generator as a library: `generate(options)` returns every change it committed.
export {
  type Change,
  type Counts,
  type GenerateOptions,
  type GenerateResult,
  generate,
  type Op,
  type Progress,
} from './generate.ts';
export { type BadKind, KNOWN_FACILITIES, UNKNOWN_FACILITIES } from './rows.ts';
export { GEN_TABLES, type GenTable } from './state.ts';
export {
  isLegalTransition,
  LOAD_TRANSITIONS,
  SHIPMENT_TRANSITIONS,
  TRAILER_TRANSITIONS,
  TRANSITIONS,
} from './statuses.ts';
