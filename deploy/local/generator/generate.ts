// The supply-chain change generator: inserts, updates and deletes on trailers, loads and shipments
// at a target rate, for a duration or a count, with a share of deliberately bad rows. It returns
// every change it committed (table, op, id, transaction id, bad kind), so tests and benchmarks can
// account for each one on the CDC topics. Same seed + same starting rows = same choices.
//
// Changes are committed in small transactions (one per tick, at most `batchSize` changes). If a
// transaction fails (another writer raced us), it is rolled back, its changes are not reported,
// and the generator re-reads the tables before going on.

import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PG } from '../config.ts';
import { createRng, type Rng } from './rng.ts';
import {
  type BadKind,
  INSERT_BAD_KINDS,
  KNOWN_FACILITIES,
  loadRow,
  type Row,
  shipmentRow,
  trailerRow,
  UNKNOWN_FACILITIES,
  UPDATE_BAD_KINDS,
} from './rows.ts';
import { forget, GEN_TABLES, type GenState, type GenTable, loadState, remember } from './state.ts';
import { impossibleNext, TRANSITIONS } from './statuses.ts';

export type Op = 'c' | 'u' | 'd';
export type OpName = 'insert' | 'update' | 'delete';
const OP_NAME: Record<Op, OpName> = { c: 'insert', u: 'update', d: 'delete' };

/** One committed row change. `op` uses Debezium's letters (c, u, d). */
export interface Change {
  table: GenTable;
  op: Op;
  id: number;
  /** The transaction id, as Debezium reports it in source.txId. */
  txId: number;
  bad?: BadKind;
}

export type Counts = Record<GenTable, Record<OpName, number>>;

export interface Progress {
  total: number;
  elapsedMs: number;
  counts: Counts;
  bad: Partial<Record<BadKind, number>>;
  failedTransactions: number;
}

export interface GenerateResult extends Progress {
  changes: Change[];
}

export interface GenerateOptions {
  /** Changes per second; 0 = as fast as the database takes them. */
  rate?: number;
  /** Stop after this many changes (default 1000 when no duration is given). */
  count?: number;
  /** Stop after this long. */
  durationMs?: number;
  /** Share of inserts and updates that are deliberately bad, 0..1. */
  badShare?: number;
  seed?: number;
  /** Share of each operation; deletes only hit rows nothing references. */
  mix?: { insert: number; update: number; delete: number };
  /** Share of each table. */
  tables?: Partial<Record<GenTable, number>>;
  /** Max changes per transaction. */
  batchSize?: number;
  /** An open client to use (left open); default: a new one on the local stack. */
  client?: pg.Client;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
}

const zeroCounts = (): Counts => ({
  trailers: { insert: 0, update: 0, delete: 0 },
  loads: { insert: 0, update: 0, delete: 0 },
  shipments: { insert: 0, update: 0, delete: 0 },
});

function weighted<T extends string>(rng: Rng, weights: Record<T, number>): T {
  const entries = Object.entries(weights) as Array<[T, number]>;
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = rng.next() * total;
  for (const [k, w] of entries) {
    x -= w;
    if (x < 0) return k;
  }
  return entries[entries.length - 1]![0];
}

interface Planned {
  table: GenTable;
  op: Op;
  sql: string;
  params: unknown[];
  bad?: BadKind;
  /** Applies the change to the in-memory state once the statement returned `id`. */
  apply: (id: number) => void;
}

function insertSql(table: GenTable, row: Row): { sql: string; params: unknown[] } {
  const cols = Object.keys(row);
  return {
    sql: `insert into ${table} (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')}) returning id, pg_current_xact_id()::text as xid`,
    params: cols.map((c) => row[c]),
  };
}

function updateSql(table: GenTable, id: number, set: Row): { sql: string; params: unknown[] } {
  const cols = Object.keys(set);
  const assignments = cols.map((c, i) => `${c} = $${i + 2}`);
  return {
    sql: `update ${table} set ${[...assignments, 'updated_at = now()'].join(', ')} where id = $1 returning id, pg_current_xact_id()::text as xid`,
    params: [id, ...cols.map((c) => set[c])],
  };
}

