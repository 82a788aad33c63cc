// `ferry transform init`: the files of a new entity transform, from its rules. The fixtures are
// generated from the same rules: one valid change per op, one broken row per rule, each with the
// verdict the valibot contract gives it, so `ferry transform test` proves the built module agrees.
import { relative } from 'node:path';
import { MAX_SAFE } from '../../relay/contracts/codes.ts';
import type { EntityContract } from '../../relay/contracts/entity.ts';
import { FACILITIES } from '../../relay/contracts/facilities.ts';
import type { FieldSpec } from '../../relay/contracts/fields.ts';
import { judgeChange } from '../../relay/contracts/verdict.ts';
import type { FixtureCase } from './fixtures.ts';
import { REPO_ROOT } from './project.ts';
import { assemblyScriptRules } from './rules-codegen.ts';

export const DLQ_TOPIC = 'dlq.transform';
export const SAMPLE_TS_MS = 1_795_237_152_345;
const SAMPLE_TIME = '2026-11-21T04:59:12.345678Z';

/** A valid value for a field (the first of its enum, a known facility, a bound-respecting int). */
export function sampleValue(f: FieldSpec, id: number): unknown {
  switch (f.kind) {
    case 'id':
      return id;
    case 'int': {
      const min = f.min ?? 0;
      const max = f.max ?? MAX_SAFE;
      return min <= 1 && 1 <= max ? 1 : min;
    }
    case 'string':
      return `${f.name}-${id}`.slice(0, f.maxLength ?? 64);
    case 'enum':
      return f.values?.[0] ?? '';
    case 'facility':
      return FACILITIES[0]!.code;
    case 'weight':
      return 1250.5;
    case 'timestamp':
      return SAMPLE_TIME;
    case 'number': {
      const min = f.min ?? 0;
      const max = f.max ?? MAX_SAFE;
      return min <= 1.5 && 1.5 <= max ? 1.5 : min;
    }
    case 'bool':
      return true;
  }
}

export function sampleRow(c: EntityContract, id: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const f of c.fields) row[f.name] = sampleValue(f, id);
  for (const f of c.fields) if (f.kind === 'weight' && f.unit) row[f.unit] = 'kg';
  return row;
}

/** A Debezium envelope as the connector writes it (JSON converter without schemas). */
export function envelope(
  c: EntityContract,
  op: 'c' | 'u' | 'd' | 'r',
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
  lsn: number,
): Record<string, unknown> {
  return {
    before,
    after,
    source: {
      version: '3.6.1.Final',
      connector: 'postgresql',
      name: 'cdc',
      ts_ms: SAMPLE_TS_MS,
      snapshot: op === 'r' ? 'true' : 'false',
      db: 'supply_chain',
      schema: 'public',
      table: c.table,
      txId: 771,
      lsn,
      xmin: null,
    },
    transaction: null,
    op,
    ts_ms: SAMPLE_TS_MS + 55,
  };
}

/** The case for one change, with the verdict the contract gives it. */
export function caseFor(c: EntityContract, name: string, value: Record<string, unknown>): FixtureCase {
  const keyName = c.fields[0]!.name;
  const image = (value.after ?? value.before) as Record<string, unknown> | null;
  const key = JSON.stringify({ [keyName]: image?.[keyName] ?? null });
  const verdict = judgeChange(c, new TextEncoder().encode(JSON.stringify(value)));
  const expect: FixtureCase['expect'] =
    verdict.verdict === 'clean'
      ? {
          outputs: [
            {
              topic: `clean.${c.table}`,
              key: verdict.key,
              value: JSON.parse(JSON.stringify(verdict.event)),
              headers: { 'ferry-event-id': verdict.eventId, 'ferry-schema': c.schema },
            },
          ],
        }
      : verdict.verdict === 'dlq'
        ? { dlq: { code: verdict.code, field: verdict.field } }
        : { outputs: [] };
  return { name, input: { key, value }, expect };
}

