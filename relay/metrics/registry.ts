// A small Prometheus text-format registry implementing the core's Metrics interface: counters, gauges
// and histograms with labels. Asking twice for the same name returns the same metric, so several
// components (or sink runners) can share one. One registry per relay: nothing is global.
import type { Counter, Gauge, Histogram, Metrics } from '../core/contracts.ts';

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly labelNames: readonly string[];
  render(lines: string[]): void;
}

/** The relay's metrics: the core's Metrics plus Prometheus rendering and reads for tests. */
export interface Registry extends Metrics {
  /** Prometheus text exposition format 0.0.4. */
  render(): string;
  /** Current value of a counter or gauge series (tests and the accounting use it). */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
  /** Sum of a counter or gauge over every series whose labels include `match` (0 when none). */
  total(name: string, match?: Readonly<Record<string, string>>): number;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function seriesKey(labelNames: readonly string[], labels: Labels | undefined): string {
  // Hot path (every record touches a few per-sink counters): no array for the common label counts.
  if (labelNames.length === 0) return '';
  if (labelNames.length === 1) return labels?.[labelNames[0] as string] ?? '';
  return labelNames.map((n) => labels?.[n] ?? '').join('\u0000');
}

function labelText(labelNames: readonly string[], key: string, extra?: string): string {
  const values = key.split('\u0000');
  const parts = labelNames.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

const formatNumber = (v: number) =>
  Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';

export function createRegistry(): Registry {
  const families = new Map<string, Family & { values?: Map<string, number> }>();

  function existing(name: string, type: Family['type']) {
    const f = families.get(name);
    if (f && f.type !== type) throw new Error(`metric ${name} already registered as a ${f.type}`);
    return f;
  }

  function scalar(type: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[]) {
    const found = existing(name, type);
    if (found?.values) return found.values;
    const values = new Map<string, number>();
    families.set(name, {
      name,
      help,
      type,
      labelNames,
      values,
      render(lines) {
        for (const [key, v] of values) lines.push(`${name}${labelText(labelNames, key)} ${formatNumber(v)}`);
      },
    });
    return values;
  }

  return {
    counter(name, help, labelNames = []): Counter {
      const values = scalar('counter', name, help, labelNames);
      return {
        inc(labels, by = 1) {
          const k = seriesKey(labelNames, labels);
          values.set(k, (values.get(k) ?? 0) + by);
        },
      };
    },
    gauge(name, help, labelNames = []): Gauge {
      const values = scalar('gauge', name, help, labelNames);
      return {
        set(labels, value) {
          values.set(seriesKey(labelNames, labels), value);
        },
      };
    },
    histogram(name, help, buckets, labelNames = []): Histogram {
      const found = existing(name, 'histogram') as (Family & { observe?: Histogram['observe'] }) | undefined;
      if (found?.observe) return { observe: found.observe };
      const bounds = [...buckets].sort((a, b) => a - b);
      const series = new Map<string, { counts: number[]; sum: number; count: number }>();
      // Callers on the hot path pass the same labels object every time (a sink's `{ sink }`): the
      // last one's series is kept, so most observations skip the key and the map lookup.
      let lastLabels: Labels | undefined;
      let lastSeries: { counts: number[]; sum: number; count: number } | undefined;
      const observe: Histogram['observe'] = (labels, value) => {
        let s = labels === lastLabels ? lastSeries : undefined;
        if (s === undefined) {
          const k = seriesKey(labelNames, labels);
          s = series.get(k);
          if (!s) {
            s = { counts: bounds.map(() => 0), sum: 0, count: 0 };
            series.set(k, s);
          }
          lastLabels = labels;
          lastSeries = s;
        }
        // Cumulative buckets: every bound at or above the value counts it.
        const counts = s.counts;
        for (let i = bounds.length - 1; i >= 0 && value <= (bounds[i] as number); i--)
          counts[i] = (counts[i] as number) + 1;
        s.sum += value;
        s.count++;
      };
      families.set(name, {
        name,
        help,
        type: 'histogram',
        labelNames,
        observe,
        render(lines) {
          for (const [key, s] of series) {
            bounds.forEach((b, i) => {
              lines.push(
                `${name}_bucket${labelText(labelNames, key, `le="${formatNumber(b)}"`)} ${s.counts[i]}`,
              );
            });
            lines.push(`${name}_bucket${labelText(labelNames, key, 'le="+Inf"')} ${s.count}`);
            lines.push(`${name}_sum${labelText(labelNames, key)} ${formatNumber(s.sum)}`);
            lines.push(`${name}_count${labelText(labelNames, key)} ${s.count}`);
          }
        },
      } as Family & { observe: Histogram['observe'] });
      return { observe };
    },
    render() {
      const lines: string[] = [];
      for (const f of families.values()) {
        lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
        lines.push(`# TYPE ${f.name} ${f.type}`);
        f.render(lines);
      }
      return `${lines.join('\n')}\n`;
    },
    value(name, labels) {
      const f = families.get(name);
      if (!f?.values) return undefined;
      return f.values.get(seriesKey(f.labelNames, labels));
    },
    total(name, match = {}) {
      const f = families.get(name);
      if (!f?.values) return 0;
      const wanted = f.labelNames.map((n) => match[n]);
      let sum = 0;
      for (const [key, v] of f.values) {
        const values = key.split('\u0000');
        if (wanted.every((w, i) => w === undefined || values[i] === w)) sum += v;
      }
      return sum;
    },
  };
}
