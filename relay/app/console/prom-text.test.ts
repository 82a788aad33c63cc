import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../metrics/registry.ts';
import { parsePrometheusText } from './prom-text.ts';

describe('parsePrometheusText', () => {
  it('reads back what the registry renders, escaped label values included', () => {
    const registry = createRegistry();
    registry.counter('ferry_records_delivered_total', 'd', ['sink']).inc({ sink: 'a"b\\c\nd' }, 3);
    registry
      .gauge('ferry_consumer_lag_records', 'l', ['topic', 'partition'])
      .set({ topic: 't', partition: '2' }, 7);
    registry.histogram('ferry_freshness_seconds', 'f', [1, 5], ['sink']).observe({ sink: 's' }, 2);
    const samples = parsePrometheusText(registry.render());
    expect(samples).toContainEqual({
      name: 'ferry_records_delivered_total',
      labels: { sink: 'a"b\\c\nd' },
      value: 3,
    });
    expect(samples).toContainEqual({
      name: 'ferry_consumer_lag_records',
      labels: { topic: 't', partition: '2' },
      value: 7,
    });
    expect(samples).toContainEqual({
      name: 'ferry_freshness_seconds_bucket',
      labels: { sink: 's', le: '+Inf' },
      value: 1,
    });
    expect(samples).toContainEqual({ name: 'ferry_freshness_seconds_sum', labels: { sink: 's' }, value: 2 });
  });

  it('keeps only the names asked for and skips malformed lines', () => {
    const text = 'a 1\nb{x="1"} 2\nc{x="1} 3\nd not-a-number\n# HELP a x\nb_total +Inf\n';
    expect(parsePrometheusText(text, new Set(['b', 'b_total', 'c', 'd']))).toEqual([
      { name: 'b', labels: { x: '1' }, value: 2 },
      { name: 'b_total', labels: {}, value: Number.POSITIVE_INFINITY },
    ]);
  });
});
