// The Debezium change envelope (JSON converter, schemas disabled), as the supply-chain transforms
// read it: { before, after, source: { lsn, table, ts_ms, ... }, op, ts_ms }. Unknown members are
// ignored; the rules are the ones transforms/supply-chain/engine.ts applies, in the same order.
import * as v from 'valibot';
import { MAX_SAFE } from './codes.ts';
import { type FieldSpec, rowSchema } from './fields.ts';
import { MAX_MS } from './time.ts';

const integer = (min: number, max: number) =>
  v.pipe(
    v.number('wrong_type'),
    v.integer('out_of_range'),
    v.minValue(min, 'out_of_range'),
    v.maxValue(max, 'out_of_range'),
  );

export const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** An object that is not an array (valibot's object() alone accepts arrays). */
export const plainObject = v.custom<Record<string, unknown>>(isPlainObject, 'wrong_type');

export const OPS = ['c', 'u', 'd', 'r'] as const;
export const opSchema = v.pipe(v.string('wrong_type'), v.picklist(OPS, 'invalid_enum'));

export function sourceSchema(table: string) {
  return v.object({
    lsn: integer(0, MAX_SAFE),
    table: v.pipe(
      v.string('wrong_type'),
      v.check((t) => t === table, 'wrong_table'),
    ),
    ts_ms: integer(0, MAX_MS),
  });
}

/** op and source: checked first, before the row image. */
export function envelopeHeadSchema(table: string) {
  return v.object({ op: opSchema, source: v.pipe(plainObject, sourceSchema(table)) });
}

/** A whole change event for one table, as one schema (for JSON Schema export and documentation). */
export function envelopeSchema(table: string, fields: readonly FieldSpec[]) {
  const source = v.pipe(plainObject, sourceSchema(table));
  const row = v.pipe(plainObject, rowSchema(fields));
  const keyOnly = v.pipe(plainObject, rowSchema(fields.slice(0, 1)));
  return v.variant('op', [
    v.object({
      op: v.picklist(['c', 'r', 'u'], 'invalid_enum'),
      source,
      after: row,
      before: v.nullish(v.unknown()),
    }),
    v.object({ op: v.literal('d', 'invalid_enum'), source, before: keyOnly, after: v.nullish(v.unknown()) }),
  ]);
}
