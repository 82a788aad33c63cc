// Insert, update and delete on each supply-chain table arrive on cdc.public.<table> as Debezium
// change events with the right op, before/after images and source position, within 10 s.
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdcTopic } from '../../deploy/local/config.ts';
import { type CdcEvent, parseCdc } from '../support/cdc.ts';
import { endOffsets, readTopic } from '../support/kafka.ts';
import { pgClient } from '../support/pg.ts';

let db: pg.Client;
beforeAll(async () => {
  db = await pgClient();
});
afterAll(async () => {
  await db.end();
});

const txid = async (): Promise<number> =>
  Number((await db.query<{ x: string }>('select pg_current_xact_id()::text as x')).rows[0]!.x);

interface Case {
  table: string;
  keyColumn: string;
  insert: () => Promise<{ key: string | number; txId: number }>;
  update: (key: string | number) => Promise<number>;
  updatedColumn: string;
  newValue: unknown;
  oldValue: unknown;
}

/** Runs `sql` in its own transaction and returns the first row plus the transaction id. */
async function inTx(sql: string, params: unknown[]): Promise<{ row: Record<string, unknown>; txId: number }> {
  await db.query('begin');
  try {
    const res = await db.query(sql, params);
    const txId = await txid();
    await db.query('commit');
    return { row: res.rows[0] as Record<string, unknown>, txId };
  } catch (error) {
    await db.query('rollback');
    throw error;
  }
}

const suffix = () => `${Date.now().toString(36)}${randomInt(1000)}`;

const cases: Case[] = [
  {
    table: 'facilities',
    keyColumn: 'code',
    insert: async () => {
      const code = `T${suffix()}`.slice(0, 12);
      const { txId } = await inTx(
        `insert into facilities (code, name, region, time_zone) values ($1, 'Test Yard', 'TEST', 'UTC')`,
        [code],
      );
      return { key: code, txId };
    },
    update: async (key) =>
      (await inTx(`update facilities set name = 'Test Yard 2', updated_at = now() where code = $1`, [key]))
        .txId,
    updatedColumn: 'name',
    oldValue: 'Test Yard',
    newValue: 'Test Yard 2',
  },
  {
    table: 'trailers',
    keyColumn: 'id',
    insert: async () => {
      const { row, txId } = await inTx(
        `insert into trailers (trailer_number, trailer_type, capacity_weight, capacity_unit, status, home_facility)
         values ($1, 'reefer', 21000.5, 'kg', 'available', 'ATL1') returning id`,
        [`TRL-T${suffix()}`],
      );
      return { key: Number(row.id), txId };
    },
    update: async (key) => (await inTx(`update trailers set status = 'loading' where id = $1`, [key])).txId,
    updatedColumn: 'status',
    oldValue: 'available',
    newValue: 'loading',
  },
  {
    table: 'loads',
    keyColumn: 'id',
    insert: async () => {
      const { row, txId } = await inTx(
        `insert into loads (load_number, origin_facility, destination_facility, status, gross_weight, weight_unit, planned_departure)
         values ($1, 'ATL1', 'DAL1', 'planned', 12000.25, 'lb', now() + interval '1 day') returning id`,
        [`LD-T${suffix()}`],
      );
      return { key: Number(row.id), txId };
    },
    update: async (key) => (await inTx(`update loads set status = 'tendered' where id = $1`, [key])).txId,
    updatedColumn: 'status',
    oldValue: 'planned',
    newValue: 'tendered',
  },
  {
    table: 'shipments',
    keyColumn: 'id',
    insert: async () => {
      const { row, txId } = await inTx(
        `insert into shipments (tracking_number, origin_facility, destination_facility, status, weight, weight_unit, pieces)
         values ($1, 'SEA1', 'DEN1', 'created', 12.5, 'kg', 3) returning id`,
        [`FRYT${suffix()}`],
      );
      return { key: Number(row.id), txId };
    },
    update: async (key) => (await inTx(`update shipments set status = 'booked' where id = $1`, [key])).txId,
    updatedColumn: 'status',
    oldValue: 'created',
    newValue: 'booked',
  },
];

describe('CDC: row changes arrive on cdc.public.<table>', () => {
  for (const c of cases) {
    it(`${c.table}: insert, update and delete as c/u/d events with before/after and source.lsn within 10 s`, async () => {
      const topic = cdcTopic(c.table);
      const from = await endOffsets(topic);
      const inserted = await c.insert();
      const updateTx = await c.update(inserted.key);
      const deleteTx = (await inTx(`delete from ${c.table} where ${c.keyColumn} = $1`, [inserted.key])).txId;
      const committedAt = Date.now();

      const mine = (e: CdcEvent | undefined): e is CdcEvent => e?.key[c.keyColumn] === inserted.key;
      const records = await readTopic(topic, {
        from,
        timeoutMs: 10_000,
        until: (rs) => rs.map((r) => parseCdc(r)).filter(mine).length >= 3,
      });
      expect(Date.now() - committedAt).toBeLessThan(10_000);
      const events = records.map((r) => parseCdc(r)).filter(mine);
      expect(events.map((e) => e.value.op)).toEqual(['c', 'u', 'd']);
      const [created, updated, deleted] = events.map((e) => e.value);

      expect(created!.before).toBeNull();
      expect(created!.after?.[c.keyColumn]).toBe(inserted.key);
      expect(created!.after?.[c.updatedColumn]).toBe(c.oldValue);
      expect(created!.source.txId).toBe(inserted.txId);

      expect(updated!.before?.[c.updatedColumn]).toBe(c.oldValue);
      expect(updated!.after?.[c.updatedColumn]).toBe(c.newValue);
      expect(updated!.source.txId).toBe(updateTx);

      // REPLICA IDENTITY FULL: the delete carries the whole row as it was.
      expect(deleted!.after).toBeNull();
      expect(deleted!.before).toEqual(updated!.after);
      expect(deleted!.source.txId).toBe(deleteTx);

      for (const e of [created!, updated!, deleted!]) {
        expect(e.source.table).toBe(c.table);
        expect(e.source.schema).toBe('public');
        expect(typeof e.source.lsn).toBe('number');
      }
      expect(created!.source.lsn).toBeLessThan(updated!.source.lsn);
      expect(updated!.source.lsn).toBeLessThan(deleted!.source.lsn);
      // All three events of one row share its key, hence its partition: they stay in order.
      expect(new Set(events.map((e) => e.record.partition)).size).toBe(1);
    });
  }

  it('bad rows the generator writes are accepted by the database and captured too', async () => {
    const topic = cdcTopic('shipments');
    const from = await endOffsets(topic);
    const { row } = await inTx(
      `insert into shipments (tracking_number, origin_facility, status, weight) values (null, 'NOWHERE', null, -5) returning id`,
      [],
    );
    const records = await readTopic(topic, {
      from,
      timeoutMs: 10_000,
      until: (rs) => rs.some((r) => parseCdc(r)?.key.id === Number(row.id)),
    });
    const event = records.map((r) => parseCdc(r)).find((e) => e?.key.id === Number(row.id))!;
    expect(event.value.after).toMatchObject({
      tracking_number: null,
      origin_facility: 'NOWHERE',
      status: null,
      weight: -5,
    });
    await db.query('delete from shipments where id = $1', [row.id]);
  });
});
