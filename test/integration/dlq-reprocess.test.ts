// `ferry dlq reprocess` on the real Kafka, with the portable runner running a real transform: a
// column "dropped upstream" (tracking_number missing) dead-letters records with missing_field; the
// rule is relaxed (the field made optional), the transform rebuilt and redeployed (a new runner in
// the same group), the dead letters reprocessed: they end up clean, once each, counted; a record
// still bad is dead-lettered again and supersedes its older copy, so a second run does not multiply
// it. New columns (hazmat_class) are named on the clean events and counted by the runner.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { reprocess } from '../../cli/commands/dlq.ts';
import { buildTransform, locateTransform } from '../../cli/transform/project.ts';
import { KAFKA_BOOTSTRAP, ROOT } from '../../deploy/local/config.ts';
import { createTransformRunner } from '../../wasm/runner/index.ts';
import type { TransformRunner } from '../../wasm/runner/types.ts';
import { deleteTopics, readAll } from '../support/transform-accounting.ts';
import { waitUntil } from '../support/wait.ts';

const run = `rp${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const input = `test.cdc.shipments.${run}`;
const clean = `clean.shipments.${run}`;
const dlq = `dlq.transform.${run}`;
const groupId = `ferry-it-${run}`;
let dir = '';

afterAll(async () => {
  await deleteTopics([input, clean, dlq]).catch(() => {});
  const admin = new Admin({ clientId: 'ferry-it-reprocess-cleanup', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  await admin.deleteGroups({ groups: [groupId] }).catch(() => {});
  await admin.close().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A Debezium change of public.shipments; `omit` drops columns, `extra` adds some. */
function change(
  id: number,
  lsn: number,
  opts: { omit?: string[]; extra?: Record<string, unknown>; status?: string } = {},
) {
  const after: Record<string, unknown> = {
    id,
    tracking_number: `FRY${String(id).padStart(10, '0')}`,
    load_id: 77,
    customer_ref: 'CUST-1',
    origin_facility: 'ATL1',
    destination_facility: 'LAX3',
    status: opts.status ?? 'created',
    weight: 12.5,
    weight_unit: 'kg',
    pieces: 3,
    declared_value_cents: 125000,
    promised_delivery: '2026-11-30T17:00:00.000000Z',
    delivered_at: null,
    created_at: '2026-11-26T04:59:12.345678Z',
    updated_at: '2026-11-26T04:59:12.345678Z',
    ...opts.extra,
  };
  for (const c of opts.omit ?? []) delete after[c];
  return {
    key: Buffer.from(JSON.stringify({ id })),
    value: Buffer.from(
      JSON.stringify({
        before: null,
        after,
        source: { ts_ms: 1795237152345, table: 'shipments', lsn },
        op: 'c',
      }),
    ),
  };
}

async function moduleOf(folder: string): Promise<Uint8Array> {
  const { wasmPath } = await buildTransform(await locateTransform(folder));
  return new Uint8Array(await readFile(wasmPath));
}

function runner(module: Uint8Array, events: string[]): TransformRunner {
  return createTransformRunner({
    brokers: [KAFKA_BOOTSTRAP],
    module,
    name: 'shipments',
    inputTopic: input,
    outputTopics: [clean, dlq],
    groupId,
    startFrom: 'earliest',
    metricsIntervalMs: 0,
    onEvent: (line) => events.push(line),
    onLog: () => {},
  });
}

describe('ferry dlq reprocess', () => {
  it('dead letters of a wrong rule come back clean after the fix, once each; still-bad ones are not multiplied', async () => {
    // The transform as a project of its own: the shipments rules and code, this run's topics.
    dir = await mkdtemp(join(tmpdir(), 'ferry-reprocess-'));
    const folder = join(dir, 'shipments');
    await cp(join(ROOT, 'transforms', 'shipments'), folder, { recursive: true });
    await writeFile(
      join(folder, 'transform.yaml'),
      `name: shipments\ninput-topic: ${input}\noutput-topics:\n  - ${clean}\n  - ${dlq}\n`,
    );
    const strict = await moduleOf(folder);

    const admin = new Admin({ clientId: 'ferry-it-reprocess', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
    const producer = new Producer({
      clientId: 'ferry-it-reprocess',
      bootstrapBrokers: [KAFKA_BOOTSTRAP],
      idempotent: true,
      acks: -1,
    });
    // 20 good (half with a new column), 10 without tracking_number (dropped upstream), 1 still bad.
    const good = Array.from({ length: 20 }, (_, i) =>
      change(1000 + i, 5000 + i, i % 2 === 0 ? { extra: { hazmat_class: '3' } } : {}),
    );
    const dropped = Array.from({ length: 10 }, (_, i) =>
      change(2000 + i, 6000 + i, { omit: ['tracking_number'] }),
    );
    const stillBad = change(3000, 7000, { omit: ['tracking_number'], status: 'teleported' });
    try {
      await admin.createTopics({ topics: [input], partitions: 2, replicas: 1 });
      await producer.send({ messages: [...good, ...dropped, stillBad].map((m) => ({ topic: input, ...m })) });
    } finally {
      await producer.close();
      await admin.close();
    }

    // 1. The strict transform: 20 clean, 11 dead letters with missing_field after.tracking_number.
    const events1: string[] = [];
    const r1 = runner(strict, events1);
    await r1.start();
    try {
      await waitUntil(() => r1.metrics().recordsOut >= 31, {
        timeoutMs: 60_000,
        message: 'strict run: 31 outputs',
      });
    } finally {
      await r1.stop();
    }
    const m1 = r1.metrics();
    expect(m1.deadLetteredByCode).toEqual({ missing_field: 11 });
    expect(m1.missingByField).toEqual({ 'after.tracking_number': 11 });
    expect(m1.unknownFields).toEqual({ hazmat_class: 10 });
    expect(events1.filter((l) => l.includes('"hazmat_class" is not in'))).toHaveLength(1);
    const clean1 = await readAll(clean);
    expect(clean1).toHaveLength(20);
    expect(clean1.filter((r) => r.headers.get('ferry-unknown-fields') === 'hazmat_class')).toHaveLength(10);

    // 2. The fix: tracking_number becomes optional; rebuilt and redeployed (same group: it goes on).
    const rulesPath = join(folder, 'rules.json');
    const rules = JSON.parse(await readFile(rulesPath, 'utf8')) as {
      fields: { name: string; required: boolean }[];
    };
    rules.fields.find((f) => f.name === 'tracking_number')!.required = false;
    await writeFile(rulesPath, JSON.stringify(rules, null, 2));
    const relaxed = await moduleOf(folder);
    const r2 = runner(relaxed, []);
    await r2.start();
    try {
      // 3. Dry run: counts and shows, produces nothing.
      const dry: string[] = [];
      await reprocess({ transform: folder, dryRun: true, show: '3', bootstrapServer: KAFKA_BOOTSTRAP }, (l) =>
        dry.push(l),
      );
      expect(dry.join('\n')).toContain('would reprocess 11;');
      expect(dry.join('\n')).toContain('11 missing_field after.tracking_number');
      expect(dry.at(-1)).toBe('dry run: nothing was produced');

      // 4. The real run: 11 back to the input; 10 become clean, the still-bad one is dead-lettered again.
      const lines: string[] = [];
      await reprocess({ transform: folder, show: '3', bootstrapServer: KAFKA_BOOTSTRAP }, (l) =>
        lines.push(l),
      );
      expect(lines).toContain('  produced 11/11 to ' + input);
      await waitUntil(() => r2.metrics().recordsOut >= 11, {
        timeoutMs: 60_000,
        message: 'relaxed run: 11 outputs',
      });
      const m2 = r2.metrics();
      expect(m2.outByTopic).toEqual({ [clean]: 10, [dlq]: 1 });
      expect(m2.deadLetteredByCode).toEqual({ invalid_enum: 1 });
      expect(lines.at(-1)).toBe(
        'reprocessed 11 dead letters of shipments: they go through the deployed transform again',
      );

      // 5. A second run: the 10 that became clean are offered again (their event ids are the same, so
      // the relay's dedupe drops them); the still-bad one's first dead letter is superseded by its copy.
      const again: string[] = [];
      await reprocess({ transform: folder, dryRun: true, show: '1', bootstrapServer: KAFKA_BOOTSTRAP }, (l) =>
        again.push(l),
      );
      expect(again.join('\n')).toMatch(
        /would reprocess 11; skipped: other-source 0, code 0, time 0, superseded 1, limit 0/,
      );
      // --code narrows to the re-dead-lettered one only.
      const narrowed: string[] = [];
      await reprocess(
        {
          transform: folder,
          dryRun: true,
          show: '1',
          code: ['invalid_enum'],
          bootstrapServer: KAFKA_BOOTSTRAP,
        },
        (l) => narrowed.push(l),
      );
      expect(narrowed.join('\n')).toContain('would reprocess 1;');
    } finally {
      await r2.stop();
    }

    // Accounting: every input record is clean exactly once, or (the still-bad one) in the DLQ.
    const cleanAll = await readAll(clean);
    const ids = cleanAll.map((r) => r.headers.get('ferry-event-id'));
    expect(new Set(ids).size).toBe(ids.length);
    expect(cleanAll).toHaveLength(30);
    const keys = new Set(cleanAll.map((r) => JSON.parse(r.value ?? '{}').id as number));
    for (let i = 0; i < 20; i++) expect(keys.has(1000 + i)).toBe(true);
    for (let i = 0; i < 10; i++) expect(keys.has(2000 + i)).toBe(true);
    expect(keys.has(3000)).toBe(false);
    const deadAll = await readAll(dlq);
    expect(deadAll).toHaveLength(12);
    const redead = deadAll.filter((r) => r.headers.has('ferry-reprocessed-from'));
    expect(redead).toHaveLength(1);
    expect(redead[0]!.headers.get('ferry-error-code')).toBe('invalid_enum');
    // The reprocessed records on the input carry no ferry-error-* header, and name their dead letter.
    const back = (await readAll(input)).filter((r) => r.headers.has('ferry-reprocessed-from'));
    expect(back).toHaveLength(11);
    for (const r of back)
      expect([...r.headers.keys()].filter((k) => k.startsWith('ferry-error-'))).toEqual([]);
  }, 240_000);
});
