// Debezium change events on cdc.public.<table>: the envelope type, parsing, and a helper that waits
// until a list of committed changes (e.g. from the generator) has all arrived, counting duplicates.
import { cdcTopic } from '../../deploy/local/config.ts';
import type { Change } from '../../deploy/local/generator/index.ts';
import { endOffsets, json, type Offsets, readTopic, type TopicRecord } from './kafka.ts';

export interface DebeziumEnvelope<Row = Record<string, unknown>> {
  before: Row | null;
  after: Row | null;
  op: 'c' | 'u' | 'd' | 'r' | 't';
  ts_ms: number;
  source: { lsn: number; txId: number; ts_ms: number; table: string; schema: string; snapshot?: string };
}

export interface CdcEvent<Row = Record<string, unknown>> {
  record: TopicRecord;
  key: Record<string, unknown>;
  value: DebeziumEnvelope<Row>;
}

export const parseCdc = <Row = Record<string, unknown>>(record: TopicRecord): CdcEvent<Row> | undefined => {
  const value = json<DebeziumEnvelope<Row>>(record);
  if (!value || record.key === undefined) return undefined;
  return { record, key: JSON.parse(record.key) as Record<string, unknown>, value };
};

/** Identity of a change as the database committed it: table, op, primary key, transaction. */
export const changeKey = (table: string, op: string, id: unknown, txId: number) =>
  `${table}/${op}/${id}/${txId}`;

export const eventKey = (e: CdcEvent) =>
  changeKey(e.value.source.table, e.value.op, e.key.id ?? e.key.code, e.value.source.txId);

/** End offsets of every cdc.public.<table> topic, to pass to `waitForChanges` as the start. */
export async function cdcOffsets(tables: readonly string[]): Promise<Map<string, Offsets>> {
  return new Map(await Promise.all(tables.map(async (t) => [t, await endOffsets(cdcTopic(t))] as const)));
}

export interface Accounting {
  expected: number;
  /** committed changes with at least one event */
  delivered: number;
  missing: string[];
  /** extra copies of an expected change (Debezium re-emits after a crash: allowed, counted) */
  duplicates: number;
  events: number;
}

/**
 * Reads cdc.public.<table> from `from` until every change in `changes` has an event with the same
 * table, op, id and txId (or the timeout passes), and returns the accounting.
 */
export async function waitForChanges(
  changes: readonly Change[],
  from: Map<string, Offsets>,
  { timeoutMs = 60_000 } = {},
): Promise<Accounting> {
  // A row changed twice with the same op in one transaction has the same key twice: count multiplicity.
  const expected = new Map<string, number>();
  for (const c of changes) {
    const k = changeKey(c.table, c.op, c.id, c.txId);
    expected.set(k, (expected.get(k) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  let events = 0;
  const deadline = Date.now() + timeoutMs;
  const tables = [...new Set(changes.map((c) => c.table))];
  await Promise.all(
    tables.map(async (table) => {
      const want = [...expected].filter(([k]) => k.startsWith(`${table}/`)).length;
      let complete = 0;
      const start = from.get(table);
      await readTopic(cdcTopic(table), {
        ...(start ? { from: start } : {}),
        timeoutMs: Math.max(1000, deadline - Date.now()),
        until: (records) => {
          const r = records[records.length - 1];
          const e = r && parseCdc(r);
          if (e) {
            events++;
            const k = eventKey(e);
            const need = expected.get(k);
            if (need !== undefined) {
              const n = (seen.get(k) ?? 0) + 1;
              seen.set(k, n);
              if (n === need) complete++;
            }
          }
          return complete === want;
        },
      }).catch(() => {}); // timeout: the accounting below says what is missing
    }),
  );
  const missing = [...expected].filter(([k, n]) => (seen.get(k) ?? 0) < n).map(([k]) => k);
  const duplicates = [...seen].reduce((s, [k, n]) => s + Math.max(0, n - (expected.get(k) ?? 0)), 0);
  return {
    expected: changes.length,
    delivered: changes.length - missing.length,
    missing,
    duplicates,
    events,
  };
}
