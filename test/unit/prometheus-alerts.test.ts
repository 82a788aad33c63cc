// The alert rules in deploy/prometheus: promtool accepts them and their unit tests pass
// (alerts.test.yaml), and every metric they use is one the relay documents. Needs promtool on PATH
// (Debian/Ubuntu: the `prometheus` package); without it this test fails rather than skips.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const promtool = (...args: string[]) => spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });

describe('deploy/prometheus alert rules', () => {
  it('promtool is installed', () => {
    const r = promtool('--version');
    expect(r.error, 'promtool not found on PATH: install the prometheus package').toBeUndefined();
    expect(r.status).toBe(0);
  });

  it('pass promtool check rules', () => {
    const r = promtool('check', 'rules', 'alerts.yaml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    const r = promtool('test', 'rules', 'alerts.test.yaml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('use only metrics documented in relay/metrics/README.md', () => {
    const rules = readFileSync(`${dir}alerts.yaml`, 'utf8');
    const readme = readFileSync(
      fileURLToPath(new URL('../../relay/metrics/README.md', import.meta.url)),
      'utf8',
    );
    const used = new Set(rules.match(/\bferry_[a-z_]+\b/g) ?? []);
    expect(used.size).toBeGreaterThan(0);
    // A histogram is documented by its name; rules read its _bucket, _sum and _count series.
    for (const name of used)
      expect(readme, name).toContain(`\`${name.replace(/_(bucket|sum|count)$/, '')}\``);
  });
});
