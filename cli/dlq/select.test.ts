import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../relay/core/contracts.ts';
import { outgoing, parseTimeFlag, REPROCESSED_FROM, selectDeadLetters } from './select.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function dead(offset: number, h: Record<string, string>, timestamp = 1_000_000): SourceRecord {
  return {
    topic: 'dlq.transform',
    partition: 0,
    offset: BigInt(offset),
    key: enc.encode(`k${offset}`),
    value: enc.encode(`v${offset}`),
    headers: Object.entries(h).map(([key, v]) => ({ key, value: enc.encode(v) })),
    timestamp,
  };
}
const from = (code: string, source = 'cdc.public.shipments') => ({
  'ferry-error-source-topic': source,
  'ferry-error-code': code,
  'ferry-error-field': 'after.x',
});

describe('selectDeadLetters', () => {
  it('keeps only the transform input, the codes and the time range asked for, up to the limit', () => {
    const records = [
      dead(0, from('missing_field')),
      dead(1, from('missing_field', 'cdc.public.loads')),
      dead(2, from('invalid_enum')),
      dead(3, from('missing_field'), 500),
      dead(4, from('missing_field'), 3_000_000),
      dead(5, from('missing_field')),
      dead(6, from('missing_field')),
    ];
    const s = selectDeadLetters(records, {
      sourceTopic: 'cdc.public.shipments',
      codes: ['missing_field'],
      since: 1000,
      until: 2_000_000,
      limit: 2,
    });
    expect(s.selected.map((r) => Number(r.offset))).toEqual([0, 5]);
    expect(s.skipped).toEqual({ 'other-source': 1, code: 1, time: 2, superseded: 0, limit: 1 });
  });

  it('skips a dead letter superseded by its reprocessed copy, wherever the copy is', () => {
    const records = [
      dead(0, from('missing_field')),
      dead(1, from('missing_field')),
      dead(9, { ...from('invalid_enum'), [REPROCESSED_FROM]: 'dlq.transform/0@1' }),
    ];
    const s = selectDeadLetters(records, { sourceTopic: 'cdc.public.shipments' });
    expect(s.selected.map((r) => Number(r.offset))).toEqual([0, 9]);
    expect(s.skipped.superseded).toBe(1);
  });
});

describe('outgoing', () => {
  it('is the original record without ferry-error-* headers, naming its dead letter', () => {
    const r = dead(7, {
      traceparent: '00-a-b-01',
      ...from('missing_field'),
      [REPROCESSED_FROM]: 'dlq.transform/0@1',
    });
    const o = outgoing(r);
    expect(o.key).toBe(r.key);
    expect(o.value).toBe(r.value);
    expect(o.headers.map((h) => [h.key, h.value === null ? null : dec.decode(h.value)])).toEqual([
      ['traceparent', '00-a-b-01'],
      [REPROCESSED_FROM, 'dlq.transform/0@7'],
    ]);
  });
});

describe('parseTimeFlag', () => {
  const now = Date.parse('2026-12-08T12:00:00Z');
  it('reads ISO-8601 times and durations ago; anything else is NaN', () => {
    expect(parseTimeFlag('2026-12-01T00:00:00Z', now)).toBe(Date.parse('2026-12-01T00:00:00Z'));
    expect(parseTimeFlag('2h', now)).toBe(now - 7_200_000);
    expect(parseTimeFlag('7d', now)).toBe(now - 7 * 86_400_000);
    for (const bad of ['yesterday', '2', '-1h', '2026-13-45', ''])
      expect(parseTimeFlag(bad, now), bad).toBeNaN();
  });
});
