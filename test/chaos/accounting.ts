// The chaos run's accounting: every change the generator committed, matched by its ferry-event-id
// (`pg:<table>:<lsn>:<id>`, computed from the Debezium envelope) to one outcome per sink. Pure: the
// records and the mock API's ledger go in, the rows of the table come out.
import type { TopicRecord } from '../support/kafka.ts';
import type { EndpointReport } from '../support/mock-api/index.ts';
import { sourceEventId } from '../support/transform-accounting.ts';

export interface SinkInput {
  readonly sink: string;
  /** The generator's changes to this sink's table. */
  readonly generated: number;
  /** Changes the generator committed that never reached the cdc topic. */
  readonly missingAtCdc: number;
  /** cdc.public.<table> records of this run. */
  readonly cdc: readonly TopicRecord[];
  /** clean.<entity> records of this run. */
  readonly clean: readonly TopicRecord[];
  /** dlq.transform records of this run from this table. */
  readonly dlqTransform: readonly TopicRecord[];
  /** dlq.relay records of this run for this sink. */
  readonly dlqRelay: readonly TopicRecord[];
  /** Idempotency keys the API applied, in order. */
  readonly applied: readonly string[];
  readonly report: EndpointReport;
  /** True for a clean event the sink's filter lets through (default: all). */
  readonly passes?: (event: Record<string, unknown>) => boolean;
}

export interface SinkRow {
  readonly sink: string;
  readonly generated: number;
  readonly delivered: number;
  /** Extra copies of delivered events on the clean topic (a runner re-produced them after a kill). */
  readonly deduplicated: number;
  readonly filtered: number;
  readonly deadLetteredTransform: number;
  readonly deadLetteredRelay: number;
  readonly lost: number;
  readonly lostSamples: readonly string[];
  readonly duplicateApplications: number;
  readonly wireReplays: number;
  readonly orderViolations: number;
  /** Applied keys that match no change of this run (another writer on the same API: must be 0). */
  readonly unexpected: number;
  /** Events dead-lettered by the relay and then applied after all (a replay after a kill). */
  readonly deliveredAfterDeadLetter: number;
}

const eventIdHeader = (r: TopicRecord) => r.headers.get('ferry-event-id');

export function accountSink(input: SinkInput): SinkRow {
  const table = input.cdc[0]?.topic.replace(/^cdc\.public\./, '') ?? '';
  const sourceIds = new Set<string>();
  for (const r of input.cdc) {
    if (r.value === undefined || r.value === '') continue; // a tombstone carries no change
    sourceIds.add(sourceEventId(table, r.value) ?? `offset:${r.partition}:${r.offset}`);
  }
  const dlqT = new Set<string>();
  for (const r of input.dlqTransform) {
    const id = sourceEventId(table, r.value);
    if (id !== null) dlqT.add(id);
  }
  const cleanCopies = new Map<string, number>();
  const cleanEvents = new Map<string, Record<string, unknown>>();
  for (const r of input.clean) {
    const id = eventIdHeader(r);
    if (id === undefined) continue;
    cleanCopies.set(id, (cleanCopies.get(id) ?? 0) + 1);
    if (!cleanEvents.has(id)) cleanEvents.set(id, JSON.parse(r.value ?? 'null') as Record<string, unknown>);
  }
  const dlqR = new Set<string>();
  for (const r of input.dlqRelay) {
    const id = eventIdHeader(r);
    if (id !== undefined) dlqR.add(id);
  }
  const applied = new Set(input.applied);
  let delivered = 0;
  let deduplicated = 0;
  let filtered = 0;
  let deadLetteredTransform = 0;
  let deadLetteredRelay = 0;
  let deliveredAfterDeadLetter = 0;
  const lost: string[] = [];
  for (const id of sourceIds) {
    if (applied.has(id)) {
      delivered += 1;
      deduplicated += (cleanCopies.get(id) ?? 1) - 1;
      if (dlqR.has(id)) deliveredAfterDeadLetter += 1;
    } else if (dlqT.has(id) && !cleanCopies.has(id)) deadLetteredTransform += 1;
    else if (dlqR.has(id)) deadLetteredRelay += 1;
    else if (cleanEvents.has(id) && input.passes !== undefined && !input.passes(cleanEvents.get(id)!))
      filtered += 1;
    else lost.push(id);
  }
  let unexpected = 0;
  for (const key of applied) if (!sourceIds.has(key)) unexpected += 1;
  return {
    sink: input.sink,
    generated: input.generated,
    delivered,
    deduplicated,
    filtered,
    deadLetteredTransform,
    deadLetteredRelay,
    lost: lost.length + input.missingAtCdc,
    lostSamples: lost.slice(0, 10),
    duplicateApplications: input.report.duplicateApplications,
    wireReplays: input.report.replays,
    orderViolations: input.report.orderViolations,
    unexpected,
    deliveredAfterDeadLetter,
  };
}

export const SINK_TABLE_HEADER = [
  'SINK',
  'GENERATED',
  'DELIVERED',
  'DEDUPED',
  'FILTERED',
  'DLQ(TRANSFORM)',
  'DLQ(RELAY)',
  'LOST',
  'DUP APPLIED',
  'WIRE REPLAYS',
  'ORDER VIOL.',
] as const;

export function sinkTableRow(r: SinkRow): string[] {
  return [
    r.sink,
    r.generated,
    r.delivered,
    r.deduplicated,
    r.filtered,
    r.deadLetteredTransform,
    r.deadLetteredRelay,
    r.lost,
    r.duplicateApplications,
    r.wireReplays,
    r.orderViolations,
  ].map(String);
}
