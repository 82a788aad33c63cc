// The real .wasm transforms, through the real host, on the shared fixture corpus: every record's
// verdict (clean / dead-lettered with code and field / dropped) must be the one the corpus states,
// and the valibot contracts (relay/contracts) must reach the same verdict on the same bytes.
// Clean events must equal the TypeScript reference output and, where the corpus has one, the
// hand-checked golden event; dead letters keep the original key, value and headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITIES, judgeChange } from '../../relay/contracts/index.ts';
import type { TransformHost } from '../../wasm/host/types.ts';
import {
  caseHeaders,
  caseValue,
  ENTITY_NAMES,
  headerText,
  loadCorpus,
  runRecord,
  startEntityTransform,
} from '../support/transforms.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
/** A verdict as the corpus states it: clean, drop, or dlq with its code and field. */
const summary = (v: { verdict: string; code?: string; field?: string }) =>
  v.verdict === 'dlq' ? { verdict: v.verdict, code: v.code, field: v.field } : { verdict: v.verdict };

for (const entity of ENTITY_NAMES) {
  describe(`${entity} transform on the corpus`, () => {
    const corpus = loadCorpus(entity);
    const contract = ENTITIES[entity]!;
    let host: TransformHost;
    let offset = 0n;

    beforeAll(async () => {
      host = await startEntityTransform(entity);
    }, 120_000);
    afterAll(async () => {
      await host?.close();
    });

    it.each(corpus.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const value = caseValue(c);
      const key = c.key === null ? null : enc.encode(c.key);
      const headers = caseHeaders(c);
      const recordOffset = offset++;
      const wasm = await runRecord(host, recordOffset, key, value, headers);
      const ts = judgeChange(contract, value);

      // Same verdict from the Wasm module, the valibot contract and the corpus.
      expect(summary(wasm)).toEqual(c.expect);
      expect(summary(ts)).toEqual(c.expect);

      if (wasm.verdict === 'clean' && ts.verdict === 'clean') {
        // What goes on the wire is JSON: compare the reference after a JSON round trip.
        const reference = JSON.parse(JSON.stringify(ts.event));
        expect(wasm.event).toEqual(reference);
        if (c.event !== undefined) expect(wasm.event).toEqual(c.event);
        expect(wasm.key).toBe(ts.key);
        expect(wasm.eventId).toBe(ts.eventId);
        expect(wasm.record.topic).toBe(`clean.${entity}`);
        expect(wasm.schema).toBe(contract.schema);
      }
      if (wasm.verdict === 'dlq') {
        const r = wasm.record;
        expect(r.value).toEqual(value);
        expect(r.key).toEqual(key);
        // Original headers first, unchanged, then the error headers.
        expect(r.headers.slice(0, headers.length)).toEqual(headers);
        expect(headerText(r, 'ferry-error-stage')).toBe('transform');
        expect(headerText(r, 'ferry-error-source-topic')).toBe(`cdc.public.${entity}`);
        expect(headerText(r, 'ferry-error-source-offset')).toBe(String(recordOffset));
        expect(wasm.message.length).toBeGreaterThan(0);
      }
    });

    it('gives the same change the same ferry-event-id every time (re-delivery after a restart)', async () => {
      const c = corpus.find((x) => x.expect.verdict === 'clean')!;
      const a = await runRecord(host, 1000n, null, caseValue(c));
      const b = await runRecord(host, 2000n, null, caseValue(c));
      expect(a.verdict).toBe('clean');
      expect(a.verdict === 'clean' && b.verdict === 'clean' && a.eventId === b.eventId).toBe(true);
      expect(dec.decode(enc.encode('ok'))).toBe('ok');
    });

    // The life cycle is declared once (rules.json); the contract reads it and the transform's
    // withTransitions table (AssemblyScript, which cannot read JSON) is generated from it. Every
    // from -> to pair of statuses, on the corpus's clean update, gets the same verdict from both, and
    // it is illegal_transition exactly when the declaration does not list the pair.
    it('agrees with the contract on every status change (the two life-cycle tables match)', async () => {
      const update = corpus.find((c) => c.expect.verdict === 'clean' && c.value?.includes('"op":"u"'))!;
      const envelope = JSON.parse(update.value!) as {
        before: Record<string, unknown>;
        after: Record<string, unknown>;
      };
      const statuses = Object.keys(contract.transitions);
      let pairOffset = 10_000n;
      for (const from of statuses) {
        for (const to of statuses) {
          envelope.before.status = from;
          envelope.after.status = to;
          const value = enc.encode(JSON.stringify(envelope));
          const wasm = await runRecord(host, pairOffset++, enc.encode(update.key ?? ''), value);
          const ts = judgeChange(contract, value);
          const legal = from === to || (contract.transitions[from]?.includes(to) ?? false);
          expect(summary(ts), `${from} -> ${to}`).toEqual(
            legal
              ? { verdict: 'clean' }
              : { verdict: 'dlq', code: 'illegal_transition', field: 'after.status' },
          );
          expect(summary(wasm), `${from} -> ${to}`).toEqual(summary(ts));
        }
      }
    });
  });
}
