// Runner metrics: records in / out (per topic) / dead-lettered, traps, restarts, lag per partition.
// Names follow Prometheus conventions (docs/style.md §9: ferry_<noun>_<unit>).

export interface RunnerMetricsSnapshot {
  recordsIn: number;
  recordsOut: number;
  deadLettered: number;
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
  countBatch(records: number, outputs: ReadonlyArray<{ topic: string }>): void;
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

export function createRunnerMetrics(): RunnerMetrics {
  const s: RunnerMetricsSnapshot = {
    recordsIn: 0,
    recordsOut: 0,
    deadLettered: 0,
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
      for (const o of outputs) {
        s.recordsOut++;
        s.outByTopic[o.topic] = (s.outByTopic[o.topic] ?? 0) + 1;
        if (isDeadLetterTopic(o.topic)) s.deadLettered++;
      }
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
      const l = (extra: Record<string, string> = {}) =>
        `{${Object.entries({ ...labels, ...extra })
          .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
          .join(',')}}`;
      const lines = [
        '# TYPE ferry_transform_records_in_total counter',
        `ferry_transform_records_in_total${l()} ${s.recordsIn}`,
        '# TYPE ferry_transform_records_out_total counter',
        ...Object.entries(s.outByTopic).map(
          ([topic, n]) => `ferry_transform_records_out_total${l({ topic })} ${n}`,
        ),
        '# TYPE ferry_transform_records_dead_lettered_total counter',
        `ferry_transform_records_dead_lettered_total${l()} ${s.deadLettered}`,
        '# TYPE ferry_transform_batches_total counter',
        `ferry_transform_batches_total${l()} ${s.batches}`,
        '# TYPE ferry_transform_traps_total counter',
        `ferry_transform_traps_total${l()} ${s.traps}`,
        '# TYPE ferry_transform_restarts_total counter',
        `ferry_transform_restarts_total${l()} ${s.restarts}`,
        '# TYPE ferry_transform_consumer_rejoins_total counter',
        `ferry_transform_consumer_rejoins_total${l()} ${s.rejoins}`,
        '# TYPE ferry_transform_lag_records gauge',
        ...Object.entries(s.lag).map(([p, n]) => `ferry_transform_lag_records${l({ partition: p })} ${n}`),
      ];
      return `${lines.join('\n')}\n`;
    },
  };
}
