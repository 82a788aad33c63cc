import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../relay/app/console/prom-text.ts';
import { createRunnerMetrics } from './metrics.ts';

const code = (c: string) => [{ key: 'ferry-error-code', value: new TextEncoder().encode(c) }];

describe('runner metrics', () => {
  it('counts dead letters per ferry-error-code and renders them with the relay registry', () => {
    const m = createRunnerMetrics();
    m.countBatch(5, [
      { topic: 'clean.shipments', headers: [] },
      { topic: 'clean.shipments', headers: [] },
      { topic: 'dlq.transform', headers: code('missing_field') },
      { topic: 'dlq.transform', headers: code('missing_field') },
      { topic: 'dlq.transform', headers: code('invalid_enum') },
    ]);
    m.countBatch(1, [{ topic: 'dlq.transform', headers: [] }]);
    m.setPartitions([0, 1]);
    m.setLag(1, 42);
    expect(m.snapshot()).toMatchObject({
      recordsIn: 6,
      recordsOut: 6,
      deadLettered: 4,
      deadLetteredByCode: { missing_field: 2, invalid_enum: 1, unknown: 1 },
    });
    const labels = { transform: 'ship"ments\\', input: 'cdc.public.shipments' };
    const text = m.prometheus(labels);
    const samples = parsePrometheusText(text);
    const dead = samples.filter((s) => s.name === 'ferry_transform_records_deadlettered_total');
    expect(dead).toEqual(
      expect.arrayContaining([
        { name: dead[0]?.name, labels: { ...labels, code: 'missing_field' }, value: 2 },
        { name: dead[0]?.name, labels: { ...labels, code: 'invalid_enum' }, value: 1 },
        { name: dead[0]?.name, labels: { ...labels, code: 'unknown' }, value: 1 },
      ]),
    );
    expect(dead.reduce((n, s) => n + s.value, 0)).toBe(m.snapshot().deadLettered);
    // The same escaping as the relay's exposition: a quote and a backslash survive the round trip.
    expect(text).toContain('transform="ship\\"ments\\\\"');
    expect(samples).toContainEqual({
      name: 'ferry_transform_records_out_total',
      labels: { ...labels, topic: 'clean.shipments' },
      value: 2,
    });
    expect(samples).toContainEqual({
      name: 'ferry_transform_lag_records',
      labels: { ...labels, partition: '1' },
      value: 42,
    });
    expect(samples).toContainEqual({ name: 'ferry_transform_records_in_total', labels, value: 6 });
    expect(text).toContain('# TYPE ferry_transform_restarts_total counter');
  });
});
