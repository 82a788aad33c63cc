// Schema changes on real CDC: a table of its own shaped like public.shipments (the shared table and
// connector are never touched), captured by its own Debezium connector, run through the shipments
// transform (its rules pointed at this table) in the portable runner. A column added in PostgreSQL
// reaches the clean events as a name in ferry-unknown-fields (the record is not failed), is counted
// per column and logged once; a required column dropped in PostgreSQL dead-letters the next changes
// with missing_field and the column's name, counted per field.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTransform, locateTransform } from '../../cli/transform/project.ts';
import { CONNECT_URL, KAFKA_BOOTSTRAP, ROOT } from '../../deploy/local/config.ts';
import { connectorConfig, registerConnector } from '../../deploy/local/connect.ts';
import { createTransformRunner } from '../../wasm/runner/index.ts';
import type { TransformRunner } from '../../wasm/runner/types.ts';
import { readTopic } from '../support/kafka.ts';
import { withPg } from '../support/pg.ts';
import { deleteTopics } from '../support/relay-kafka.ts';
import { waitUntil } from '../support/wait.ts';

const tag = randomBytes(4).toString('hex');
const table = `tschema_${tag}`;
const column = `hazmat_${tag}`;
const connector = `ferry-test-${table}`;
const publication = `${table}_pub`;
const slot = `${table}_slot`;
const inputTopic = `${table}.public.${table}`;
const cleanTopic = `clean.${table}`;
const dlqTopic = `dlq.${table}`;
let dir = '';
let runner: TransformRunner | undefined;
const events: string[] = [];

beforeAll(async () => {
  await withPg(async (pg) => {
    await pg.query(`create table ${table} (like public.shipments including all)`);
    await pg.query(`alter table ${table} replica identity full`);
    await pg.query(`create publication ${publication} for table public.${table}`);
  });
  await registerConnector({
    name: connector,
    config: {
      ...connectorConfig(),
      'publication.name': publication,
      'slot.name': slot,
      'slot.drop.on.stop': 'true',
      'topic.prefix': table,
      'table.include.list': `public.${table}`,
      'snapshot.mode': 'no_data',
    },
  });
  // The runner starts before the first change, so the connector's topic is made now (one partition:
  // the order of the changes is the order the assertions read).
  const admin = new Admin({ clientId: 'ferry-it-schema', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  try {
    await admin.createTopics({ topics: [inputTopic], partitions: 1, replicas: 1 });
  } finally {
    await admin.close();
  }
  // The shipments transform, its rules pointed at this table.
  dir = await mkdtemp(join(tmpdir(), 'ferry-schema-'));
  const folder = join(dir, 'shipments');
  await cp(join(ROOT, 'transforms', 'shipments'), folder, { recursive: true });
  const rules = JSON.parse(await readFile(join(folder, 'rules.json'), 'utf8')) as { table: string };
  rules.table = table;
  await writeFile(join(folder, 'rules.json'), JSON.stringify(rules, null, 2));
  await writeFile(
    join(folder, 'transform.yaml'),
    `name: shipments\ninput-topic: ${inputTopic}\noutput-topics:\n  - ${cleanTopic}\n  - ${dlqTopic}\n`,
  );
  const { wasmPath } = await buildTransform(await locateTransform(folder));
  runner = createTransformRunner({
    brokers: [KAFKA_BOOTSTRAP],
    module: new Uint8Array(await readFile(wasmPath)),
    name: 'shipments',
    inputTopic,
    outputTopics: [cleanTopic, dlqTopic],
    groupId: `ferry-it-${table}`,
    startFrom: 'earliest',
    metricsIntervalMs: 0,
    onEvent: (line) => events.push(line),
    onLog: () => {},
  });
}, 180_000);

afterAll(async () => {
  await runner?.stop().catch(() => {});
  await fetch(`${CONNECT_URL}/connectors/${connector}`, { method: 'DELETE' }).catch(() => {});
  await withPg(async (pg) => {
    await waitUntil(
      async () =>
        (await pg.query('select 1 from pg_replication_slots where slot_name = $1 and active', [slot]))
          .rowCount === 0,
      { timeoutMs: 60_000, message: `slot ${slot} still active` },
    ).catch(() => {});
    await pg
      .query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1', [
        slot,
      ])
      .catch(() => {});
    await pg.query(`drop publication if exists ${publication}`);
    await pg.query(`drop table if exists ${table}`);
  });
  await deleteTopics(inputTopic, cleanTopic, dlqTopic, `__debezium-heartbeat.${table}`).catch(() => {});
  const admin = new Admin({ clientId: 'ferry-it-schema-cleanup', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  await admin.deleteGroups({ groups: [`ferry-it-${table}`] }).catch(() => {});
  await admin.close().catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
}, 180_000);

const insert = (tracking: boolean, extra: Record<string, string> = {}) => {
  const cols = [
    ...(tracking ? ['tracking_number'] : []),
    'customer_ref',
    'origin_facility',
    'destination_facility',
    'status',
    'weight',
    'weight_unit',
    'pieces',
    ...Object.keys(extra),
  ];
  const values = [
    ...(tracking ? ['FRYSCHEMA0001'] : []),
    'CUST-1',
    'ATL1',
    'LAX3',
    'created',
    '12.5',
    'kg',
    '3',
    ...Object.values(extra),
  ];
  return withPg((pg) =>
    pg.query(
      `insert into ${table} (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
      values,
    ),
  );
};

describe('schema changes on real CDC', () => {
  it('an added column is named and counted without failing records; a dropped required column dead-letters by name', async () => {
    await runner!.start();
    await insert(true);
    await waitUntil(() => runner!.metrics().recordsOut >= 1, {
      timeoutMs: 60_000,
      message: 'first clean event',
    });

    await withPg((pg) => pg.query(`alter table ${table} add column ${column} text`));
    await insert(true, { [column]: '3' });
    await insert(true, { [column]: '8' });
    await waitUntil(() => runner!.metrics().recordsOut >= 3, {
      timeoutMs: 60_000,
      message: 'events after the add',
    });

    await withPg((pg) => pg.query(`alter table ${table} drop column tracking_number`));
    await insert(false);
    await waitUntil(() => runner!.metrics().recordsOut >= 4, {
      timeoutMs: 60_000,
      message: 'event after the drop',
    });

    const m = runner!.metrics();
    expect(m.outByTopic).toEqual({ [cleanTopic]: 3, [dlqTopic]: 1 });
    // Counted on clean events: the two inserts after the add (the change after the drop carries the
    // column too, but it is a dead letter, counted by its missing field).
    expect(m.unknownFields).toEqual({ [column]: 2 });
    expect(m.missingByField).toEqual({ 'after.tracking_number': 1 });
    expect(events.filter((l) => l.includes(`"${column}" is not in`))).toHaveLength(1);

    const clean = await readTopic(cleanTopic);
    expect(clean.map((r) => r.headers.get('ferry-unknown-fields') ?? '')).toEqual(['', column, column]);
    const dead = await readTopic(dlqTopic);
    expect(dead.map((r) => [r.headers.get('ferry-error-code'), r.headers.get('ferry-error-field')])).toEqual([
      ['missing_field', 'after.tracking_number'],
    ]);
    const prom = runner!.prometheus();
    expect(prom).toContain(
      `ferry_transform_unknown_fields_total{transform="shipments",input="${inputTopic}",field="${column}"} 2`,
    );
    expect(prom).toContain(
      `ferry_transform_records_missing_field_total{transform="shipments",input="${inputTopic}",field="after.tracking_number"} 1`,
    );
  }, 180_000);
});
