// createRelay wires the pipeline: partition intake -> per-sink, per-key lanes -> policy-wrapped
// delivery -> terminal outcomes -> the offset tracker, which commits each partition's low-water mark
// of terminal records. Everything runtime-specific (Kafka, HTTP client, Redis, timers) comes in
// through the arguments; two relays in one process share nothing.
import { createSystemClock, silentLogger } from './clock.ts';
import type {
  Clock,
  DeadLetterReason,
  DedupeStore,
  DlqWriter,
  HttpSender,
  Logger,
  Metrics,
  Outcome,
  Source,
  SourceHandler,
  SourceRecord,
  TopicPartition,
} from './contracts.ts';
import { type Attempted, freshAttempts, type TrackedDelivery } from './deliver.ts';
import { createDeadLetterer } from './dlq-write.ts';
import { errorMessage } from './errors.ts';
import { matchesFilter } from './filter.ts';
import { createJsonScanner } from './json-scan.ts';
import { createOffsetTracker, type OffsetTracker, type RecordTicket } from './offset-tracker.ts';
import type { RelayOptions, SinkOptions } from './options.ts';
import { commitTimestampOf, eventIdOf, orderingKeyOf, parseValue } from './record.ts';
import type { Redactor } from './redact.ts';
import { planReload, type ReloadResult } from './reload.ts';
import { createSinkRunner, type SinkRunner, type SinkState } from './sink-runner.ts';

export type { ReloadResult } from './reload.ts';

export type DedupeStores = Readonly<Partial<Record<SinkOptions['dedupe']['store'], DedupeStore>>>;

export interface CreateRelayOptions {
  readonly config: RelayOptions;
  readonly source: Source;
  /** One sender per sink (own connection pool), or a factory. */
  readonly senders: Readonly<Record<string, HttpSender>> | ((sink: SinkOptions) => HttpSender);
  readonly dedupe?: DedupeStores;
  readonly dlq: DlqWriter;
  readonly metrics: Metrics;
  readonly clock?: Clock;
  readonly instanceId: string;
  readonly logger?: Logger;
  /** Random source for backoff jitter (tests pin it). */
  readonly random?: () => number;
  /** Scrubs text from outside (client errors, response bodies) before reasons and logs (redact.ts). */
  readonly redact?: Redactor;
}

export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly pending: number;
  readonly paused: boolean;
}

export interface RelayState {
  readonly instanceId: string;
  readonly running: boolean;
  readonly stopping: boolean;
  readonly sourceConnected: boolean;
  readonly sinks: readonly SinkState[];
  readonly partitions: readonly PartitionState[];
}

export type ReplayOutcome = Outcome | 'abandoned' | 'unparseable';

export interface Relay {
  readonly instanceId: string;
  start(): Promise<void>;
  /** Graceful: stop fetching, let in-flight work finish until the deadline, commit, leave the group. */
  stop(options?: { readonly deadlineMs?: number }): Promise<void>;
  state(): RelayState;
  sinkIds(): string[];
  pauseSink(id: string): boolean;
  resumeSink(id: string): boolean;
  /** Sends one record (e.g. read back from dlq.relay) through one sink's lane; not tied to offsets. */
  replay(sinkId: string, record: SourceRecord): Promise<ReplayOutcome>;
  /**
   * Readiness: source connected, every dedupe store in use reachable, and no record held because the
   * DLQ refused it for a permanent reason (`dlq: false`); `reason` says why not.
   */
  readiness(): Promise<{
    readonly ready: boolean;
    readonly source: boolean;
    readonly dedupe: Readonly<Record<string, boolean>>;
    readonly dlq: boolean;
    readonly reason?: string;
  }>;
  /** Commits what is committable now (also runs every commitIntervalMs). */
  commitNow(): Promise<void>;
  /**
   * Applies new routes while running (reload.ts has the rules): unchanged sinks keep their lanes and
   * in-flight records; removed sinks stop taking records and finish what they hold; a changed sink
   * gets a new lane that starts once the old one has finished, so per-key order holds. Refused, with
   * nothing changed, when the new routes need what only a restart gives (a new topic).
   */
  reload(next: RelayOptions, senders?: (sink: SinkOptions) => HttpSender): ReloadResult;
}

