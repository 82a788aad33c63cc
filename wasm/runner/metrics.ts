// Runner metrics: records in / out (per topic) / dead-lettered (per ferry-error-code), the field of
// each missing_field dead letter, columns the rules do not know (ferry-unknown-fields on clean events),
// traps, restarts, lag per partition. Names follow Prometheus conventions (docs/style.md §9: ferry_<noun>_<unit>); the
// exposition is rendered by the relay's registry, so both processes escape labels the same way.
import { createRegistry } from '../../relay/metrics/registry.ts';

export interface RunnerMetricsSnapshot {
  recordsIn: number;
  recordsOut: number;
  deadLettered: number;
  /** Dead letters per `ferry-error-code` header (`unknown` when a dead letter has none). */
  deadLetteredByCode: Record<string, number>;
  /** missing_field dead letters per `ferry-error-field` (a column dropped upstream shows by name). */
  missingByField: Record<string, number>;
  /** Clean events per column named in their `ferry-unknown-fields` header (a column added upstream). */
  unknownFields: Record<string, number>;
  outByTopic: Record<string, number>;
  batches: number;
  traps: number;
  restarts: number;
  commits: number;
  /** Consumers that joined the group again after the previous one was lost (broker outage). */
  rejoins: number;
  /** partition -> records behind the high-water mark (last measured). */
  lag: Record<number, number>;
  partitions: number[];
}

export interface RunnerMetrics {
  countBatch(
    records: number,
    outputs: ReadonlyArray<{
      topic: string;
      headers?: ReadonlyArray<{ key: string; value: Uint8Array | null }>;
    }>,
  ): string[];
  countTrap(): void;
  countRestart(): void;
  countCommit(): void;
  countRejoin(): void;
  setLag(partition: number, lag: number): void;
  setPartitions(partitions: number[]): void;
  snapshot(): RunnerMetricsSnapshot;
  prometheus(labels: Record<string, string>): string;
}

export function isDeadLetterTopic(topic: string): boolean {
  return topic.startsWith('dlq.');
}

const decoder = new TextDecoder();

type Headers = ReadonlyArray<{ key: string; value: Uint8Array | null }> | undefined;

/** A header's text ('' when absent); read during the batch call: the bytes are reused later. */
function header(headers: Headers, key: string): string {
  const value = headers?.find((h) => h.key === key)?.value;
  return value ? decoder.decode(value) : '';
}

/**
 * Distinct label values kept per field-named counter: the names come from data (a hostile or broken
 * producer could send thousands), so past the cap they are counted under OTHER_FIELDS.
 */
export const MAX_FIELD_SERIES = 100;
export const OTHER_FIELDS = '_other';

function bump(counts: Record<string, number>, name: string): boolean {
  const known = Object.hasOwn(counts, name);
  const key = known || Object.keys(counts).length < MAX_FIELD_SERIES ? name : OTHER_FIELDS;
  counts[key] = (counts[key] ?? 0) + 1;
  return !known && key === name;
}

export function createRunnerMetrics(): RunnerMetrics {
  const s: RunnerMetricsSnapshot = {
    recordsIn: 0,
    recordsOut: 0,
    deadLettered: 0,
    deadLetteredByCode: {},
    missingByField: {},
    unknownFields: {},
    outByTopic: {},
    batches: 0,
    traps: 0,
    restarts: 0,
    commits: 0,
    rejoins: 0,
    lag: {},
    partitions: [],
  };
  return {
    countBatch(records, outputs) {
      s.batches++;
      s.recordsIn += records;
      const firstSeen: string[] = [];
      for (const o of outputs) {
        s.recordsOut++;
        s.outByTopic[o.topic] = (s.outByTopic[o.topic] ?? 0) + 1;
        if (isDeadLetterTopic(o.topic)) {
          s.deadLettered++;
          const code = header(o.headers, 'ferry-error-code') || 'unknown';
          s.deadLetteredByCode[code] = (s.deadLetteredByCode[code] ?? 0) + 1;
          if (code === 'missing_field')
            bump(s.missingByField, header(o.headers, 'ferry-error-field') || 'unknown');
          continue;
        }
        const unknown = header(o.headers, 'ferry-unknown-fields');
        if (unknown === '') continue;
        for (const field of unknown.split(','))
          if (field !== '' && bump(s.unknownFields, field)) firstSeen.push(field);
      }
      return firstSeen;
    },
    countTrap: () => void s.traps++,
    countRestart: () => void s.restarts++,
    countCommit: () => void s.commits++,
    countRejoin: () => void s.rejoins++,
    setLag(partition, lag) {
      s.lag[partition] = lag;
    },
    setPartitions(partitions) {
      s.partitions = [...partitions].sort((a, b) => a - b);
      for (const p of Object.keys(s.lag)) if (!partitions.includes(Number(p))) delete s.lag[Number(p)];
    },
    snapshot: () => structuredClone(s),
    prometheus(labels) {
      // A fresh registry per scrape, filled from the counts: one exposition format for relay and runner.
      const r = createRegistry();
      const names = Object.keys(labels);
      const counter = (name: string, help: string, value: number, extra: Record<string, string> = {}) =>
        r.counter(name, help, [...names, ...Object.keys(extra)]).inc({ ...labels, ...extra }, value);
      counter('ferry_transform_records_in_total', 'Records read and run through the module', s.recordsIn);
      r.counter('ferry_transform_records_out_total', 'Records the module wrote, per output topic', [
        ...names,
        'topic',
      ]);
      for (const [topic, n] of Object.entries(s.outByTopic))
        counter('ferry_transform_records_out_total', '', n, { topic });
      // Per ferry-error-code: a series appears with its code's first dead letter.
      r.counter(
        'ferry_transform_records_deadlettered_total',
        'Records sent to a dlq.* topic, per error code',
        [...names, 'code'],
      );
      for (const [code, n] of Object.entries(s.deadLetteredByCode))
        counter('ferry_transform_records_deadlettered_total', '', n, { code });
      r.counter(
        'ferry_transform_records_missing_field_total',
        'Records dead-lettered with missing_field, per field (a required column dropped upstream)',
        [...names, 'field'],
      );
      for (const [field, n] of Object.entries(s.missingByField))
        counter('ferry_transform_records_missing_field_total', '', n, { field });
      r.counter(
        'ferry_transform_unknown_fields_total',
        'Clean events with a column the rules do not name, per column (a column added upstream)',
        [...names, 'field'],
      );
      for (const [field, n] of Object.entries(s.unknownFields))
        counter('ferry_transform_unknown_fields_total', '', n, { field });
      counter('ferry_transform_batches_total', 'Batches processed', s.batches);
      counter('ferry_transform_traps_total', 'Wasm traps', s.traps);
      counter('ferry_transform_restarts_total', 'Module instances restarted', s.restarts);
      counter(
        'ferry_transform_consumer_rejoins_total',
        'Consumer group rejoins after a lost consumer',
        s.rejoins,
      );
      const lag = r.gauge('ferry_transform_lag_records', 'Records behind the high watermark, per partition', [
        ...names,
        'partition',
      ]);
      for (const [p, n] of Object.entries(s.lag)) lag.set({ ...labels, partition: p }, n);
      return r.render();
    },
  };
}
