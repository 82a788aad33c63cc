// One supply-chain entity's contract: its columns (same order as the Wasm transform's table), its
// status life cycle, the Debezium envelope it accepts and the clean event it produces.
import * as v from 'valibot';
import { MAX_SAFE } from './codes.ts';
import { envelopeSchema } from './debezium.ts';
import { type FieldSpec, rowSchema } from './fields.ts';

export interface EntityContract {
  /** Source table and clean topic suffix: cdc.public.<table> -> clean.<table>. */
  readonly table: string;
  /** Singular name in clean events. */
  readonly entity: string;
  /** ferry-schema header and the event's schema field. */
  readonly schema: string;
  readonly fields: readonly FieldSpec[];
  readonly statusField: string;
  /** Legal status changes (a status staying the same is always legal). */
  readonly transitions: Readonly<Record<string, readonly string[]>>;
}

const facilitySchema = v.object({
  code: v.string(),
  region: v.string(),
  timeZone: v.pipe(v.string(), v.description('IANA time zone of the facility')),
});

const utc = v.pipe(
  v.string(),
  v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
  v.description('UTC, millisecond precision (ISO-8601)'),
);
const safeInt = (min: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(MAX_SAFE));

function outputSchema(f: FieldSpec) {
  switch (f.kind) {
    case 'id':
      return safeInt(1);
    case 'int':
      return v.pipe(v.number(), v.integer(), v.minValue(f.min ?? 0), v.maxValue(f.max ?? MAX_SAFE));
    case 'weight':
      return v.pipe(v.number(), v.gtValue(0), v.description('kilograms, rounded to grams'));
    case 'string':
      return v.pipe(v.string(), v.minLength(1), v.maxLength(f.maxLength ?? 64));
    case 'enum':
      return v.picklist(f.values ?? []);
    case 'facility':
      return facilitySchema;
    case 'timestamp':
      return utc;
    case 'number':
      return v.pipe(v.number(), v.minValue(f.min ?? 0), v.maxValue(f.max ?? MAX_SAFE));
    case 'bool':
      return v.boolean();
  }
}

/** The data object of a clean event: one member per emitted column, camelCase, normalised. */
export function cleanDataSchema(c: EntityContract) {
  const entries: Record<string, v.GenericSchema> = {};
  for (const f of c.fields) {
    if (f.out === '') continue;
    entries[f.out] = f.required ? outputSchema(f) : v.nullable(outputSchema(f));
  }
  return v.object(entries);
}

/** The record value on clean.<table>. */
export function cleanEventSchema(c: EntityContract) {
  const statuses = c.fields.find((f) => f.name === c.statusField)?.values ?? [];
  return v.pipe(
    v.object({
      eventId: v.pipe(v.string(), v.description('pg:<table>:<lsn>:<id>; also the ferry-event-id header')),
      schema: v.literal(c.schema),
      entity: v.literal(c.entity),
      op: v.picklist(['created', 'updated', 'deleted', 'snapshot']),
      id: safeInt(1),
      lsn: safeInt(0),
      occurredAt: v.pipe(utc, v.description('commit time at the source (source.ts_ms)')),
      data: v.pipe(v.nullable(cleanDataSchema(c)), v.description('null for deleted')),
      previousStatus: v.pipe(
        v.nullable(v.picklist(statuses)),
        v.description('before.status on updates, when known'),
      ),
    }),
    v.title(`clean.${c.table}`),
    v.description(`A validated, normalised ${c.entity} change (${c.schema}).`),
  );
}

export function rowImageSchema(c: EntityContract) {
  return rowSchema(c.fields);
}

export function changeEnvelopeSchema(c: EntityContract) {
  return v.pipe(
    envelopeSchema(c.table, c.fields),
    v.title(`cdc.public.${c.table}`),
    v.description(`A Debezium change event of public.${c.table} that the ${c.table} transform accepts.`),
  );
}
