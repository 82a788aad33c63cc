// Schema changes made visible: a column in the Debezium image that the entity's rules do not name
// (e.g. one added upstream) does not fail the record and does not vanish either: the clean event
// carries ferry-unknown-fields with the columns' names. A removed required column dead-letters with
// missing_field and names the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransformHost } from '../../wasm/host/types.ts';
import { headerText, loadCorpus, runRecord, startEntityTransform } from '../support/transforms.ts';

const enc = new TextEncoder();

describe('unknown columns in the shipments transform', () => {
  let host: TransformHost;
  let offset = 0n;
  const logs: string[] = [];
  const base = loadCorpus('shipments').find((c) => c.name === 'create in kg');
  if (base?.value == null) throw new Error('corpus case "create in kg" is missing');
  const envelope = () => JSON.parse(base.value as string) as { after: Record<string, unknown>; op: string };
  const run = (value: unknown) =>
    runRecord(host, offset++, enc.encode('{"id":1042}'), enc.encode(JSON.stringify(value)));

  beforeAll(async () => {
    host = await startEntityTransform('shipments', { onLog: (_level, line) => logs.push(line) });
  }, 120_000);
  afterAll(async () => {
    await host?.close();
  });

  it('a record with only known columns has no ferry-unknown-fields header', async () => {
    const v = await run(envelope());
    expect(v.verdict).toBe('clean');
    if (v.verdict !== 'clean') return;
    expect(v.record.headers.map((h) => h.key)).toEqual(['ferry-event-id', 'ferry-schema']);
  });

  it('names new columns on the clean event, in image order, and keeps the event as it was', async () => {
    const plain = await run(envelope());
    const e = envelope();
    e.after = { hazmat_class: '3', ...e.after, 'temp\u00e9rature': 4.5 };
    const v = await run(e);
    expect(v.verdict).toBe('clean');
    if (v.verdict !== 'clean' || plain.verdict !== 'clean') return;
    expect(headerText(v.record, 'ferry-unknown-fields')).toBe('hazmat_class,temp\u00e9rature');
    expect(v.event).toEqual(plain.event);
    // Logged once per column, however often it is seen.
    await run(e);
    expect(logs.filter((l) => l.includes('"hazmat_class" is not in the rules'))).toHaveLength(1);
    expect(logs.filter((l) => l.includes('"température" is not in the rules'))).toHaveLength(1);
  });

  it('decodes escaped names and leaves out names that would break the list', async () => {
    const e = envelope();
    const text = JSON.stringify(e).replace('"after":{', '"after":{"new\\u005fcol":1,"a,b":2,"ctl\\u0001":3,');
    const v = await runRecord(host, offset++, null, enc.encode(text));
    expect(v.verdict).toBe('clean');
    if (v.verdict !== 'clean') return;
    expect(headerText(v.record, 'ferry-unknown-fields')).toBe('new_col');
  });

  it('caps the list so a hostile image cannot grow the header without bound', async () => {
    const e = envelope();
    for (let i = 0; i < 200; i++) e.after[`extra_column_${String(i).padStart(3, '0')}`] = i;
    const v = await run(e);
    expect(v.verdict).toBe('clean');
    if (v.verdict !== 'clean') return;
    const list = headerText(v.record, 'ferry-unknown-fields') ?? '';
    expect(list.length).toBeLessThanOrEqual(512);
    expect(list.startsWith('extra_column_000,extra_column_001,')).toBe(true);
    expect(list.split(',').every((n) => /^extra_column_\d{3}$/.test(n))).toBe(true);
  });

  it('reads the image the record is judged on: after for an update, before for a delete', async () => {
    const u = envelope() as Record<string, unknown> & { after: Record<string, unknown> };
    u.op = 'u';
    u.before = { ...u.after, only_before: 1 };
    u.after = { ...u.after, only_after: 2 };
    const updated = await run(u);
    expect(updated.verdict).toBe('clean');
    if (updated.verdict === 'clean')
      expect(headerText(updated.record, 'ferry-unknown-fields')).toBe('only_after');
    const d = envelope() as Record<string, unknown> & { after: Record<string, unknown> | null };
    d.op = 'd';
    d.before = { ...d.after, gone_column: 'x' };
    d.after = null;
    const deleted = await run(d);
    expect(deleted.verdict).toBe('clean');
    if (deleted.verdict === 'clean')
      expect(headerText(deleted.record, 'ferry-unknown-fields')).toBe('gone_column');
  });

  it('a dropped required column dead-letters with missing_field and its name', async () => {
    const e = envelope();
    delete e.after.tracking_number;
    e.after.hazmat_class = '3';
    const v = await run(e);
    expect(v.verdict).toBe('dlq');
    if (v.verdict !== 'dlq') return;
    expect({ code: v.code, field: v.field }).toEqual({
      code: 'missing_field',
      field: 'after.tracking_number',
    });
    expect(headerText(v.record, 'ferry-unknown-fields')).toBeUndefined();
  });
});
