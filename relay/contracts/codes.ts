// The verdict codes of the supply-chain transforms (ferry-error-code on dlq.transform records).
// One code per failed rule; transforms/supply-chain/engine.ts documents the order they are checked in.
export const ERROR_CODES = [
  'invalid_utf8',
  'invalid_json',
  'too_deep',
  'not_an_object',
  'missing_field',
  'wrong_type',
  'invalid_enum',
  'out_of_range',
  'empty',
  'too_long',
  'unknown_facility',
  'invalid_timestamp',
  'wrong_table',
  'illegal_transition',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Nesting limit of a change value (the top-level object is depth 1). */
export const MAX_DEPTH = 32;
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;
export const WEIGHT_MAX = 100_000;
export const LB_TO_KG = 0.45359237;
