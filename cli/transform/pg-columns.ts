// `ferry transform init --table`: a table's columns as PostgreSQL describes them (information_schema
// for names, types, nullability and lengths; pg_enum for enum labels; single-column CHECK
// constraints for IN lists and integer bounds), turned into the rules of a new entity.
import pg from 'pg';
import { MAX_SAFE } from '../../relay/contracts/codes.ts';
import type { FieldSpec } from '../../relay/contracts/fields.ts';
import { CliError, networkReason } from '../errors.ts';

export interface Column {
  readonly name: string;
  /** information_schema data_type, or the enum's name for user-defined enums. */
  readonly type: string;
  readonly nullable: boolean;
  readonly maxLength: number | null;
  /** Labels of an enum type, or of a CHECK (col IN (...)) constraint. */
  readonly values: readonly string[] | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly primaryKey: boolean;
}

export interface TableShape {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly Column[];
}

const INT_RANGES: Readonly<Record<string, [number, number]>> = {
  smallint: [-32_768, 32_767],
  integer: [-2_147_483_648, 2_147_483_647],
  bigint: [-MAX_SAFE, MAX_SAFE],
};
/** Debezium writes these as JSON numbers here (decimal.handling.mode=double). */
const NUMBER_TYPES = ['numeric', 'real', 'double precision'];

/** `public.orders` or `orders` (schema public). */
export function parseTableName(arg: string): { schema: string; table: string } {
  const m = /^(?:([a-z_][a-z0-9_]*)\.)?([a-z_][a-z0-9_]*)$/.exec(arg);
  if (m === null)
    throw new CliError(`--table ${arg}: expected <schema>.<table> in lower case (e.g. public.orders)`, 2);
  return { schema: m[1] ?? 'public', table: m[2]! };
}

/** The labels of `col = ANY (ARRAY['a'::text, 'b'::text])` (how PostgreSQL stores `col IN (...)`). */
export function checkValues(definition: string): string[] | null {
  const m = /= ANY \(\(?ARRAY\[(.*)\]\)?(?:::[a-z ]+\[\])?\)/.exec(definition);
  if (m === null) return null;
  const values = [...m[1]!.matchAll(/'((?:[^']|'')*)'/g)].map((x) => x[1]!.replace(/''/g, "'"));
  return values.length > 0 ? values : null;
}

/**
 * Bounds of `col > n`, `col >= n`, `col < n`, `col <= n` (BETWEEN is stored as these). Rules bounds
 * are inclusive: for an integer column `> n` is `>= n + 1`; for a number column it is kept as `>= n`.
 */
export function checkBounds(
  definition: string,
  column: string,
  integer = true,
): { min?: number; max?: number } {
  const out: { min?: number; max?: number } = {};
  const re = new RegExp(`\\(?${column}\\)? (>=|>|<=|<) \\(?'?(-?\\d+)'?(?:::[a-z]+)?\\)?`, 'g');
  for (const [, op, n] of definition.matchAll(re)) {
    const value = Number(n);
    if (op === '>=') out.min = Math.max(out.min ?? -Infinity, value);
    if (op === '>') out.min = Math.max(out.min ?? -Infinity, integer ? value + 1 : value);
    if (op === '<=') out.max = Math.min(out.max ?? Infinity, value);
    if (op === '<') out.max = Math.min(out.max ?? Infinity, integer ? value - 1 : value);
  }
  return out;
}