const WEIGHT_COLUMN: Record<GenTable, string> = {
  trailers: 'capacity_weight',
  loads: 'gross_weight',
  shipments: 'weight',
};
const FACILITY_COLUMN: Record<GenTable, string> = {
  trailers: 'current_facility',
  loads: 'destination_facility',
  shipments: 'destination_facility',
};
const FIRST_STATUS: Record<GenTable, string> = {
  trailers: 'available',
  loads: 'planned',
  shipments: 'created',
};

function planInsert(state: GenState, rng: Rng, table: GenTable, bad: BadKind | undefined): Planned {
  const parentPick = (t: GenTable) => (rng.chance(0.9) ? (state[t].ids.pick(rng) ?? null) : null);
  const parent =
    table === 'loads' ? parentPick('trailers') : table === 'shipments' ? parentPick('loads') : null;
  const row =
    table === 'trailers'
      ? trailerRow(rng, bad)
      : table === 'loads'
        ? loadRow(rng, parent, bad)
        : shipmentRow(rng, parent, bad);
  const status = (row.status as string | null) ?? null;
  return {
    table,
    op: 'c',
    ...insertSql(table, row),
    ...(bad ? { bad } : {}),
    apply: (id) => remember(state, table, id, { status, parent }),
  };
}

function planUpdate(
  state: GenState,
  rng: Rng,
  table: GenTable,
  id: number,
  bad: BadKind | undefined,
): Planned {
  const current = state[table].rows.get(id)!;
  const set: Row = {};
  let status = current.status;
  if (bad === 'impossible_transition') {
    status = impossibleNext(table, current.status ?? FIRST_STATUS[table], rng.pick);
    set.status = status;
  } else if (bad === 'negative_weight') {
    set[WEIGHT_COLUMN[table]] = -rng.int(1, 50_000) / 10;
  } else if (bad === 'unknown_facility') {
    set[FACILITY_COLUMN[table]] = rng.pick(UNKNOWN_FACILITIES);
  } else if (bad === 'missing_fields') {
    status = null;
    set.status = null;
    set[WEIGHT_COLUMN[table]] = null;
  } else {
    const next = current.status === null ? [FIRST_STATUS[table]] : (TRANSITIONS[table][current.status] ?? []);
    if (next.length > 0) {
      status = rng.pick(next);
      set.status = status;
      if (table === 'shipments' && status === 'delivered') set.delivered_at = new Date().toISOString();
      if (table === 'loads' && status === 'picked_up') set.departed_at = new Date().toISOString();
      if (table === 'loads' && status === 'delivered') set.arrived_at = new Date().toISOString();
      if (table === 'trailers' && status === 'unloading') set.current_facility = rng.pick(KNOWN_FACILITIES);
    } else {
      // Terminal status: a data correction instead (re-weighed).
      set[WEIGHT_COLUMN[table]] =
        table === 'trailers' ? rng.int(18_000, 27_000) : rng.int(100, 2_000_000) / 1000;
    }
  }
  const finalStatus = status;
  return {
    table,
    op: 'u',
    ...updateSql(table, id, set),
    ...(bad ? { bad } : {}),
    apply: () => {
      current.status = finalStatus;
    },
  };
}

function planDelete(state: GenState, rng: Rng, table: GenTable): Planned | undefined {
  for (let attempt = 0; attempt < 8; attempt++) {
    const id = state[table].ids.pick(rng);
    if (id === undefined) return undefined;
    if ((state[table].children.get(id) ?? 0) > 0) continue;
    return {
      table,
      op: 'd',
      sql: `delete from ${table} where id = $1 returning id, pg_current_xact_id()::text as xid`,
      params: [id],
      apply: () => forget(state, table, id),
    };
  }
  return undefined;
}

