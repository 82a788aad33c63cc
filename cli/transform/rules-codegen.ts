// The AssemblyScript side of an entity's one rules declaration: transforms/<name>/rules.json becomes
// transforms/<name>/rules.ts, the EntitySpec table the supply-chain engine runs. AssemblyScript
// cannot read JSON at compile time, so the table is generated (by `ferry transform init` and before
// every `ferry transform build`) and a unit test fails when a committed rules.ts is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_SAFE } from '../../relay/contracts/codes.ts';
import type { EntityContract } from '../../relay/contracts/entity.ts';
import type { FieldKind } from '../../relay/contracts/fields.ts';
import { entityFromRules } from '../../relay/contracts/rules.ts';
import { CliError } from '../errors.ts';

export const RULES_JSON = 'rules.json';
export const RULES_TS = 'rules.ts';

const KIND_CONSTANT: Readonly<Record<FieldKind, string>> = {
  id: 'KIND_ID',
  string: 'KIND_STRING',
  enum: 'KIND_ENUM',
  facility: 'KIND_FACILITY',
  weight: 'KIND_WEIGHT',
  int: 'KIND_INT',
  timestamp: 'KIND_TIMESTAMP',
  number: 'KIND_NUMBER',
  bool: 'KIND_BOOL',
};

/** A single-quoted AssemblyScript string literal. */
function str(s: string): string {
  const body = JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${body}'`;
}

const list = (values: readonly string[]) => `[${values.map(str).join(', ')}]`;
const num = (n: number) => (n === MAX_SAFE ? 'MAX_SAFE_INTEGER' : String(n));

/** The generated rules.ts for an entity (`spec` is what runEntityTransform takes). */
export function assemblyScriptRules(c: EntityContract, sourceName = RULES_JSON): string {
  const kinds = new Set<string>();
  let usesMaxSafe = false;
  const fields = c.fields.map((f) => {
    kinds.add(KIND_CONSTANT[f.kind]);
    let line = `  new Field(${str(f.name)}, ${str(f.out)}, ${KIND_CONSTANT[f.kind]}, ${f.required})`;
    if (f.kind === 'string' && f.maxLength !== undefined) line += `.length(${f.maxLength})`;
    if ((f.kind === 'int' || f.kind === 'number') && (f.min !== undefined || f.max !== undefined)) {
      const min = f.min ?? 0;
      const max = f.max ?? MAX_SAFE;
      usesMaxSafe ||= min === MAX_SAFE || max === MAX_SAFE;
      line += `.range(${num(min)}, ${num(max)})`;
    }
    if (f.kind === 'enum') line += `.oneOf(${list(f.values ?? [])})`;
    if (f.kind === 'weight') line += `.unit(${c.fields.findIndex((u) => u.name === f.unit)})`;
    return `${line},`;
  });
  let tail = ']);';
  const statusIndex = c.fields.findIndex((f) => f.name === c.statusField);
  if (c.statusField !== '' && statusIndex >= 0) {
    // A status without an entry (or with an empty one) allows no change: leave those out.
    const from = Object.entries(c.transitions).filter(([, to]) => to.length > 0);
    tail =
      `]).withTransitions(\n  ${statusIndex},\n  ${list(from.map(([f]) => f))},\n  [\n` +
      from.map(([, to]) => `    ${list(to)},\n`).join('') +
      '  ],\n);';
  }
  const imports = ['EntitySpec', 'Field', ...[...kinds].sort(), ...(usesMaxSafe ? ['MAX_SAFE_INTEGER'] : [])];
  return [
    `// Generated from ${sourceName} by \`ferry transform build\`; do not edit. Change ${sourceName}`,
    '// (the one declaration of these rules; the valibot contract is built from it too) and build again.',
    `import { ${imports.join(', ')} } from '../supply-chain/spec';`,
    '',
    `export const spec = new EntitySpec(${str(c.table)}, ${str(c.entity)}, ${str(c.schema)}, [`,
    ...fields,
    tail,
    '',
  ].join('\n');
}

/** Reads and checks <dir>/rules.json; a missing or invalid file is a CliError naming it. */
export async function readRules(dir: string): Promise<EntityContract> {
  const path = join(dir, RULES_JSON);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(`${path}: no such file (every entity transform declares its rules there)`, 2);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path}: not valid JSON (${(error as Error).message})`, 2);
  }
  try {
    return entityFromRules(doc, path);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
}

/**
 * Regenerates <dir>/rules.ts from <dir>/rules.json when the folder has one. Returns 'written',
 * 'unchanged', or 'none' (no rules.json: a transform written by hand against the SDK).
 */
export async function syncRulesModule(dir: string): Promise<'written' | 'unchanged' | 'none'> {
  const has = await readFile(join(dir, RULES_JSON), 'utf8').then(
    () => true,
    () => false,
  );
  if (!has) return 'none';
  const text = assemblyScriptRules(await readRules(dir));
  const path = join(dir, RULES_TS);
  const current = await readFile(path, 'utf8').catch(() => '');
  if (current === text) return 'unchanged';
  await writeFile(path, text);
  return 'written';
}
