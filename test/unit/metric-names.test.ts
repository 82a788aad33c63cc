// Every metric a Grafana panel (deploy/grafana/ferry.json) or an alert rule (deploy/prometheus/alerts.yaml)
// reads is one the code exports: the relay's (each counter, gauge and histogram it registers, histograms
// with their _bucket/_sum/_count series) and the portable runner's (its exposition's TYPE lines).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createRunnerMetrics } from '../../wasm/runner/metrics.ts';
import { metricNames } from '../support/promql-names.ts';

const root = join(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

function relayExports(): Set<string> {
  const names = new Set<string>();
  const files = (readdirSync(join(root, 'relay'), { recursive: true }) as string[]).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('testing'),
  );
  const registration = /\.(counter|gauge|histogram)(?:\?\.)?\(\s*'(ferry_[a-z_]+)'/g;
  for (const f of files)
    for (const [, kind, name] of read(join('relay', f)).matchAll(registration)) {
      names.add(name as string);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
    }
  return names;
}

function runnerExports(): Set<string> {
  const text = createRunnerMetrics().prometheus({ transform: 't', input: 'i' });
  return new Set([...text.matchAll(/^# TYPE (\S+) (counter|gauge)$/gm)].map((m) => m[1] as string));
}

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

const dashboard = JSON.parse(read('deploy/grafana/ferry.json')) as {
  panels: Panel[];
  templating: { list: { type: string; query: string | { query: string } }[] };
};
const rules = parse(read('deploy/prometheus/alerts.yaml')) as {
  groups: { rules: { alert: string; expr: string }[] }[];
};

describe('metric names of the dashboard and the alert rules', () => {
  const exported = new Set([...relayExports(), ...runnerExports()]);

  it('reads the exports from the code', () => {
    for (const name of [
      'ferry_records_delivered_total',
      'ferry_freshness_seconds_bucket',
      'ferry_consumer_lag_records',
      'ferry_ready',
      'ferry_transform_restarts_total',
      'ferry_transform_lag_records',
    ])
      expect(exported, name).toContain(name);
  });

  it('every dashboard panel query reads only exported metrics', () => {
    const queries = dashboard.panels.filter((p) => p.type !== 'row');
    expect(queries.length).toBeGreaterThan(15);
    const used = new Set<string>();
    for (const panel of queries) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets ?? []) {
        const names = metricNames(expr);
        expect(names.size, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) {
          expect(exported, `${panel.title}: ${name}`).toContain(name);
          used.add(name);
        }
      }
    }
    for (const v of dashboard.templating.list.filter((t) => t.type === 'query')) {
      const q = typeof v.query === 'string' ? v.query : v.query.query;
      for (const name of metricNames(q)) expect(exported, `variable: ${name}`).toContain(name);
    }
    // Relay and runner both have panels.
    expect([...used].some((n) => n.startsWith('ferry_transform_'))).toBe(true);
    expect(used).toContain('ferry_records_delivered_total');
  });

  it('every alert rule reads only exported metrics', () => {
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThan(5);
    for (const rule of all) {
      const names = metricNames(rule.expr);
      expect(names.size, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(exported, `${rule.alert}: ${name}`).toContain(name);
    }
  });

  it('a metric the code does not export is caught', () => {
    expect(exported).not.toContain('ferry_records_delivered');
    expect([...metricNames('rate(ferry_records_delivered[5m])')].every((n) => exported.has(n))).toBe(false);
  });
});
