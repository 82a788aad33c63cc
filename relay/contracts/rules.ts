// The one declaration of an entity's rules: transforms/<name>/rules.json (table, entity, schema,
// fields in check order, status life cycle). The valibot contract is built from it here, and the
// AssemblyScript table the Wasm transform runs (transforms/<name>/rules.ts) is generated from the
// same file (`ferry transform build`), so the two cannot drift. A bad declaration is answered with
// every problem, each named by its path, never with a crash.
import * as v from 'valibot';
import { FerryError } from '../core/errors.ts';
import { MAX_SAFE } from './codes.ts';
import type { EntityContract } from './entity.ts';
import type { FieldKind, FieldSpec } from './fields.ts';

export const FIELD_KINDS: readonly FieldKind[] = [
  'id',
  'string',
  'enum',
  'facility',
  'weight',
  'int',
  'timestamp',
  'number',
  'bool',
];

const name = v.pipe(v.string(), v.regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and _'));
const bound = v.pipe(v.number(), v.minValue(-MAX_SAFE), v.maxValue(MAX_SAFE));

const fieldSchema = v.strictObject({
  name,
  out: v.pipe(v.string(), v.regex(/^([A-Za-z_][A-Za-z0-9_]*)?$/, 'an identifier, or "" (not emitted)')),
  kind: v.picklist(FIELD_KINDS, `one of ${FIELD_KINDS.join(', ')}`),
  required: v.boolean(),
  min: v.optional(bound),
  max: v.optional(bound),
  maxLength: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000))),
  values: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1))),
  unit: v.optional(name),
});

const rulesSchema = v.strictObject({
  table: name,
  entity: v.pipe(v.string(), v.minLength(1), v.regex(/^[^"\\]*$/, 'no quotes or backslashes')),
  schema: v.pipe(v.string(), v.minLength(1), v.regex(/^[^"\\]*$/, 'no quotes or backslashes')),
  statusField: v.optional(v.string()),
  fields: v.pipe(v.array(fieldSchema), v.minLength(1)),
  transitions: v.optional(v.record(v.string(), v.array(v.string()))),
});

export type EntityRules = v.InferOutput<typeof rulesSchema>;

/** Every problem of a rules declaration, each as `<path>: <what is wrong>`; [] when it is valid. */
export function rulesProblems(doc: unknown): string[] {
  const parsed = v.safeParse(rulesSchema, doc);
  if (!parsed.success) {
    return parsed.issues.map((i) => {
      const path = (i.path ?? []).map((p) => String(p.key)).join('.');
      return `${path || '(root)'}: ${i.message}`;
    });
  }
  const r = parsed.output;
  const problems: string[] = [];
  const byName = new Map(r.fields.map((f) => [f.name, f] as const));
  if (byName.size !== r.fields.length) problems.push('fields: two fields have the same name');
  const outs = r.fields.map((f) => f.out).filter((o) => o !== '');
  if (new Set(outs).size !== outs.length) problems.push('fields: two fields have the same out name');
  r.fields.forEach((f, i) => {
    const at = `fields.${i} (${f.name})`;
    if ((i === 0) !== (f.kind === 'id'))
      problems.push(`${at}: the first field, and only it, is the row's integer key (kind id)`);
    if (i === 0 && !f.required) problems.push(`${at}: the key is required`);
    if (f.kind === 'enum' && f.values === undefined) problems.push(`${at}: an enum needs values`);
    if (f.kind !== 'enum' && f.values !== undefined) problems.push(`${at}: values belong to enums only`);
    if (f.kind !== 'string' && f.maxLength !== undefined)
      problems.push(`${at}: maxLength belongs to strings only`);
    const bounded = f.kind === 'int' || f.kind === 'number';
    if (!bounded && (f.min !== undefined || f.max !== undefined))
      problems.push(`${at}: min and max belong to ints and numbers only`);
    if (bounded && (f.min ?? 0) > (f.max ?? MAX_SAFE)) problems.push(`${at}: min is above max`);
    if (f.kind === 'weight') {
      const unit = f.unit === undefined ? undefined : byName.get(f.unit);
      if (unit === undefined || unit.kind !== 'enum' || !unit.required || !unit.values?.includes('lb'))
        problems.push(`${at}: a weight names its unit field, a required enum with "kg" and "lb"`);
    } else if (f.unit !== undefined) problems.push(`${at}: unit belongs to weights only`);
  });
  const statusName = r.statusField ?? '';
  const status = statusName === '' ? undefined : byName.get(statusName);
  if (statusName !== '' && status?.kind !== 'enum')
    problems.push(`statusField: "${statusName}" is not an enum field`);
  const transitions = r.transitions ?? {};
  if (statusName === '' && Object.keys(transitions).length > 0)
    problems.push('transitions: a life cycle needs a statusField');
  if (status?.kind === 'enum') {
    const values = status.values ?? [];
    for (const [from, tos] of Object.entries(transitions)) {
      if (!values.includes(from)) problems.push(`transitions.${from}: not a value of ${statusName}`);
      for (const to of tos)
        if (!values.includes(to))
          problems.push(`transitions.${from}: "${to}" is not a value of ${statusName}`);
    }
  }
  return problems;
}

/** The contract an entity's rules declare. Throws FERRY_CONFIG_INVALID with every problem. */
export function entityFromRules(doc: unknown, source = 'rules'): EntityContract {
  const problems = rulesProblems(doc);
  if (problems.length > 0)
    throw new FerryError('FERRY_CONFIG_INVALID', `${source} is invalid:\n  ${problems.join('\n  ')}`);
  const r = v.parse(rulesSchema, doc);
  const fields: FieldSpec[] = r.fields.map((f) => ({ ...f }));
  return {
    table: r.table,
    entity: r.entity,
    schema: r.schema,
    fields,
    statusField: r.statusField ?? '',
    transitions: r.transitions ?? {},
  };
}
