// One declaration per entity: every transforms/<name>/rules.json has a committed rules.ts that is
// exactly what the generator makes of it (a stale one fails here), and the valibot contract the
// relay's side uses is built from the same file. Bad declarations are refused with their paths.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENTITIES } from '../../relay/contracts/index.ts';
import { rulesProblems } from '../../relay/contracts/rules.ts';
import { TRANSFORMS_DIR } from './project.ts';
import { assemblyScriptRules, readRules } from './rules-codegen.ts';

const folders = (await readdir(TRANSFORMS_DIR, { withFileTypes: true })).filter((e) => e.isDirectory());
const withRules: string[] = [];
for (const f of folders) {
  const has = await readFile(join(TRANSFORMS_DIR, f.name, 'rules.json')).then(
    () => true,
    () => false,
  );
  if (has) withRules.push(f.name);
}

describe('rules.json is the one declaration', () => {
  it('covers the three supply-chain entities', () => {
    expect(withRules).toEqual(expect.arrayContaining(['loads', 'shipments', 'trailers']));
  });

  it.each(withRules)('%s: rules.ts is generated from rules.json and up to date', async (name) => {
    const dir = join(TRANSFORMS_DIR, name);
    const committed = await readFile(join(dir, 'rules.ts'), 'utf8');
    expect(committed).toBe(assemblyScriptRules(await readRules(dir)));
  });

  it.each(Object.keys(ENTITIES))('%s: the valibot contract is the rules.json declaration', async (name) => {
    const doc = JSON.parse(await readFile(join(TRANSFORMS_DIR, name, 'rules.json'), 'utf8'));
    expect(JSON.parse(JSON.stringify(ENTITIES[name]))).toEqual({
      ...doc,
      statusField: doc.statusField ?? '',
    });
  });

  it('the generated table says what the rules say (field by field)', async () => {
    const text = assemblyScriptRules(ENTITIES.shipments!);
    expect(text).toContain("new Field('weight', 'weightKg', KIND_WEIGHT, true).unit(8),");
    expect(text).toContain("new Field('pieces', 'pieces', KIND_INT, true).range(1, 10000),");
    expect(text).toContain("new Field('load_id', 'loadId', KIND_INT, false).range(1, MAX_SAFE_INTEGER),");
    expect(text).toMatch(/withTransitions\(\n {2}6,/);
    // Terminal statuses (no way out) are left out of the table: absent and empty mean the same.
    expect(text).not.toContain("'delivered', []");
  });

  it('quotes strings so a value cannot end the literal', () => {
    const text = assemblyScriptRules({
      ...ENTITIES.trailers!,
      fields: [
        { name: 'id', out: 'id', kind: 'id', required: true },
        { name: 'mood', out: 'mood', kind: 'enum', required: true, values: ["it's", 'a\\b', 'new\nline'] },
      ],
      statusField: '',
      transitions: {},
    });
    expect(text).toContain(".oneOf(['it\\'s', 'a\\\\b', 'new\\nline'])");
  });
});

describe('a bad declaration is refused with every problem named by its path', () => {
  const good = JSON.parse(JSON.stringify(ENTITIES.loads));
  it('accepts the real ones', () => {
    for (const c of Object.values(ENTITIES)) expect(rulesProblems(JSON.parse(JSON.stringify(c)))).toEqual([]);
  });
  it.each([
    [
      'an unknown kind',
      { fields: [{ name: 'id', out: 'id', kind: 'uuid', required: true }] },
      /fields\.0\.kind/,
    ],
    ['no key first', { fields: [{ name: 'n', out: 'n', kind: 'int', required: true }] }, /kind id/],
    ['an unknown member', { colour: 'red' }, /colour/],
    ['a life cycle over unknown values', { transitions: { planned: ['teleported'] } }, /"teleported"/],
    ['a status that is no enum', { statusField: 'load_number' }, /statusField/],
    [
      'a weight without its unit',
      {
        fields: [
          { name: 'id', out: 'id', kind: 'id', required: true },
          { name: 'w', out: 'w', kind: 'weight', required: true },
        ],
        statusField: '',
        transitions: {},
      },
      /unit field/,
    ],
  ])('%s', (_label, change, message) => {
    const problems = rulesProblems({ ...good, ...change });
    expect(problems.join('\n')).toMatch(message);
  });
});