/** A value that breaks the field's rule, with the rule's name; undefined when there is none to break. */
function brokenValue(f: FieldSpec): [string, unknown] | undefined {
  switch (f.kind) {
    case 'enum':
      return ['a value outside the enum', `not_a_${f.name}`];
    case 'int':
      if ((f.max ?? MAX_SAFE) < MAX_SAFE) return ['above its maximum', (f.max ?? 0) + 1];
      if ((f.min ?? 0) > -MAX_SAFE) return ['below its minimum', (f.min ?? 0) - 1];
      return undefined;
    case 'string':
      return (f.maxLength ?? 64) < 100_000 ? ['too long', 'x'.repeat((f.maxLength ?? 64) + 1)] : undefined;
    case 'timestamp':
      return ['not a timestamp', 'yesterday'];
    case 'facility':
      return ['an unknown facility', 'NOPE9'];
    case 'weight':
      return ['not positive', -1];
    case 'id':
      return ['zero', 0];
    case 'number':
      if ((f.max ?? MAX_SAFE) < MAX_SAFE) return ['above its maximum', (f.max ?? 0) + 0.5];
      if ((f.min ?? 0) > -MAX_SAFE) return ['below its minimum', (f.min ?? 0) - 0.5];
      return undefined;
    case 'bool':
      return undefined;
  }
}

export function fixtureCases(c: EntityContract): { valid: FixtureCase[]; invalid: FixtureCase[] } {
  const row = sampleRow(c, 1);
  const status = c.fields.find((f) => f.name === c.statusField);
  const updated = { ...row };
  const [from, tos] = Object.entries(c.transitions).find(([, to]) => to.length > 0) ?? [];
  if (status !== undefined && from !== undefined && tos !== undefined) {
    row[status.name] = from;
    updated[status.name] = tos[0];
  }
  const valid = [
    caseFor(c, 'an insert is cleaned', envelope(c, 'c', null, row, 1000)),
    caseFor(c, 'an update is cleaned', envelope(c, 'u', row, updated, 1001)),
    caseFor(c, 'a delete carries only the key', envelope(c, 'd', row, null, 1002)),
    caseFor(c, 'a snapshot row is cleaned', envelope(c, 'r', null, row, 1003)),
    {
      name: 'a tombstone is dropped',
      input: { key: JSON.stringify({ id: 1 }), value: null },
      expect: { outputs: [] },
    },
  ];
  const invalid: FixtureCase[] = [];
  for (const f of c.fields) {
    if (f.required) {
      const { [f.name]: _, ...without } = row;
      invalid.push(caseFor(c, `${f.name} missing`, envelope(c, 'c', null, without, 2000 + invalid.length)));
    }
    const broken = brokenValue(f);
    if (broken !== undefined) {
      const bad = { ...row, [f.name]: broken[1] };
      invalid.push(caseFor(c, `${f.name} ${broken[0]}`, envelope(c, 'c', null, bad, 2000 + invalid.length)));
    }
    const wrongType = { ...row, [f.name]: typeof sampleValue(f, 1) === 'string' ? 42 : 'forty-two' };
    invalid.push(
      caseFor(c, `${f.name} of the wrong type`, envelope(c, 'c', null, wrongType, 2000 + invalid.length)),
    );
  }
  if (status?.values !== undefined) {
    // A status change the life cycle does not list (every change is illegal without one).
    const values = status.values;
    for (const a of values) {
      const b = values.find((x) => x !== a && !(c.transitions[a] ?? []).includes(x));
      if (b === undefined) continue;
      invalid.push(
        caseFor(
          c,
          `${status.name} ${a} -> ${b} is not in the life cycle`,
          envelope(c, 'u', { ...row, [status.name]: a }, { ...row, [status.name]: b }, 3000),
        ),
      );
      break;
    }
  }
  invalid.push({
    name: 'not JSON',
    input: { key: null, value: '{"op":' },
    expect: { dlq: { code: 'invalid_json', field: '' } },
  });
  invalid.push(
    caseFor(c, 'another table', {
      ...envelope(c, 'c', null, row, 4000),
      source: { ...(envelope(c, 'c', null, row, 4000).source as object), table: `not_${c.table}` },
    }),
  );
  return { valid, invalid };
}