const tpKey = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

/**
 * One record routed to one sink, tied to its offset ticket. A class, so the per-record path allocates
 * one object per route instead of a Delivery, two closures and the sink's tracked copy.
 */
class RoutedRecord implements TrackedDelivery {
  readonly record: SourceRecord;
  readonly value: unknown;
  readonly commitTimestamp: number;
  readonly eventId: string;
  readonly key: string;
  readonly state: Attempted = freshAttempts();
  readonly #tracker: OffsetTracker;
  readonly #ticket: RecordTicket;

  constructor(
    record: SourceRecord,
    value: unknown,
    commitTimestamp: number,
    eventId: string,
    key: string,
    tracker: OffsetTracker,
    ticket: RecordTicket,
  ) {
    this.record = record;
    this.value = value;
    this.commitTimestamp = commitTimestamp;
    this.eventId = eventId;
    this.key = key;
    this.#tracker = tracker;
    this.#ticket = ticket;
  }

  isCurrent(): boolean {
    return this.#tracker.isCurrent(this.#ticket);
  }

  done(outcome: Outcome | 'abandoned'): void {
    if (outcome !== 'abandoned') this.#tracker.settle(this.#ticket);
  }
}
const PARSE_SINK = '*';

export function createRelay({
  config,
  source,
  senders,
  dedupe = {},
  dlq,
  metrics,
  clock = createSystemClock(),
  instanceId,
  logger = silentLogger,
  random,
  redact,
}: CreateRelayOptions): Relay {
  const consumed = metrics.counter(
    'ferry_records_consumed_total',
    'Records taken from the source, per sink they are routed to',
    ['sink'],
  );
  const filtered = metrics.counter(
    'ferry_records_filtered_total',
    'Records a sink filter (or a tombstone) skipped, per sink',
    ['sink'],
  );
  const unparseable = metrics.counter(
    'ferry_records_unparseable_total',
    'Records whose value is not JSON, per topic (sent to the DLQ)',
    ['topic'],
  );
  const deadlettered = metrics.counter(
    'ferry_records_deadlettered_total',
    'Records written to dlq.relay, per sink and code',
    ['sink', 'code'],
  );
  const lagGauge = metrics.gauge('ferry_consumer_lag_records', 'Consumer lag per partition', [
    'topic',
    'partition',
  ]);
  const commitsCounter = metrics.counter(
    'ferry_offset_commits_total',
    'Offset commits sent to the source',
    [],
  );
  const pausedGauge = metrics.gauge(
    'ferry_paused_partitions',
    'Partitions paused because a sink buffer is full',
    [],
  );

  const tracker: OffsetTracker = createOffsetTracker();
  const stopper = new AbortController();
  const paused = new Map<string, TopicPartition>();
  const revoking = new Set<string>();
  let running = false;
  let stopping = false;
  let flowScheduled = false;

  const senderFor = (sink: SinkOptions): HttpSender => {
    if (typeof senders === 'function') return senders(sink);
    const s = senders[sink.id] ?? senders.default;
    if (!s) throw new Error(`no HTTP sender for sink ${sink.id}`);
    return s;
  };

  // One dead-letter rule (retry, hold, metrics, rate-limited log) for the parse path and every sink lane.
  const deadLetters = createDeadLetterer({ dlq, metrics, clock, logger });
  const runners = new Map<string, SinkRunner>();
  // Lanes of sinks a reload removed or replaced: they take no new records and finish what they hold.
  const retiring = new Set<SinkRunner>();
  // Topics with a sink that reads fields of the value: their records are parsed at intake; the others
  // are only scanned (json-scan.ts), and their sinks send the original bytes.
  const parsedTopics = new Set<string>();
  const scanner = createJsonScanner();
  const topicsOfSink = new Map<string, Set<string>>();
  const sinksByTopic = new Map<string, SinkRunner[]>();
  let routes = config.routes;
  // The source subscribes once, at start: a reload can route only these topics.
  const subscribed = new Set(config.routes.flatMap((r) => r.topics));

  function buildRunner(sink: SinkOptions, sender: HttpSender): SinkRunner {
    const store = sink.dedupe.enabled ? dedupe[sink.dedupe.store] : undefined;
    if (sink.dedupe.enabled && !store)
      throw new Error(`sink ${sink.id}: dedupe store ${sink.dedupe.store} was not provided`);
    const runner = createSinkRunner({
      sink,
      sender,
      dedupe: store,
      dlq: deadLetters,
      metrics,
      clock,
      logger,
      onFlowChange: () => scheduleFlowControl(),
      ...(random ? { random } : {}),
      ...(redact ? { redact } : {}),
    });
    consumed.inc({ sink: sink.id }, 0);
    filtered.inc({ sink: sink.id }, 0);
    return runner;
  }

  /** Recomputes what intake reads (topic -> lanes, parsed topics) from `routes` and `runners`. */
  function rebuildRouting(): void {
    parsedTopics.clear();
    topicsOfSink.clear();
    sinksByTopic.clear();
    for (const route of routes) {
      for (const sink of route.sinks) {
        const runner = runners.get(sink.id)!;
        topicsOfSink.set(sink.id, new Set(route.topics));
        for (const topic of route.topics) {
          if (runner.readsValue) parsedTopics.add(topic);
          const list = sinksByTopic.get(topic) ?? [];
          list.push(runner);
          sinksByTopic.set(topic, list);
        }
      }
    }
  }

  for (const route of config.routes)
    for (const sink of route.sinks) runners.set(sink.id, buildRunner(sink, senderFor(sink)));
  rebuildRouting();

  /** Every lane that may still hold records: the current ones and the retiring ones. */
  const allRunners = (): SinkRunner[] => [...runners.values(), ...retiring];

  /** Stops retiring lanes that have finished, and starts the lanes that waited for them. */
  function retireFinished(): void {
    for (const old of retiring) {
      const s = old.state();
      if (s.buffered > 0 || s.inFlight > 0) continue;
      old.stop();
      retiring.delete(old);
      const successor = runners.get(old.id);
      if (successor && handover.get(old.id) === successor) {
        handover.delete(old.id);
        if (!operatorPaused.has(old.id)) successor.resume();
      }
      logger.info('reload: retired lane finished', { sink: old.id });
    }
  }
  // A new lane of a changed sink, held paused until the old lane of the same id has finished.
  const handover = new Map<string, SinkRunner>();
  // Sinks an operator paused: a reload keeps them paused.
  const operatorPaused = new Set<string>();

  function scheduleFlowControl(): void {
    if (flowScheduled) return;
    flowScheduled = true;
    queueMicrotask(() => {
      flowScheduled = false;
      flowControl();
    });
  }

  /** Pauses the partitions feeding a full sink buffer; resumes them once no sink they feed is full. */
  function flowControl(): void {
    const desired = new Map<string, TopicPartition>();
    const all = tracker.partitions();
    if (stopping) for (const tp of all) desired.set(tpKey(tp), tp);
    for (const runner of allRunners()) {
      if (!runner.isFull()) continue;
      const topics = topicsOfSink.get(runner.id) ?? new Set();
      for (const tp of all) if (topics.has(tp.topic)) desired.set(tpKey(tp), tp);
    }
    const toPause = [...desired].filter(([k]) => !paused.has(k)).map(([, tp]) => tp);
    const toResume = [...paused].filter(([k]) => !desired.has(k)).map(([, tp]) => tp);
    for (const tp of toPause) paused.set(tpKey(tp), tp);
    for (const tp of toResume) paused.delete(tpKey(tp));
    if (toPause.length > 0) {
      logger.info('pausing partitions', { partitions: toPause.map((p) => `${p.topic}/${p.partition}`) });
      source.pause(toPause);
    }
    if (toResume.length > 0) {
      logger.info('resuming partitions', { partitions: toResume.map((p) => `${p.topic}/${p.partition}`) });
      source.resume(toResume);
    }
    pausedGauge.set({}, paused.size);
  }

  const sleep = async (ms: number) => {
    try {
      await clock.sleep(ms, stopper.signal);
      return true;
    } catch {
      return false;
    }
  };

  /** Dead-letters a record no sink can use (unparseable value), by the shared rule in dlq-write.ts. */
  async function deadLetterUnparseable(
    record: SourceRecord,
    message: string,
    isCurrent: () => boolean,
  ): Promise<boolean> {
    const now = clock.now();
    const reason: DeadLetterReason = {
      stage: 'parse',
      code: 'FERRY_RECORD_UNPARSEABLE',
      message,
      sink: PARSE_SINK,
      attempts: 0,
      firstFailureAt: now,
      lastFailureAt: now,
    };
    const kind = await deadLetters.write(record, reason, isCurrent, stopper.signal);
    if (kind === undefined) return false;
    deadlettered.inc({ sink: PARSE_SINK, code: reason.code });
    return true;
  }

  function intake(record: SourceRecord): void {
    const sinks = sinksByTopic.get(record.topic) ?? [];
    if (sinks.length === 0) {
      tracker.track(record.topic, record.partition, record.offset, 0);
      return;
    }
    for (const runner of sinks) consumed.inc(runner.labels);
    const bytes = record.value;
    let value: unknown = null;
    let commitTimestamp = record.timestamp;
    if (bytes !== null) {
      if (!parsedTopics.has(record.topic) && scanner.scan(bytes)) {
        // Well-formed JSON that no sink of the topic looks into: no decode, no parse.
        value = scanner.isNull ? null : undefined;
        const ts = scanner.commitTimestamp(bytes, record);
        if (ts !== undefined) commitTimestamp = ts;
        else {
          // A watched key was escaped ("\u0073ource"): rare, parse to be exact.
          const parsed = parseValue(record);
          if (parsed.ok) commitTimestamp = commitTimestampOf(parsed.value, record);
        }
      } else {
        const parsed = parseValue(record);
        if (!parsed.ok) {
          unparseable.inc({ topic: record.topic });
          const ticket = tracker.track(record.topic, record.partition, record.offset, 1);
          void deadLetterUnparseable(record, parsed.message, () => tracker.isCurrent(ticket)).then((ok) => {
            if (ok) tracker.settle(ticket);
          });
          return;
        }
        value = parsed.value;
        commitTimestamp = commitTimestampOf(value, record);
      }
    }
    const targets: SinkRunner[] = [];
    for (const runner of sinks) {
      // A tombstone (null value) carries nothing to deliver: it counts as filtered.
      if (value === null || !matchesFilter(value, runner.sink.filter)) filtered.inc(runner.labels);
      else targets.push(runner);
    }
    const ticket = tracker.track(record.topic, record.partition, record.offset, targets.length);
    if (targets.length === 0) return;
    const eventId = eventIdOf(record);
    const key = orderingKeyOf(record);
    for (const runner of targets)
      runner.enqueue(new RoutedRecord(record, value, commitTimestamp, eventId, key, tracker, ticket));
  }

  async function commitNow(): Promise<void> {
    const offsets = tracker.takeCommittable();
    if (offsets.length === 0) return;
    try {
      await source.commit(offsets);
      commitsCounter.inc({});
    } catch (e) {
      tracker.uncommit(offsets);
      logger.warn('offset commit failed, will retry', { error: errorMessage(e) });
    }
  }

  function refreshLag(): void {
    try {
      for (const l of source.lag())
        lagGauge.set({ topic: l.topic, partition: String(l.partition) }, Number(l.lag));
    } catch {
      // lag is best effort
    }
  }

  async function commitLoop(): Promise<void> {
    while (await sleep(config.commitIntervalMs)) {
      if (retiring.size > 0) retireFinished();
      await commitNow();
      refreshLag();
    }
  }

  const pendingIn = (tps: readonly TopicPartition[]) => tps.reduce((n, tp) => n + tracker.pending(tp), 0);

  async function waitFor(condition: () => boolean, deadline: number): Promise<void> {
    while (!condition() && clock.now() < deadline) {
      try {
        await clock.sleep(10);
      } catch {
        return;
      }
    }
  }

  const handler: SourceHandler = {
    onRecords(records) {
      if (stopping) return;
      for (const record of records) {
        if (revoking.has(tpKey(record))) continue;
        intake(record);
      }
      scheduleFlowControl();
    },
    async onRevoked(partitions) {
      for (const tp of partitions) revoking.add(tpKey(tp));
      // The new owner may already be reading these partitions (from the last commit), so queued records
      // are dropped at once; deliveries in flight get until revokeTimeout to finish, so their dedupe
      // claims end as `done` or released rather than leaving the new owner waiting for a lease.
      const abandoned = pendingIn(partitions);
      for (const runner of allRunners()) runner.abandon(partitions);
      const busy = () => allRunners().reduce((n, r) => n + r.busyIn(partitions), 0);
      if (!stopper.signal.aborted) await waitFor(() => busy() === 0, clock.now() + config.revokeTimeoutMs);
      const wanted = new Set(partitions.map(tpKey));
      const offsets = tracker.takeCommittable().filter((o) => wanted.has(tpKey(o)));
      if (offsets.length > 0) {
        try {
          await source.commit(offsets);
        } catch (e) {
          logger.warn('commit on revoke failed', { error: errorMessage(e) });
        }
      }
      tracker.revoke(partitions);
      for (const tp of partitions) {
        paused.delete(tpKey(tp));
        revoking.delete(tpKey(tp));
      }
      logger.info('partitions revoked', {
        partitions: partitions.map((p) => `${p.topic}/${p.partition}`),
        openRecords: abandoned,
        stillInFlight: busy(),
      });
    },
    onAssigned(partitions) {
      tracker.assign(partitions);
      logger.info('partitions assigned', { partitions: partitions.map((p) => `${p.topic}/${p.partition}`) });
      scheduleFlowControl();
    },
  };

  return {
    instanceId,
    async start() {
      if (running) return;
      running = true;
      void commitLoop();
      await source.start(handler);
      logger.info('relay started', { instanceId, sinks: [...runners.keys()] });
    },
    async stop({ deadlineMs = config.shutdownTimeoutMs } = {}) {
      if (stopping) return;
      stopping = true;
      const deadline = clock.now() + deadlineMs;
      flowControl();
      await waitFor(() => pendingIn(tracker.partitions()) === 0, deadline);
      stopper.abort();
      for (const runner of allRunners()) runner.stop();
      retiring.clear();
      await commitNow();
      try {
        await source.stop();
      } catch (e) {
        logger.warn('source stop failed', { error: errorMessage(e) });
      }
      running = false;
      logger.info('relay stopped', { instanceId, abandoned: pendingIn(tracker.partitions()) });
    },
    state() {
      return {
        instanceId,
        running,
        stopping,
        sourceConnected: source.isConnected(),
        sinks: [...runners.values()].map((r) => r.state()),
        partitions: tracker
          .partitions()
          .map((tp) => ({ ...tp, pending: tracker.pending(tp), paused: paused.has(tpKey(tp)) })),
      };
    },
    sinkIds() {
      return [...runners.keys()];
    },
    pauseSink(id) {
      const runner = runners.get(id);
      if (!runner) return false;
      operatorPaused.add(id);
      runner.pause();
      for (const old of retiring) if (old.id === id) old.pause();
      return true;
    },
    resumeSink(id) {
      const runner = runners.get(id);
      if (!runner) return false;
      operatorPaused.delete(id);
      for (const old of retiring) if (old.id === id) old.resume();
      // A lane waiting for its predecessor starts when that one has finished.
      if (!handover.has(id)) runner.resume();
      return true;
    },
    replay(sinkId, record) {
      const runner = runners.get(sinkId);
      if (!runner) return Promise.reject(new Error(`unknown sink ${sinkId}`));
      const parsed = parseValue(record);
      if (!parsed.ok) return Promise.resolve('unparseable');
      if (parsed.value === null || !matchesFilter(parsed.value, runner.sink.filter))
        return Promise.resolve('filtered');
      return new Promise((resolve) => {
        runner.enqueue({
          record,
          value: parsed.value,
          commitTimestamp: commitTimestampOf(parsed.value, record),
          eventId: eventIdOf(record),
          key: orderingKeyOf(record),
          isCurrent: () => !stopper.signal.aborted,
          done: resolve,
        });
      });
    },
    async readiness() {
      const used = new Set<SinkOptions['dedupe']['store']>();
      for (const r of runners.values()) if (r.sink.dedupe.enabled) used.add(r.sink.dedupe.store);
      const results: Record<string, boolean> = {};
      await Promise.all(
        [...used].map(async (name) => {
          try {
            results[name] = (await dedupe[name]?.ping()) === true;
          } catch {
            results[name] = false;
          }
        }),
      );
      const sourceOk = source.isConnected();
      const dlqOk = deadLetters.blocked() === 0;
      const ready = sourceOk && Object.values(results).every(Boolean) && dlqOk && !stopping;
      if (ready) return { ready, source: sourceOk, dedupe: results, dlq: dlqOk };
      const down = Object.keys(results).filter((name) => !results[name]);
      const reason = stopping
        ? 'stopping'
        : !sourceOk
          ? (source.notReadyReason?.() ?? 'source not connected')
          : down.length > 0
            ? `dedupe store ${down.join(', ')} unreachable`
            : `${deadLetters.blocked()} record(s) held: the DLQ refuses them (see ferry_dlq_write_failures_total)`;
      return { ready, source: sourceOk, dedupe: results, dlq: dlqOk, reason };
    },
    commitNow,
    reload(next, makeSender) {
      if (stopping) return { ok: false, errors: ['the relay is stopping'] };
      const plan = planReload({ current: { ...config, routes }, next, subscribed, stores: dedupe });
      if (!plan.ok) return plan;
      let built: Map<string, SinkRunner>;
      try {
        built = new Map(
          [...plan.added, ...plan.changed].map((sink) => [
            sink.id,
            buildRunner(sink, makeSender ? makeSender(sink) : senderFor(sink)),
          ]),
        );
      } catch (e) {
        return { ok: false, errors: [errorMessage(e)] };
      }
      for (const id of [...plan.removed, ...plan.changed.map((s) => s.id)]) {
        const old = runners.get(id);
        if (!old) continue;
        runners.delete(id);
        retiring.add(old);
      }
      for (const id of plan.removed) {
        operatorPaused.delete(id);
        handover.delete(id);
      }
      for (const [id, runner] of built) {
        // A changed sink's new lane waits for the old one, so one key is never on two lanes at once.
        if ([...retiring].some((r) => r.id === id)) {
          runner.pause();
          handover.set(id, runner);
        }
        runners.set(id, runner);
      }
      routes = next.routes;
      rebuildRouting();
      retireFinished();
      scheduleFlowControl();
      logger.info('reload applied', { ...plan.summary });
      return { ok: true, summary: plan.summary };
    },
  };
}
