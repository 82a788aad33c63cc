// What the generator knows about the rows in the database: ids, statuses and who references whom,
// so it can pick rows to update and delete rows nothing references (the foreign keys stay valid).
import type pg from 'pg';
import { IdSet } from './id-set.ts';

export type GenTable = 'trailers' | 'loads' | 'shipments';
export const GEN_TABLES: readonly GenTable[] = ['trailers', 'loads', 'shipments'];

export interface RowState {
  status: string | null;
  /** trailers: none; loads: trailer_id; shipments: load_id */
  parent: number | null;
}

export interface TableState {
  ids: IdSet;
  rows: Map<number, RowState>;
  /** How many rows of the child table reference each id. */
  children: Map<number, number>;
}

export type GenState = Record<GenTable, TableState>;

const PARENT_OF: Record<GenTable, GenTable | undefined> = {
  trailers: undefined,
  loads: 'trailers',
  shipments: 'loads',
};
const PARENT_COLUMN: Record<GenTable, string | undefined> = {
  trailers: undefined,
  loads: 'trailer_id',
  shipments: 'load_id',
};

const empty = (): TableState => ({ ids: new IdSet(), rows: new Map(), children: new Map() });

export async function loadState(client: pg.Client): Promise<GenState> {
  const state: GenState = { trailers: empty(), loads: empty(), shipments: empty() };
  for (const table of GEN_TABLES) {
    const parentCol = PARENT_COLUMN[table] ?? 'null::bigint';
    const res = await client.query<{ id: string; status: string | null; parent: string | null }>(
      `select id, status::text as status, ${parentCol} as parent from ${table} order by id`,
    );
    for (const r of res.rows) {
      remember(state, table, Number(r.id), {
        status: r.status,
        parent: r.parent === null ? null : Number(r.parent),
      });
    }
  }
  return state;
}

export function remember(state: GenState, table: GenTable, id: number, row: RowState): void {
  state[table].ids.add(id);
  state[table].rows.set(id, row);
  const parent = PARENT_OF[table];
  if (parent && row.parent !== null) {
    const children = state[parent].children;
    children.set(row.parent, (children.get(row.parent) ?? 0) + 1);
  }
}

export function forget(state: GenState, table: GenTable, id: number): void {
  const row = state[table].rows.get(id);
  state[table].ids.delete(id);
  state[table].rows.delete(id);
  state[table].children.delete(id);
  const parent = PARENT_OF[table];
  if (parent && row?.parent != null) {
    const children = state[parent].children;
    const n = (children.get(row.parent) ?? 1) - 1;
    if (n <= 0) children.delete(row.parent);
    else children.set(row.parent, n);
  }
}
