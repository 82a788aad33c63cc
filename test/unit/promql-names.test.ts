import { describe, expect, it } from 'vitest';
import { metricNames } from '../support/promql-names.ts';

const names = (e: string) => [...metricNames(e)].sort();

describe('metricNames', () => {
  it('finds the metrics of a query, not its functions, labels, groupings or durations', () => {
    expect(
      names(
        'histogram_quantile(0.95, sum by (sink, le) (rate(ferry_freshness_seconds_bucket{sink=~"$sink", code!="x y"}[$__rate_interval])))',
      ),
    ).toEqual(['ferry_freshness_seconds_bucket']);
    expect(
      names(
        'sum by (sink) (rate(a_total{x="1"}[5m])) / on (sink) group_left (team) sum without (pod) (rate(b_total[5m] offset 1h)) > bool 0.05 and c unless d',
      ),
    ).toEqual(['a_total', 'b_total', 'c', 'd']);
    expect(names('min_over_time(ferry_breaker_state[5m:30s]) >= 1 or vector(0)')).toEqual([
      'ferry_breaker_state',
    ]);
    const grafanaVariable = '$' + '{instance}';
    expect(names(`max by (instance) (ferry_ready{instance=~"${grafanaVariable}"}) == 0`)).toEqual([
      'ferry_ready',
    ]);
    expect(names('1e3 * 0x1f + Inf')).toEqual([]);
  });

  it('reads the metric of a Grafana label_values query', () => {
    expect(names('label_values(ferry_records_consumed_total, instance)')).toEqual([
      'ferry_records_consumed_total',
    ]);
  });
});
