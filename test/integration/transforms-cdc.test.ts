// The supply-chain transforms on real Debezium output: the generator writes good and deliberately
// bad rows into PostgreSQL, Debezium puts the changes on cdc.public.*, and every one of those
// records goes through the real .wasm (Ferry's host) and the valibot contract. Both must agree on
// every record, the generator's bad inserts must be dead-lettered for the rule they break, good
// inserts and deletes must come out clean, and nothing real Debezium emits may fail on format
// (encoding, JSON, types, timestamps): those rules are for hostile input, not for the connector.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdcTopic } from '../../deploy/local/config.ts';
import { generate } from '../../deploy/local/generator/index.ts';
import { ENTITIES, judgeChange } from '../../relay/contracts/index.ts';
import type { TransformHost } from '../../wasm/host/types.ts';
import { cdcOffsets, changeKey, parseCdc, waitForChanges } from '../support/cdc.ts';
import { readTopic } from '../support/kafka.ts';
import { ENTITY_NAMES, type Entity, runRecord, startEntityTransform } from '../support/transforms.ts';

const BAD_INSERT_CODES: Record<string, string> = {
  negative_weight: 'out_of_range',
  unknown_facility: 'unknown_facility',
  missing_fields: 'missing_field',
};
const FORMAT_CODES = [
  'invalid_utf8',
  'invalid_json',
  'too_deep',
  'not_an_object',
  'wrong_type',
  'wrong_table',
  'invalid_timestamp',
];

describe('supply-chain transforms on real Debezium changes', () => {
  const hosts = new Map<Entity, TransformHost>();

  beforeAll(async () => {
    for (const e of ENTITY_NAMES) hosts.set(e, await startEntityTransform(e));
  });
  afterAll(async () => {
    for (const h of hosts.values()) await h.close();
  });

  it('agree with the contracts and route the generator bad rows to the DLQ', async () => {
    const from = await cdcOffsets(ENTITY_NAMES);
    const result = await generate({ count: 400, rate: 0, badShare: 0.25, seed: Date.now() % 100_000 });
    const accounting = await waitForChanges(result.changes, from, { timeoutMs: 90_000 });
    expect(accounting.missing).toEqual([]);
    const byKey = new Map(result.changes.map((c) => [changeKey(c.table, c.op, c.id, c.txId), c]));

    const enc = new TextEncoder();
    let checked = 0;
    const verdicts = { clean: 0, dlq: 0 };
    for (const entity of ENTITY_NAMES) {
      const start = from.get(entity);
      const records = await readTopic(cdcTopic(entity), { ...(start ? { from: start } : {}) });
      const host = hosts.get(entity)!;
      const contract = ENTITIES[entity]!;
      for (const r of records) {
        const e = parseCdc(r);
        const change = e && byKey.get(changeKey(entity, e.value.op, e.key.id, e.value.source.txId));
        if (!e || !change || r.value === undefined) continue; // another test's change on the shared stack
        const value = enc.encode(r.value);
        const wasm = await runRecord(host, r.offset, r.key === undefined ? null : enc.encode(r.key), value);
        const ts = judgeChange(contract, value);
        const label = `${entity} ${change.op} ${change.id} ${change.bad ?? 'good'}`;
        expect(
          wasm.verdict === 'dlq' ? [wasm.verdict, wasm.code, wasm.field] : [wasm.verdict],
          label,
        ).toEqual(ts.verdict === 'dlq' ? [ts.verdict, ts.code, ts.field] : [ts.verdict]);
        if (wasm.verdict === 'dlq') expect(FORMAT_CODES, label).not.toContain(wasm.code);
        if (change.op === 'c' && change.bad && BAD_INSERT_CODES[change.bad]) {
          expect(wasm.verdict === 'dlq' && wasm.code, label).toBe(BAD_INSERT_CODES[change.bad]);
        }
        if ((change.op === 'c' && !change.bad) || change.op === 'd')
          expect(wasm.verdict, label).toBe('clean');
        if (wasm.verdict === 'clean' || wasm.verdict === 'dlq') verdicts[wasm.verdict]++;
        checked++;
      }
    }
    console.log('real Debezium records checked', checked, verdicts);
    expect(checked).toBeGreaterThanOrEqual(result.changes.length);
    expect(verdicts.clean).toBeGreaterThan(0);
    expect(verdicts.dlq).toBeGreaterThan(0);
  });
});
