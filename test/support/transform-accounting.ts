// Accounting for transform runs on the local stack: every source change (a cdc.public.<table> record with
// a value; tombstones carry no change) must come out of the transform as a clean event or a dead letter.
// Matching is by the event id the transforms stamp (`pg:<table>:<lsn>:<id>`, docs/delivery.md#event-id),
// computed from the Debezium envelope on both sides; dead letters keep the original bytes.
import { Admin } from '@platformatic/kafka';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { endOffsets, type Offsets, readTopic, type TopicRecord } from './kafka.ts';

export interface TransformAccounting {
  /** Source changes (records with a value) since `from`. */
  source: number;
  clean: number;
  deadLettered: number;
  /** Source changes with no output at all. */
  missing: string[];
  /** Outputs beyond the first for the same change (a crash re-produces; allowed and counted). */
  duplicates: number;
  /** Outputs that match no source change of this run. */
  unmatched: number;
}

/** `pg:<table>:<lsn>:<id>` from a Debezium envelope, or null when the bytes are not one. */
export function sourceEventId(table: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  try {
    const v = JSON.parse(value) as {
      source?: { lsn?: number };
      after?: { id?: unknown } | null;
      before?: { id?: unknown } | null;
    };
    const id = v.after?.id ?? v.before?.id;
    if (v.source?.lsn === undefined || id === undefined) return null;
    return `pg:${table}:${v.source.lsn}:${id}`;
  } catch {
    return null;
  }
}

/** Sets a (new) consumer group's committed offsets, so a runner in that group starts exactly there. */
export async function commitGroupAt(groupId: string, topic: string, offsets: Offsets): Promise<void> {
  const admin = new Admin({ clientId: 'ferry-test-group-offsets', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  try {
    await admin.alterConsumerGroupOffsets({
      groupId,
      topics: [
        { name: topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset })) },
      ],
    });
  } finally {
    await admin.close();
  }
}

export async function readAll(topic: string, from?: Offsets): Promise<TopicRecord[]> {
  return readTopic(topic, { ...(from ? { from } : {}), timeoutMs: 60_000 });
}

/** Total records in `topic` after `from` (per partition). */
export async function recordsSince(topic: string, from: Offsets): Promise<number> {
  const ends = await endOffsets(topic);
  let n = 0;
  for (const [p, end] of ends) n += Number(end - (from.get(p) ?? 0n));
  return n;
}

export function account(
  table: string,
  sourceRecords: TopicRecord[],
  clean: TopicRecord[],
  dead: TopicRecord[],
): TransformAccounting {
  const sourceIds = new Map<string, number>();
  let source = 0;
  for (const r of sourceRecords) {
    if (r.value === undefined || r.value === '') continue;
    source++;
    const id = sourceEventId(table, r.value) ?? `offset:${r.partition}:${r.offset}`;
    sourceIds.set(id, (sourceIds.get(id) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  let unmatched = 0;
  const see = (id: string | null | undefined) => {
    if (id === null || id === undefined || !sourceIds.has(id)) {
      unmatched++;
      return;
    }
    seen.set(id, (seen.get(id) ?? 0) + 1);
  };
  for (const r of clean) see(r.headers.get('ferry-event-id'));
  const ours = dead.filter((r) => r.headers.get('ferry-error-source-topic') === `cdc.public.${table}`);
  for (const r of ours) see(sourceEventId(table, r.value));
  const missing = [...sourceIds].filter(([id, n]) => (seen.get(id) ?? 0) < n).map(([id]) => id);
  const duplicates = [...seen].reduce((s, [id, n]) => s + Math.max(0, n - (sourceIds.get(id) ?? 0)), 0);
  return { source, clean: clean.length, deadLettered: ours.length, missing, duplicates, unmatched };
}

/** True when `groupId` has committed, for every partition of `topic`, the topic's current end offset. */
export async function groupCaughtUp(groupId: string, topic: string): Promise<boolean> {
  const ends = await endOffsets(topic);
  const admin = new Admin({ clientId: 'ferry-test-group-lag', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const committed = new Map(
      (group?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [
        p.partitionIndex,
        p.committedOffset,
      ]),
    );
    return [...ends].every(([p, end]) => (committed.get(p) ?? -1n) >= end);
  } finally {
    await admin.close();
  }
}

export async function deleteTopics(topics: string[]): Promise<void> {
  const admin = new Admin({ clientId: 'ferry-test-cleanup', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  try {
    const existing = new Set(await admin.listTopics());
    const ours = topics.filter((t) => existing.has(t));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
  } finally {
    await admin.close();
  }
}
