import { describe, expect, it } from 'vitest';
import { createRegistry } from './registry.ts';

describe('metrics registry', () => {
  it('renders counters, gauges and histograms in Prometheus text format', () => {
    const r = createRegistry();
    const c = r.counter('ferry_records_delivered_total', 'Delivered', ['sink']);
    c.inc({ sink: 'a' });
    c.inc({ sink: 'a' }, 2);
    c.inc({ sink: 'b"x' });
    r.gauge('ferry_breaker_state', 'Breaker', ['sink']).set({ sink: 'a' }, 1);
    const h = r.histogram('ferry_delivery_duration_seconds', 'Latency', [0.1, 1], ['sink']);
    h.observe({ sink: 'a' }, 0.05);
    h.observe({ sink: 'a' }, 0.5);
    h.observe({ sink: 'a' }, 5);
    const text = r.render();
    expect(text).toContain('# TYPE ferry_records_delivered_total counter');
    expect(text).toContain('ferry_records_delivered_total{sink="a"} 3');
    expect(text).toContain('ferry_records_delivered_total{sink="b\\"x"} 1');
    expect(text).toContain('ferry_breaker_state{sink="a"} 1');
    expect(text).toContain('ferry_delivery_duration_seconds_bucket{sink="a",le="0.1"} 1');
    expect(text).toContain('ferry_delivery_duration_seconds_bucket{sink="a",le="1"} 2');
    expect(text).toContain('ferry_delivery_duration_seconds_bucket{sink="a",le="+Inf"} 3');
    expect(text).toContain('ferry_delivery_duration_seconds_count{sink="a"} 3');
    expect(r.value('ferry_records_delivered_total', { sink: 'a' })).toBe(3);
    const d = r.counter('ferry_records_deadlettered_total', 'DLQ', ['sink', 'code']);
    d.inc({ sink: 'a', code: 'X' });
    d.inc({ sink: 'a', code: 'Y' }, 2);
    d.inc({ sink: 'b', code: 'X' });
    expect(r.total('ferry_records_deadlettered_total', { sink: 'a' })).toBe(3);
    expect(r.total('ferry_records_deadlettered_total')).toBe(4);
    expect(r.total('missing_total')).toBe(0);
  });

  it('returns the same metric for the same name and keeps registries independent', () => {
    const r1 = createRegistry();
    const r2 = createRegistry();
    r1.counter('x_total', 'x', []).inc();
    r1.counter('x_total', 'x', []).inc();
    expect(r1.value('x_total')).toBe(2);
    expect(r2.value('x_total')).toBeUndefined();
    expect(() => r1.gauge('x_total', 'x')).toThrow();
  });
});
