// Static checks of what ships the transforms: rpk's transform.yaml per transform, the deploy
// script, and the reference data compiled into the modules (same as the SQL seed and the contracts).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FACILITIES } from '../../relay/contracts/facilities.ts';
import { ENTITY_NAMES } from '../support/transforms.ts';

const root = join(import.meta.dirname, '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

describe('transform deployment files', () => {
  it.each(ENTITY_NAMES)(
    'transforms/%s/transform.yaml is an rpk project file for this transform',
    (entity) => {
      const cfg = parse(read(`transforms/${entity}/transform.yaml`));
      expect(cfg.name).toBe(entity);
      expect(cfg['input-topic']).toBe(`cdc.public.${entity}`);
      expect(cfg['output-topics']).toEqual([`clean.${entity}`, 'dlq.transform']);
      // rpk's keys and the deliberately absent language: test/unit/deploy-transform-yaml.test.ts.
      for (const [k, v] of Object.entries(cfg.env ?? {})) {
        expect(k).not.toMatch(/^REDPANDA_|=/); // reserved prefix (docs/abi.md §9)
        expect(String(v).length).toBeGreaterThan(0);
      }
    },
  );

  it('deploy/redpanda/deploy-transforms.sh is valid bash', () => {
    execFileSync('bash', ['-n', join(root, 'deploy/redpanda/deploy-transforms.sh')]);
  });

  it('the facility table compiled into the transforms matches the SQL seed and the contracts', () => {
    const sql = read('deploy/local/sql/schema.sql');
    const seed = [...sql.matchAll(/\('([A-Z0-9]+)', '[^']*', '([^']+)', '([^']+)'\)/g)].map((m) => ({
      code: m[1],
      region: m[2],
      timeZone: m[3],
    }));
    expect(seed.length).toBeGreaterThan(0);
    expect(FACILITIES).toEqual(seed);
    const as = read('transforms/supply-chain/facilities.ts');
    const list = (name: string) =>
      [
        ...(as.split(`export const ${name}: string[] = [`)[1]?.split('];')[0] ?? '').matchAll(/'([^']+)'/g),
      ].map((m) => m[1]);
    expect(list('FACILITY_CODES')).toEqual(seed.map((f) => f.code));
    expect(list('FACILITY_REGIONS')).toEqual(seed.map((f) => f.region));
    expect(list('FACILITY_TIME_ZONES')).toEqual(seed.map((f) => f.timeZone));
  });
});