export function transformYaml(c: EntityContract, name: string, inputTopic: string): string {
  return `# rpk's transform project file (the keys of rpk's project.Config). \`ferry transform deploy\` passes
# every value to \`rpk transform deploy\` as flags (or to the portable runner with --portable).
#
# No \`language\` on purpose: the module is AssemblyScript, built by \`ferry transform build\`, a
# language rpk does not know, so \`rpk transform build\` must not run on this folder.
name: ${name}
description: Validates Debezium changes of ${inputTopic} into clean.${c.table}; invalid records go to ${DLQ_TOPIC}.
input-topic: ${inputTopic}
output-topics:
  - clean.${c.table} # index 0: the default output (clean events)
  - ${DLQ_TOPIC} # index 1: dead letters with ferry-error-* headers
env:
  # Used only when the transform is deployed with a single output topic.
  FERRY_DLQ_TOPIC: ${DLQ_TOPIC}
`;
}

export function indexSource(c: EntityContract): string {
  return `// ${c.table}: Debezium changes -> clean.${c.table}, invalid records -> ${DLQ_TOPIC}.
// The rules live in rules.json (one declaration: the Wasm table in rules.ts is generated from it by
// \`ferry transform build\`, and the valibot contract is built from it). The engine validates each
// column in order, stamps ferry-event-id and writes the clean event; write your own handler with
// the SDK (onRecordWritten from '../sdk') when an entity needs more than the rules can say.
import { runEntityTransform } from '../supply-chain/run';
import { spec } from './rules';

runEntityTransform(spec);
`;
}

export function testSource(dir: string, name: string): string {
  const lib = relative(dir, `${REPO_ROOT}cli/transform/test-run.ts`).replace(/\\/g, '/');
  return `// Runs fixtures/*.json through this transform's built module in Ferry's broker-faithful host,
// as \`ferry transform test ${name}\` does.
import { expect, it } from 'vitest';
import { testTransform } from '${lib.startsWith('.') ? lib : `./${lib}`}';

it('${name}: every fixture record gives what it states', async () => {
  const report = await testTransform(import.meta.dirname);
  expect(report.failures, report.text).toEqual([]);
}, 300_000);
`;
}

/** The rules.json document of a contract (no life cycle keys when it has none). */
export function rulesDocument(c: EntityContract): Record<string, unknown> {
  const { statusField, transitions, ...rest } = c;
  return statusField === '' ? { ...rest } : { ...rest, statusField, transitions };
}

/** The rules a transform starts with when no table is named: a key, a name, a creation time. */
export function starterRules(table: string): EntityContract {
  return {
    table,
    entity: singular(table),
    schema: `ferry.${table}.v1`,
    fields: [
      { name: 'id', out: 'id', kind: 'id', required: true },
      { name: 'name', out: 'name', kind: 'string', required: true, maxLength: 200 },
      { name: 'created_at', out: 'createdAt', kind: 'timestamp', required: true },
    ],
    statusField: '',
    transitions: {},
  };
}

/** orders -> order, categories -> category (the entity's name in clean events; edit it in rules.json). */
export function singular(table: string): string {
  if (table.endsWith('ies')) return `${table.slice(0, -3)}y`;
  if (table.endsWith('ses')) return table.slice(0, -2);
  return table.endsWith('s') && !table.endsWith('ss') ? table.slice(0, -1) : table;
}

/** Every file of a new transform folder, by path relative to it. */
export function scaffoldFiles(
  c: EntityContract,
  options: { dir: string; name: string; inputTopic: string },
): Map<string, string> {
  const { valid, invalid } = fixtureCases(c);
  const json = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`;
  return new Map([
    ['transform.yaml', transformYaml(c, options.name, options.inputTopic)],
    ['rules.json', json(rulesDocument(c))],
    ['rules.ts', assemblyScriptRules(c)],
    ['index.ts', indexSource(c)],
    ['fixtures/valid.json', json(valid)],
    ['fixtures/invalid.json', json(invalid)],
    [`${options.name}.test.ts`, testSource(options.dir, options.name)],
  ]);
}