function plan(
  state: GenState,
  rng: Rng,
  o: Required<Pick<GenerateOptions, 'mix' | 'badShare'>> & { tables: Record<GenTable, number> },
): Planned {
  const table = weighted(rng, o.tables);
  const op = state[table].ids.size === 0 ? 'insert' : weighted(rng, o.mix);
  if (op === 'delete') {
    const planned = planDelete(state, rng, table);
    if (planned) return planned;
  }
  if (op === 'insert' || state[table].ids.size === 0) {
    const bad = rng.chance(o.badShare) ? rng.pick(INSERT_BAD_KINDS) : undefined;
    return planInsert(state, rng, table, bad);
  }
  const bad = rng.chance(o.badShare) ? rng.pick(UPDATE_BAD_KINDS) : undefined;
  return planUpdate(state, rng, table, state[table].ids.pick(rng)!, bad);
}

/** Writes changes into the supply_chain database and returns exactly what it committed. */
export async function generate({
  rate = 100,
  count,
  durationMs,
  badShare = 0.05,
  seed = 1,
  mix = { insert: 0.5, update: 0.35, delete: 0.15 },
  tables = { trailers: 0.15, loads: 0.25, shipments: 0.6 },
  batchSize = 200,
  client,
  signal,
  onProgress,
  progressIntervalMs = 1000,
}: GenerateOptions = {}): Promise<GenerateResult> {
  const limit = count ?? (durationMs === undefined ? 1000 : Number.POSITIVE_INFINITY);
  const ownClient = client === undefined;
  const db = client ?? new pg.Client({ ...PG });
  if (ownClient) await db.connect();
  const rng = createRng(seed);
  const tableWeights = { trailers: 0, loads: 0, shipments: 0, ...tables };
  const changes: Change[] = [];
  const counts = zeroCounts();
  const bad: Partial<Record<BadKind, number>> = {};
  let failedTransactions = 0;
  const started = Date.now();
  const progress = (): Progress => ({
    total: changes.length,
    elapsedMs: Date.now() - started,
    counts: structuredClone(counts),
    bad: { ...bad },
    failedTransactions,
  });
  let lastProgress = started;
  try {
    let state = await loadState(db);
    while (changes.length < limit && !signal?.aborted) {
      const elapsed = Date.now() - started;
      if (durationMs !== undefined && elapsed >= durationMs) break;
      const due = rate > 0 ? Math.floor(((elapsed + 1) * rate) / 1000) - changes.length : batchSize;
      if (due <= 0) {
        await sleep(Math.max(1, Math.ceil((changes.length + 1 - (elapsed * rate) / 1000) * (1000 / rate))));
        continue;
      }
      const n = Math.min(due, batchSize, limit - changes.length);
      const batch: Array<Change> = [];
      try {
        await db.query('begin');
        for (let i = 0; i < n; i++) {
          const p = plan(state, rng, { mix, badShare, tables: tableWeights });
          const res = await db.query<{ id: string; xid: string }>(p.sql, p.params);
          const row = res.rows[0];
          if (!row) continue; // row vanished under us: nothing changed, nothing to report
          p.apply(Number(row.id));
          batch.push({
            table: p.table,
            op: p.op,
            id: Number(row.id),
            txId: Number(BigInt(row.xid) & 0xffffffffn),
            ...(p.bad ? { bad: p.bad } : {}),
          });
        }
        await db.query('commit');
      } catch {
        await db.query('rollback').catch(() => {});
        failedTransactions++;
        state = await loadState(db);
        continue;
      }
      for (const c of batch) {
        changes.push(c);
        counts[c.table][OP_NAME[c.op]]++;
        if (c.bad) bad[c.bad] = (bad[c.bad] ?? 0) + 1;
      }
      if (onProgress && Date.now() - lastProgress >= progressIntervalMs) {
        lastProgress = Date.now();
        onProgress(progress());
      }
    }
  } finally {
    if (ownClient) await db.end().catch(() => {});
  }
  return { ...progress(), changes };
}

export { GEN_TABLES };
