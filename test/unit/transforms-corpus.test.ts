// The real .wasm transforms, through the real host, on the shared fixture corpus: every record's
// verdict (clean / dead-lettered with code and field / dropped) must be the one the corpus states,
// and the valibot contracts (relay/contracts) must reach the same verdict on the same bytes.
// Clean events must equal the TypeScript reference output and, where the corpus has one, the
// hand-checked golden event; dead letters keep the original key, value and headers. Every entity
// with a rules.json is covered, and so is a freshly scaffolded one (at the end).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsFromTable, type TableShape } from '../../cli/transform/pg-columns.ts';
import { buildTransform } from '../../cli/transform/project.ts';
import { fixtureCases, scaffoldFiles } from '../../cli/transform/scaffold.ts';
import { ENTITIES, type EntityContract, entityFromRules, judgeChange } from '../../relay/contracts/index.ts';
import type { TransformHost } from '../../wasm/host/types.ts';
import { createTransformHost } from '../../wasm/index.ts';
import {
  caseHeaders,
  caseValue,
  DLQ_TOPIC,
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

// A scaffolded entity (`ferry transform init --table`, here from a table shape as PostgreSQL would
// describe it, plus a life cycle added by hand): its generated fixtures and every status pair get
// the same verdict from its built module and from the contract of the same rules.json.
describe('a scaffolded transform on its generated corpus', () => {
  const shape: TableShape = {
    schema: 'public',
    table: 'returns',
    columns: [
      {
        name: 'rma',
        type: 'text',
        nullable: false,
        maxLength: 12,
        values: null,
        min: null,
        max: null,
        primaryKey: false,
      },
      {
        name: 'return_id',
        type: 'bigint',
        nullable: false,
        maxLength: null,
        values: null,
        min: null,
        max: null,
        primaryKey: true,
      },
      {
        name: 'state',
        type: 'return_state',
        nullable: false,
        maxLength: null,
        values: ['open', 'received', 'refunded', 'rejected'],
        min: null,
        max: null,
        primaryKey: false,
      },
      {
        name: 'reason',
        type: 'character varying',
        nullable: true,
        maxLength: 40,
        values: ['damaged', 'late', 'other'],
        min: null,
        max: null,
        primaryKey: false,
      },
      {
        name: 'items',
        type: 'integer',
        nullable: false,
        maxLength: null,
        values: null,
        min: 1,
        max: 99,
        primaryKey: false,
      },
      {
        name: 'refund_cents',
        type: 'bigint',
        nullable: true,
        maxLength: null,
        values: null,
        min: 0,
        max: null,
        primaryKey: false,
      },
      {
        name: 'refund_rate',
        type: 'numeric',
        nullable: true,
        maxLength: null,
        values: null,
        min: 0,
        max: 1,
        primaryKey: false,
      },
      {
        name: 'extra',
        type: 'jsonb',
        nullable: true,
        maxLength: null,
        values: null,
        min: null,
        max: null,
        primaryKey: false,
      },
      {
        name: 'gift',
        type: 'boolean',
        nullable: true,
        maxLength: null,
        values: null,
        min: null,
        max: null,
        primaryKey: false,
      },
      {
        name: 'opened_at',
        type: 'timestamp with time zone',
        nullable: false,
        maxLength: null,
        values: null,
        min: null,
        max: null,
        primaryKey: false,
      },
    ],
  };
  const { fields, skipped } = fieldsFromTable(shape);
  const rules: EntityContract = {
    table: 'returns',
    entity: 'return',
    schema: 'ferry.returns.v1',
    fields,
    statusField: 'state',
    transitions: { open: ['received', 'rejected'], received: ['refunded'], refunded: [], rejected: [] },
  };
  const { valid, invalid } = fixtureCases(rules);
  const cases = [...valid, ...invalid];
  let dir = '';
  let host: TransformHost;
  let contract: EntityContract;
  let offset = 0n;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-scaffold-'));
    const folder = join(dir, 'returns');
    for (const [path, text] of scaffoldFiles(rules, {
      dir: folder,
      name: 'returns',
      inputTopic: 'cdc.public.returns',
    })) {
      await mkdir(dirname(join(folder, path)), { recursive: true });
      await writeFile(join(folder, path), text);
    }
    // The contract as the relay's side builds it: from the rules.json the scaffold wrote.
    contract = entityFromRules(JSON.parse(await readFile(join(folder, 'rules.json'), 'utf8')));
    const { wasmPath } = await buildTransform({ name: 'returns', dir: folder, inRepo: false });
    host = await createTransformHost({
      module: new Uint8Array(await readFile(wasmPath)),
      name: 'returns',
      inputTopic: 'cdc.public.returns',
      outputTopics: ['clean.returns', DLQ_TOPIC],
      onLog: () => {},
    });
  }, 300_000);
  afterAll(async () => {
    await host?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('took the columns from the table shape: key first, NOT NULL required, enums, bounds, lengths', () => {
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['return_id', 'id', true],
      ['rma', 'string', true],
      ['state', 'enum', true],
      ['reason', 'enum', false],
      ['items', 'int', true],
      ['refund_cents', 'int', false],
      ['refund_rate', 'number', false],
      ['gift', 'bool', false],
      ['opened_at', 'timestamp', true],
    ]);
    expect(fields.find((f) => f.name === 'refund_rate')).toMatchObject({ min: 0, max: 1 });
    expect(fields.find((f) => f.name === 'items')).toMatchObject({ min: 1, max: 99 });
    expect(fields.find((f) => f.name === 'rma')).toMatchObject({ maxLength: 12 });
    expect(skipped).toEqual([{ column: 'extra', type: 'jsonb' }]);
    expect(invalid.length).toBeGreaterThan(15);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const value =
      c.input.value === null
        ? null
        : enc.encode(typeof c.input.value === 'string' ? c.input.value : JSON.stringify(c.input.value));
    const wasm = await runRecord(host, offset++, c.input.key ? enc.encode(c.input.key) : null, value);
    const ts = judgeChange(contract, value);
    expect(summary(wasm)).toEqual(summary(ts));
    const stated =
      'dlq' in c.expect
        ? { verdict: 'dlq', ...c.expect.dlq }
        : { verdict: c.expect.outputs.length === 0 ? 'drop' : 'clean' };
    expect(summary(wasm)).toEqual(stated);
    if (wasm.verdict === 'clean' && ts.verdict === 'clean') {
      expect(wasm.event).toEqual(JSON.parse(JSON.stringify(ts.event)));
      expect(wasm.key).toBe(ts.key);
    }
  });

  it('agrees with the contract on every status change', async () => {
    const row = (valid[0]!.input.value as { after: Record<string, unknown> }).after;
    const statuses = fields.find((f) => f.name === 'state')!.values!;
    for (const from of statuses) {
      for (const to of statuses) {
        const envelope = {
          op: 'u',
          source: { lsn: 7, table: 'returns', ts_ms: 1 },
          before: { ...row, state: from },
          after: { ...row, state: to },
        };
        const value = enc.encode(JSON.stringify(envelope));
        const wasm = await runRecord(host, offset++, null, value);
        const legal = from === to || (rules.transitions[from]?.includes(to) ?? false);
        expect(summary(judgeChange(contract, value)), `${from} -> ${to}`).toEqual(
          legal ? { verdict: 'clean' } : { verdict: 'dlq', code: 'illegal_transition', field: 'after.state' },
        );
        expect(summary(wasm), `${from} -> ${to}`).toEqual(summary(judgeChange(contract, value)));
      }
    }
  });
});
