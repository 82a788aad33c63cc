// A row is described as a list of columns, the same list (same order) the Wasm transform holds in
// transforms/<entity>/index.ts. Valibot schemas are built from it; every message is the error code
// the transform puts in ferry-error-code, so the first issue maps straight to a verdict.
import * as v from 'valibot';
import { LB_TO_KG, MAX_SAFE, WEIGHT_MAX } from './codes.ts';
import { facilityByCode } from './facilities.ts';
import { isTimestamp, parseTimestamp } from './time.ts';

export type FieldKind =
  | 'id'
  | 'string'
  | 'enum'
  | 'facility'
  | 'weight'
  | 'int'
  | 'timestamp'
  | 'number'
  | 'bool';

export interface FieldSpec {
  /** Column name in the Debezium image. */
  readonly name: string;
  /** Key in the clean event's data; '' = folded into another field (a weight's unit). */
  readonly out: string;
  readonly kind: FieldKind;
  readonly required: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly maxLength?: number;
  readonly values?: readonly string[];
  /** For weights: the column holding 'kg' | 'lb'. */
  readonly unit?: string;
}

const integer = (min: number, max: number) =>
  v.pipe(
    v.number('wrong_type'),
    v.integer('out_of_range'),
    v.minValue(min, 'out_of_range'),
    v.maxValue(max, 'out_of_range'),
  );

/** The schema of a present, non-null value of this column. */
export function valueSchema(f: FieldSpec) {
  switch (f.kind) {
    case 'id':
      return integer(1, MAX_SAFE);
    case 'int':
      return integer(f.min ?? 0, f.max ?? MAX_SAFE);
    case 'weight':
      return v.pipe(
        v.number('wrong_type'),
        v.gtValue(0, 'out_of_range'),
        v.maxValue(WEIGHT_MAX, 'out_of_range'),
      );
    case 'string':
      return v.pipe(
        v.string('wrong_type'),
        v.minLength(1, 'empty'),
        v.maxLength(f.maxLength ?? 64, 'too_long'),
      );
    case 'enum':
      return v.pipe(v.string('wrong_type'), v.picklist(f.values ?? [], 'invalid_enum'));
    case 'facility':
      return v.pipe(
        v.string('wrong_type'),
        v.check((code) => facilityByCode(code) !== undefined, 'unknown_facility'),
      );
    case 'timestamp':
      return v.pipe(v.string('wrong_type'), v.check(isTimestamp, 'invalid_timestamp'));
    case 'number':
      return v.pipe(
        v.number('wrong_type'),
        v.minValue(f.min ?? 0, 'out_of_range'),
        v.maxValue(f.max ?? MAX_SAFE, 'out_of_range'),
      );
    case 'bool':
      return v.boolean('wrong_type');
  }
}

/** A Debezium row image: required columns must be present and non-null; the others may be null. */
export function rowSchema(fields: readonly FieldSpec[]) {
  const entries: Record<string, v.GenericSchema> = {};
  for (const f of fields) entries[f.name] = f.required ? valueSchema(f) : v.nullish(valueSchema(f));
  return v.object(entries);
}

/** A row validated by rowSchema, converted to the clean event's data object. */
export function cleanData(
  fields: readonly FieldSpec[],
  row: Record<string, unknown>,
): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.out === '') continue;
    const value = row[f.name];
    if (value === null || value === undefined) {
      data[f.out] = null;
      continue;
    }
    switch (f.kind) {
      case 'weight': {
        const kg = row[f.unit ?? ''] === 'lb' ? (value as number) * LB_TO_KG : (value as number);
        data[f.out] = Math.round(kg * 1000) / 1000;
        break;
      }
      case 'facility':
        data[f.out] = { ...facilityByCode(value as string) };
        break;
      case 'timestamp':
        data[f.out] = new Date(parseTimestamp(value as string) ?? 0).toISOString();
        break;
      default:
        data[f.out] = value;
    }
  }
  return data;
}
