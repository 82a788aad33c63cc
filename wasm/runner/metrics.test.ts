import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../relay/app/console/prom-text.ts';
import { createRunnerMetrics, MAX_FIELD_SERIES, OTHER_FIELDS } from './metrics.ts';

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

  it('counts missing_field dead letters per field and unknown columns per name, first sightings once', () => {
    const m = createRunnerMetrics();
    const enc = new TextEncoder();
    const h = (pairs: Record<string, string>) =>
      Object.entries(pairs).map(([key, v]) => ({ key, value: enc.encode(v) }));
    const first = m.countBatch(4, [
      { topic: 'clean.shipments', headers: h({ 'ferry-unknown-fields': 'hazmat_class,fragile' }) },
      { topic: 'clean.shipments', headers: h({ 'ferry-unknown-fields': 'hazmat_class' }) },
      { topic: 'clean.shipments', headers: [] },
      {
        topic: 'dlq.transform',
        headers: h({ 'ferry-error-code': 'missing_field', 'ferry-error-field': 'after.tracking_number' }),
      },
    ]);
    expect(first).toEqual(['hazmat_class', 'fragile']);
    expect(
      m.countBatch(1, [{ topic: 'clean.shipments', headers: h({ 'ferry-unknown-fields': 'fragile' }) }]),
    ).toEqual([]);
    expect(m.snapshot()).toMatchObject({
      missingByField: { 'after.tracking_number': 1 },
      unknownFields: { hazmat_class: 2, fragile: 2 },
    });
    const samples = parsePrometheusText(m.prometheus({ transform: 'shipments' }));
    expect(samples).toContainEqual({
      name: 'ferry_transform_records_missing_field_total',
      labels: { transform: 'shipments', field: 'after.tracking_number' },
      value: 1,
    });
    expect(samples).toContainEqual({
      name: 'ferry_transform_unknown_fields_total',
      labels: { transform: 'shipments', field: 'hazmat_class' },
      value: 2,
    });
  });

  it('keeps at most MAX_FIELD_SERIES field series; the rest are counted under _other', () => {
    const m = createRunnerMetrics();
    const names = Array.from({ length: MAX_FIELD_SERIES + 5 }, (_, i) => `c${i}`);
    const seen = m.countBatch(1, [
      {
        topic: 'clean.x',
        headers: [{ key: 'ferry-unknown-fields', value: new TextEncoder().encode(names.join(',')) }],
      },
    ]);
    expect(seen).toHaveLength(MAX_FIELD_SERIES);
    const counts = m.snapshot().unknownFields;
    expect(Object.keys(counts)).toHaveLength(MAX_FIELD_SERIES + 1);
    expect(counts[OTHER_FIELDS]).toBe(5);
  });
});