/** Reads the table from PostgreSQL; a missing table or an unreachable server is a CliError. */
export async function readTable(
  connectionString: string,
  schema: string,
  table: string,
): Promise<TableShape> {
  let where: string;
  try {
    where = new URL(connectionString).host;
  } catch {
    throw new CliError('FERRY_PG_URL is not a URL (postgres://user:password@host:port/database)', 2);
  }
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    const reason = networkReason(error) ?? (error as Error).message;
    throw new CliError(
      `cannot connect to PostgreSQL at ${where}: ${reason} (is the stack up? ferry stack up)`,
    );
  }
  try {
    const columns = await client.query<{
      column_name: string;
      data_type: string;
      udt_schema: string;
      udt_name: string;
      is_nullable: 'YES' | 'NO';
      character_maximum_length: number | null;
    }>(
      `select column_name, data_type, udt_schema, udt_name, is_nullable, character_maximum_length
         from information_schema.columns where table_schema = $1 and table_name = $2
        order by ordinal_position`,
      [schema, table],
    );
    if (columns.rows.length === 0) throw new CliError(`table ${schema}.${table} not found in PostgreSQL`, 2);
    const relation = `${JSON.stringify(schema)}.${JSON.stringify(table)}`;
    const keys = await client.query<{ attname: string }>(
      `select a.attname from pg_index i
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
        where i.indrelid = $1::regclass and i.indisprimary`,
      [relation],
    );
    const enums = await client.query<{ schema: string; name: string; label: string }>(
      `select n.nspname as schema, t.typname as name, e.enumlabel as label
         from pg_enum e join pg_type t on t.oid = e.enumtypid join pg_namespace n on n.oid = t.typnamespace
        order by t.oid, e.enumsortorder`,
    );
    const checks = await client.query<{ column: string; definition: string }>(
      `select a.attname as column, pg_get_constraintdef(c.oid) as definition from pg_constraint c
         join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.conrelid = $1::regclass and c.contype = 'c' and array_length(c.conkey, 1) = 1`,
      [relation],
    );
    const pk = new Set(keys.rows.map((r) => r.attname));
    return {
      schema,
      table,
      columns: columns.rows.map((r): Column => {
        const isEnum = r.data_type === 'USER-DEFINED';
        const labels = isEnum
          ? enums.rows.filter((e) => e.schema === r.udt_schema && e.name === r.udt_name).map((e) => e.label)
          : [];
        let values: string[] | null = labels.length > 0 ? labels : null;
        const isNumber = NUMBER_TYPES.includes(r.data_type);
        let min: number | null = INT_RANGES[r.data_type]?.[0] ?? (isNumber ? -MAX_SAFE : null);
        let max: number | null = INT_RANGES[r.data_type]?.[1] ?? (isNumber ? MAX_SAFE : null);
        for (const c of checks.rows.filter((x) => x.column === r.column_name)) {
          values = checkValues(c.definition) ?? values;
          const b = checkBounds(c.definition, r.column_name, !isNumber);
          if (b.min !== undefined && min !== null) min = Math.max(min, b.min);
          if (b.max !== undefined && max !== null) max = Math.min(max, b.max);
        }
        return {
          name: r.column_name,
          type: isEnum ? r.udt_name : r.data_type,
          nullable: r.is_nullable === 'YES',
          maxLength: r.character_maximum_length,
          values,
          min,
          max,
          primaryKey: pk.has(r.column_name),
        };
      }),
    };
  } finally {
    await client.end().catch(() => {});
  }
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** What init does with a column the rules have no kind for. */
export interface Skipped {
  readonly column: string;
  readonly type: string;
}

/**
 * The entity's fields: the integer primary key first (kind id), then every column in table order.
 * NOT NULL makes a field required. Columns of a type the rules cannot check yet are left out (and
 * listed), so the clean event carries only what was validated.
 */
export function fieldsFromTable(shape: TableShape): { fields: FieldSpec[]; skipped: Skipped[] } {
  const keys = shape.columns.filter((c) => c.primaryKey);
  const key = keys[0];
  if (keys.length !== 1 || key === undefined || !(key.type in INT_RANGES)) {
    const what = keys.length === 0 ? 'no primary key' : `primary key (${keys.map((k) => k.name).join(', ')})`;
    throw new CliError(
      `${shape.schema}.${shape.table} has ${what}: a Ferry entity is keyed by one integer primary key column`,
      2,
    );
  }
  const fields: FieldSpec[] = [{ name: key.name, out: camel(key.name), kind: 'id', required: true }];
  const skipped: Skipped[] = [];
  for (const c of shape.columns) {
    if (c === key) continue;
    const base = { name: c.name, out: camel(c.name), required: !c.nullable };
    if (c.values !== null && c.type in INT_RANGES === false) {
      fields.push({ ...base, kind: 'enum', values: c.values });
    } else if (c.type in INT_RANGES) {
      fields.push({ ...base, kind: 'int', min: c.min ?? 0, max: c.max ?? MAX_SAFE });
    } else if (['text', 'character varying', 'character', 'uuid', 'citext'].includes(c.type)) {
      fields.push({ ...base, kind: 'string', maxLength: c.maxLength ?? (c.type === 'uuid' ? 36 : 1024) });
    } else if (NUMBER_TYPES.includes(c.type)) {
      fields.push({ ...base, kind: 'number', min: c.min ?? -MAX_SAFE, max: c.max ?? MAX_SAFE });
    } else if (c.type === 'boolean') {
      fields.push({ ...base, kind: 'bool' });
    } else if (c.type === 'timestamp with time zone') {
      // Debezium writes timestamptz as an ISO-8601 string (ZonedTimestamp).
      fields.push({ ...base, kind: 'timestamp' });
    } else {
      skipped.push({ column: c.name, type: c.type });
    }
  }
  return { fields, skipped };
}
