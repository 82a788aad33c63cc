// Each transforms/*/transform.yaml against rpk's project file (project.Config in rpk v24.3.2, keys and
// languages recorded in test/fixtures/rpk/flags.json), and the deploy script's reading of it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRpkSpec } from '../fixtures/rpk/argv.ts';

const root = join(import.meta.dirname, '..', '..');
const project = loadRpkSpec().transformProject;
const folders = readdirSync(join(root, 'transforms'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .filter((d) => {
    try {
      readFileSync(join(root, 'transforms', d, 'transform.yaml'));
      return true;
    } catch {
      return false;
    }
  });

/** The deploy script's own awk reader, run on one field of one file. */
function scriptField(file: string, field: string): string[] {
  const script = readFileSync(join(root, 'deploy/redpanda/deploy-transforms.sh'), 'utf8');
  const fn = script.slice(
    script.indexOf('yaml_field() {'),
    script.indexOf('\' "$1"\n}') + '\' "$1"\n}'.length,
  );
  const out = execFileSync('bash', ['-c', `${fn}\nyaml_field "$0" "$1"`, file, field], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '');
}

describe('transform.yaml files', () => {
  it('one per entity transform', () => {
    expect(folders.sort()).toEqual(['loads', 'shipments', 'trailers']);
  });

  describe.each(folders)('transforms/%s/transform.yaml', (t) => {
    const file = join(root, 'transforms', t, 'transform.yaml');
    const cfg = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

    it('uses only the keys of rpk project file, with the types rpk reads', () => {
      for (const key of Object.keys(cfg)) expect(project.keys).toContain(key);
      expect(cfg.name).toBe(t);
      expect(typeof cfg['input-topic']).toBe('string');
      expect(cfg['output-topic']).toBeUndefined(); // the old single-output key; output-topics wins
      const outputs = cfg['output-topics'] as unknown[];
      expect(Array.isArray(outputs) && outputs.length > 0).toBe(true);
      for (const o of outputs) expect(o).toMatch(/^[A-Za-z0-9._-]+$/);
      for (const [k, v] of Object.entries((cfg.env ?? {}) as Record<string, unknown>)) {
        expect(k).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
        expect(k).not.toMatch(/^REDPANDA_/); // reserved for the broker's own variables
        expect(typeof v === 'string' && v.length > 0).toBe(true); // rpk refuses an empty value
      }
    });

    it('names no language, so `rpk transform build` runs no toolchain on AssemblyScript', () => {
      // Every language rpk accepts makes `rpk transform build` run that language's build, and
      // javascript/typescript would run npm and the JavaScript SDK's VM packaging (flags.json
      // records what each does). None is AssemblyScript; without one rpk refuses the file first.
      expect(cfg.language).toBeUndefined();
      expect(Object.keys(project.languages)).toEqual(
        expect.arrayContaining([
          'tinygo-no-goroutines',
          'tinygo-with-goroutines',
          'rust',
          'javascript',
          'typescript',
        ]),
      );
    });

    it('reads the same through the deploy script as through a YAML parser', () => {
      expect(scriptField(file, 'name')).toEqual([cfg.name]);
      expect(scriptField(file, 'input-topic')).toEqual([cfg['input-topic']]);
      expect(scriptField(file, 'output-topics')).toEqual(cfg['output-topics']);
      expect(scriptField(file, 'env')).toEqual(
        Object.entries((cfg.env ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`),
      );
    });
  });
});
