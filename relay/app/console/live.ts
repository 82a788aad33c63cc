// What the console's live view polls: per sink the counters it turns into rates (delivered, retried,
// dead-lettered, deduplicated), the freshness histogram's sum and count, mode, breaker, in-flight,
// buffered and parked keys; per partition the consumer lag, pending records and pause flag. Everything
// comes from the relay's state and its metrics exposition: the console keeps no numbers of its own.
import type { Relay } from '../../core/relay.ts';
import { parsePrometheusText } from './prom-text.ts';

export interface LiveSink {
  readonly id: string;
  readonly mode: string;
  readonly breaker: string;
  readonly inFlight: number;
  readonly buffered: number;
  /** The first 50 waiting keys; `waitingKeys` counts them all. */
  readonly parkedKeys: readonly { key: string; reason: string; until: number; parked: boolean }[];
  readonly waitingKeys: number;
  readonly delivered: number;
  readonly retried: number;
  readonly deadlettered: number;
  /** Dead letters per `ferry-error-code` since start (the DLQ filter offers these codes). */
  readonly deadletteredByCode: Readonly<Record<string, number>>;
  readonly deduplicated: number;
  readonly freshnessSum: number;
  readonly freshnessCount: number;
}

export interface LiveSnapshot {
  readonly at: number;
  readonly instanceId: string;
  readonly ready: boolean;
  readonly reason?: string;
  readonly sinks: readonly LiveSink[];
  readonly partitions: readonly {
    topic: string;
    partition: number;
    lag: number | null;
    pending: number;
    paused: boolean;
  }[];
}

const COUNTERS = {
  ferry_records_delivered_total: 'delivered',
  ferry_retries_total: 'retried',
  ferry_records_deadlettered_total: 'deadlettered',
  ferry_records_deduplicated_total: 'deduplicated',
  ferry_freshness_seconds_sum: 'freshnessSum',
  ferry_freshness_seconds_count: 'freshnessCount',
} as const;
type CounterField = (typeof COUNTERS)[keyof typeof COUNTERS];
const LAG = 'ferry_consumer_lag_records';
const WANTED = new Set<string>([...Object.keys(COUNTERS), LAG]);

export async function liveSnapshot(
  relay: Relay,
  metrics: { render(): string },
  now: number,
): Promise<LiveSnapshot> {
  const state = relay.state();
  const readiness = await relay.readiness();
  const perSink = new Map<string, Record<CounterField, number>>();
  const lag = new Map<string, number>();
  const codes = new Map<string, Record<string, number>>();
  for (const s of parsePrometheusText(metrics.render(), WANTED)) {
    if (s.name === LAG) {
      lag.set(`${s.labels.topic}\u0000${s.labels.partition}`, s.value);
      continue;
    }
    const sink = s.labels.sink;
    if (sink === undefined) continue;
    let counts = perSink.get(sink);
    if (!counts) {
      counts = {
        delivered: 0,
        retried: 0,
        deadlettered: 0,
        deduplicated: 0,
        freshnessSum: 0,
        freshnessCount: 0,
      };
      perSink.set(sink, counts);
    }
    // deadlettered has one series per code: summed per sink, and kept per code.
    counts[COUNTERS[s.name as keyof typeof COUNTERS]] += s.value;
    const code = s.labels.code;
    if (s.name === 'ferry_records_deadlettered_total' && code !== undefined && s.value > 0) {
      const byCode = codes.get(sink) ?? {};
      byCode[code] = (byCode[code] ?? 0) + s.value;
      codes.set(sink, byCode);
    }
  }
  return {
    at: now,
    instanceId: state.instanceId,
    ready: readiness.ready,
    ...(readiness.reason ? { reason: readiness.reason } : {}),
    sinks: state.sinks.map((s) => {
      const counts = perSink.get(s.id);
      return {
        id: s.id,
        mode: s.mode,
        breaker: s.breaker,
        inFlight: s.inFlight,
        buffered: s.buffered,
        parkedKeys: s.parkedKeys
          .slice(0, 50)
          .map(({ key, reason, until, parked }) => ({ key, reason, until, parked })),
        waitingKeys: s.parkedKeys.length,
        delivered: counts?.delivered ?? 0,
        retried: counts?.retried ?? 0,
        deadlettered: counts?.deadlettered ?? 0,
        deadletteredByCode: codes.get(s.id) ?? {},
        deduplicated: counts?.deduplicated ?? 0,
        freshnessSum: counts?.freshnessSum ?? 0,
        freshnessCount: counts?.freshnessCount ?? 0,
      };
    }),
    partitions: state.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      lag: lag.get(`${p.topic}\u0000${p.partition}`) ?? null,
      pending: p.pending,
      paused: p.paused,
    })),
  };
}
