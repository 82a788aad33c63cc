// A Source that pulls from Redpanda's HTTP Proxy in bounded drains, for hosts that cannot hold a
// Kafka consumer open (a Worker's cron trigger, Deno Deploy's cron). It implements the core's Source
// port directly (not the push source): records are handed to the core as they are fetched, the core
// calls `commit` with what is terminal, and the drain sends exactly that to the proxy.
//
// One drain:
//   1. create the consumer instance (a stable name per deployment slot; a leftover instance of that
//      name, from a drain that crashed or still runs, is deleted and created again: the newer drain
//      takes over), subscribe it to the routed topics;
//   2. fetch until caught up (`idleFetches` empty answers in a row), `maxRecords` fetched, or the
//      fetch window (a share of the budget) is over; wait while the core has paused partitions or
//      holds `maxInFlight` records, keeping the instance alive with commits;
//   3. a record below what this drain already handed for its partition is not handed again (the
//      proxy may rewind a partition it got back in a rebalance);
//   4. until the budget ends, wait for the handed records to become terminal; then the core gives
//      the partitions up (onRevoked: unfinished records are dropped, later results ignored) and the
//      terminal offsets are committed. What was not terminal is fetched again next drain, which the
//      dedupe store makes safe;
//   5. delete the instance.
// A 404 for the instance (the proxy timed it out) mid-drain: partitions are given up as in 4 and the
// instance is created again (at most `maxInstances` per drain). A 409 when creating it again means
// a newer drain took the name over: this drain ends (`taken-over`) without deleting it.
//
// No Durable Object and no KV: the group's committed offsets (in Kafka, through the proxy) are the
// only state that outlives a drain, and group membership lasts exactly one drain.
import { createSystemClock, silentLogger } from '../../core/clock.ts';
import type {
  Clock,
  Logger,
  Source,
  SourceHandler,
  SourceRecord,
  TopicPartition,
} from '../../core/contracts.ts';
import { errorMessage, FerryError, isFerryError } from '../../core/errors.ts';
import type { HttpProxyClient } from './client.ts';
import { eventIdHeaders } from './event-id.ts';
import type { ProxyRecord } from './wire.ts';

export interface HttpProxySourceOptions {
  readonly client: HttpProxyClient;
  readonly group: string;
  readonly topics: readonly string[];
  /** The consumer instance's name: one per deployment slot (two Workers on a group: two names). */
  readonly instanceName: string;
  /** Long-poll time of one fetch (the proxy caps it at its consumer_request_timeout_ms). */
  readonly fetchTimeoutMs?: number;
  readonly fetchMaxBytes?: number;
  /** Top-level value field that holds the event id (`''`: none; see event-id.ts). */
  readonly eventIdField?: string;
  /** Empty fetch answers in a row that end the fetching (caught up). */
  readonly idleFetches?: number;
  /** Longest time without a request to the proxy while waiting (it drops idle instances). */
  readonly keepAliveMs?: number;
  /** How often waiting loops look again. */
  readonly pollMs?: number;
  /** Instances a drain may create (the first, plus re-creations after the proxy dropped one). */
  readonly maxInstances?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface DrainOptions {
  /** Wall time the drain may take, from its start to the instance's deletion request. */
  readonly budgetMs: number;
  /** Records handed to the relay at most (what the proxy returns beyond is left for the next drain). */
  readonly maxRecords: number;
  /** Makes the core commit what is terminal now (the relay's `commitNow`). */
  readonly flush: () => Promise<void>;
  /** Records handed to the core and not yet terminal, at most (then fetching waits). */
  readonly maxInFlight?: number;
  /** Share of the budget spent fetching; the rest lets handed records finish. */
  readonly fetchShare?: number;
  readonly signal?: AbortSignal;
}

export type DrainOutcome = 'caught-up' | 'deadline' | 'max-records' | 'taken-over' | 'stopped' | 'failed';

export interface DrainReport {
  readonly outcome: DrainOutcome;
  /** Records the proxy returned. */
  readonly fetched: number;
  /** Of those, below the committed offset or already handed in this drain (not handed again). */
  readonly skipped: number;
  /** Handed to the core. */
  readonly handed: number;
  /** Handed and not terminal when the drain ended: not committed, fetched again next drain. */
  readonly abandoned: number;
  /** Next offset to read per partition, as committed to the proxy by this drain. */
  readonly committed: ReadonlyArray<TopicPartition & { readonly next: bigint }>;
  readonly instances: number;
  readonly elapsedMs: number;
  readonly error?: { readonly code: string; readonly message: string; readonly retryable: boolean };
}

export interface HttpProxySource extends Source {
  /** One bounded drain; never rejects (failures are in the report). One drain at a time. */
  drain(options: DrainOptions): Promise<DrainReport>;
}

interface PartitionState {
  readonly tp: TopicPartition;
  /** Offsets below this are terminal (from the group's commit, or the core's commits). */
  floor: bigint;
  /** Offsets handed to the core in this drain and not yet known terminal, ascending. */
  readonly pending: bigint[];
  /** Highest offset handed + 1. */
  handedTo: bigint;
  /** Next offset the proxy has committed for us (what we sent last). */
  sent: bigint;
}

const keyOf = (tp: TopicPartition) => `${tp.topic}\u0000${tp.partition}`;

class DrainEnd extends Error {
  readonly outcome: DrainOutcome;
  constructor(outcome: DrainOutcome) {
    super(outcome);
    this.outcome = outcome;
  }
}

export function createHttpProxySource({
  client,
  group,
  topics,
  instanceName,
  fetchTimeoutMs = 1000,
  fetchMaxBytes = 1024 * 1024,
  eventIdField = 'eventId',
  idleFetches = 2,
  keepAliveMs = 2000,
  pollMs = 25,
  maxInstances = 3,
  clock = createSystemClock(),
  logger = silentLogger,
}: HttpProxySourceOptions): HttpProxySource {
  let handler: SourceHandler | undefined;
  let started = false;
  let stopped = false;
  let lastError: string | undefined;
  let running: Promise<DrainReport> | undefined;
  let stopDrain: AbortController | undefined;
  const paused = new Set<string>();
  /** Partitions of the running drain. */
  const parts = new Map<string, PartitionState>();

  function inFlight(): number {
    let n = 0;
    for (const s of parts.values()) n += s.pending.length;
    return n;
  }

  function toSourceRecord(r: ProxyRecord, now: number): SourceRecord {
    return {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      key: r.key,
      value: r.value,
      headers: eventIdHeaders(r.value, eventIdField),
      // The proxy does not return the record timestamp: the fetch time stands in for it.
      timestamp: now,
    };
  }

  async function runDrain({
    budgetMs,
    maxRecords,
    flush,
    maxInFlight = 1000,
    fetchShare = 0.75,
    signal,
  }: DrainOptions): Promise<DrainReport> {
    const h = handler;
    const startedAt = clock.now();
    const deadline = startedAt + budgetMs;
    const fetchUntil = startedAt + Math.floor(budgetMs * fetchShare);
    let fetched = 0;
    let skipped = 0;
    let handed = 0;
    let instances = 0;
    let instance: string | undefined;
    let lastRequestAt = startedAt;
    let lastCommitAt = startedAt;
    const committed = new Map<string, TopicPartition & { next: bigint }>();
    const report = (outcome: DrainOutcome, abandoned: number, error?: unknown): DrainReport => ({
      outcome,
      fetched,
      skipped,
      handed,
      abandoned,
      committed: [...committed.values()],
      instances,
      elapsedMs: clock.now() - startedAt,
      ...(error === undefined
        ? {}
        : {
            error: isFerryError(error)
              ? { code: error.code, message: error.message, retryable: error.retryable }
              : { code: 'FERRY_PROXY_PROTOCOL', message: errorMessage(error), retryable: false },
          }),
    });
    if (!h || stopped) return report('stopped', 0);

    const checkStop = () => {
      if (signal?.aborted || stopDrain?.signal.aborted) throw new DrainEnd('stopped');
    };

    /** Moves each partition's floor to what the core committed; drops terminal pending offsets. */
    const settle = () => {
      for (const s of parts.values()) {
        while (s.pending.length > 0 && (s.pending[0] as bigint) < s.floor) s.pending.shift();
      }
    };

    const isGone = (e: unknown) => isFerryError(e) && e.code === 'FERRY_PROXY_INSTANCE_GONE';
    function lostInstance(): void {
      if (instance === undefined) return;
      instance = undefined;
      logger.warn('http proxy: consumer instance gone (timed out on the proxy)', {
        group,
        instance: instanceName,
      });
    }
    /** Terminal progress of partitions given up while there was no instance to commit it with. */
    const carried = new Map<string, TopicPartition & { next: bigint }>();

    /** Commits terminal progress (`all`: every partition's, also unchanged ones, as a keep-alive). */
    async function commitToProxy(all = false): Promise<void> {
      const due = [...parts.values()].filter((s) => all || s.floor > s.sent);
      if (!instance) {
        for (const s of due) carried.set(keyOf(s.tp), { ...s.tp, next: s.floor });
        return;
      }
      const offsets = [...carried.values()];
      for (const s of due) offsets.push({ ...s.tp, next: s.floor });
      if (offsets.length === 0) return;
      lastRequestAt = clock.now();
      try {
        await client.commit(group, instance, offsets);
      } catch (e) {
        if (isGone(e)) {
          // Kept for the next instance of this drain (or lost to a re-fetch, which dedupe absorbs).
          lostInstance();
          for (const o of offsets) carried.set(keyOf(o), o);
          for (const s of due) s.sent = s.floor;
        }
        throw e;
      }
      carried.clear();
      for (const s of due) s.sent = s.floor;
      for (const o of offsets) committed.set(keyOf(o), o);
    }

    /**
     * At most `keepAliveMs` without a request while waiting (the proxy drops idle instances): commit
     * the terminal offsets again (a commit of the same offsets changes nothing). Never an empty commit:
     * Redpanda takes an empty body as "commit everything fetched", which would commit records that
     * are not terminal. (Reading committed offsets is no keep-alive here: that is a GET with a body,
     * which web fetch cannot send.)
     */
    async function keepAlive(): Promise<void> {
      if (!instance || clock.now() - lastRequestAt < keepAliveMs || parts.size === 0) return;
      await commitToProxy(true);
    }

    async function open(): Promise<void> {
      if (instances >= maxInstances)
        throw new FerryError(
          'FERRY_PROXY_INSTANCE_GONE',
          `the proxy dropped consumer instance ${instanceName} ${instances} times in one drain; giving up until the next drain`,
          { retryable: true },
        );
      instances++;
      try {
        await client.createConsumer(group, instanceName);
      } catch (e) {
        if (!(isFerryError(e) && e.code === 'FERRY_PROXY_INSTANCE_EXISTS')) throw e;
        // A re-creation found the name taken: a newer drain holds it now.
        if (instances > 1) throw new DrainEnd('taken-over');
        logger.warn('http proxy: consumer instance left over from an earlier drain, taking it over', {
          group,
          instance: instanceName,
        });
        try {
          await client.deleteConsumer(group, instanceName);
        } catch (err) {
          if (!(isFerryError(err) && err.code === 'FERRY_PROXY_INSTANCE_GONE')) throw err;
        }
        try {
          await client.createConsumer(group, instanceName);
        } catch (err) {
          // Another drain of this slot (an overlapping cron event) created the name in between.
          if (isFerryError(err) && err.code === 'FERRY_PROXY_INSTANCE_EXISTS')
            throw new DrainEnd('taken-over');
          throw err;
        }
      }
      instance = instanceName;
      lastRequestAt = clock.now();
      await client.subscribe(group, instanceName, topics);
      if (carried.size > 0) await commitToProxy();
    }

    /** Gives every partition up: the core drops what is unfinished and commits what is terminal. */
    async function release(): Promise<number> {
      settle();
      const all = [...parts.values()];
      if (all.length === 0) return 0;
      await h?.onRevoked(all.map((s) => s.tp));
      settle();
      const abandoned = inFlight();
      try {
        await commitToProxy();
      } catch (e) {
        if (!isGone(e)) throw e;
      } finally {
        parts.clear();
      }
      return abandoned;
    }

    /**
     * Partitions seen for the first time in this drain start at their first record: the proxy starts
     * a new instance just after the group's commit, so what lies below is terminal already.
     */
    function admit(records: readonly ProxyRecord[]): void {
      const fresh: TopicPartition[] = [];
      for (const r of records) {
        const k = keyOf(r);
        if (parts.has(k)) continue;
        const tp = { topic: r.topic, partition: r.partition };
        parts.set(k, { tp, floor: r.offset, pending: [], handedTo: r.offset, sent: r.offset });
        fresh.push(tp);
      }
      if (fresh.length > 0) h?.onAssigned(fresh);
    }

    const waitWhile = async (busy: () => boolean, until: number): Promise<void> => {
      while (busy() && clock.now() < until) {
        checkStop();
        await flush();
        settle();
        if (!busy()) return;
        await keepAlive();
        await clock.sleep(pollMs);
      }
    };

    /** The proxy dropped our instance: its partitions are given up (progress carried), then a new one. */
    async function reopen(): Promise<void> {
      lostInstance();
      await release();
      await open();
    }

    /** One fetch and the hand-over of what came; false once fetching should end. */
    async function fetchOnce(): Promise<boolean> {
      checkStop();
      if (clock.now() >= fetchUntil) return false;
      if (handed >= maxRecords) {
        outcome = 'max-records';
        return false;
      }
      await waitWhile(() => paused.size > 0 || inFlight() >= maxInFlight, fetchUntil);
      if (clock.now() >= fetchUntil) return false;
      lastRequestAt = clock.now();
      const records = await client.fetchRecords(group, instance as string, {
        timeoutMs: Math.max(0, Math.min(fetchTimeoutMs, fetchUntil - clock.now())),
        maxBytes: fetchMaxBytes,
      });
      if (records.length === 0) {
        if (++idle >= idleFetches) {
          outcome = 'caught-up';
          return false;
        }
        return true;
      }
      idle = 0;
      fetched += records.length;
      admit(records);
      const now = clock.now();
      const batch: SourceRecord[] = [];
      for (const r of records) {
        const s = parts.get(keyOf(r)) as PartitionState;
        if (r.offset < s.floor || r.offset < s.handedTo || handed + batch.length >= maxRecords) {
          skipped++;
          continue;
        }
        s.pending.push(r.offset);
        s.handedTo = r.offset + 1n;
        batch.push(toSourceRecord(r, now));
      }
      if (batch.length > 0) {
        handed += batch.length;
        h?.onRecords(batch);
      }
      await flush();
      settle();
      if (clock.now() - lastCommitAt >= keepAliveMs) {
        lastCommitAt = clock.now();
        await commitToProxy();
      }
      return true;
    }

    let outcome: DrainOutcome = 'deadline';
    let failure: unknown;
    let idle = 0;
    try {
      try {
        await open();
      } catch (e) {
        // Gone before the first fetch: another drain of this slot took the name over while ours
        // subscribed (re-creating it then ends as taken-over), or the proxy dropped it.
        if (!isGone(e)) throw e;
        await reopen();
      }
      for (;;) {
        try {
          if (!(await fetchOnce())) break;
        } catch (e) {
          if (!isGone(e)) throw e;
          await reopen();
        }
      }
      // Let what was handed finish, within the budget. Losing the instance meanwhile costs nothing:
      // the progress is carried to the commit at the end.
      try {
        await waitWhile(() => inFlight() > 0, deadline);
      } catch (e) {
        if (!isGone(e)) throw e;
        lostInstance();
        await waitWhile(() => inFlight() > 0, deadline);
      }
    } catch (e) {
      if (e instanceof DrainEnd) outcome = e.outcome;
      else {
        outcome = 'failed';
        failure = e;
      }
    }

    let abandoned = 0;
    try {
      await flush();
      abandoned = await release();
      // Terminal progress without an instance to commit it with: one more instance, if allowed.
      if (carried.size > 0 && outcome !== 'taken-over' && outcome !== 'stopped' && instances < maxInstances) {
        logger.info('http proxy: creating the consumer instance again to commit terminal offsets', { group });
        await open();
        await commitToProxy();
      }
      if (instance && outcome !== 'taken-over') {
        try {
          await client.deleteConsumer(group, instance);
        } catch (e) {
          // It times out on the proxy by itself; the next drain takes the name over anyway.
          logger.warn('http proxy: could not delete the consumer instance', { error: errorMessage(e) });
        }
        instance = undefined;
      }
    } catch (e) {
      if (e instanceof DrainEnd) outcome = e.outcome;
      else {
        failure ??= e;
        if (outcome !== 'stopped') outcome = 'failed';
      }
      abandoned = inFlight();
      parts.clear();
    }
    lastError =
      outcome === 'failed' && failure !== undefined && !(isFerryError(failure) && failure.retryable)
        ? errorMessage(failure)
        : undefined;
    if (abandoned > 0 && (outcome === 'caught-up' || outcome === 'max-records')) outcome = 'deadline';
    const result = report(outcome, abandoned, failure);
    (outcome === 'failed' ? logger.error : logger.info)('http proxy drain ended', {
      outcome,
      fetched,
      skipped,
      handed,
      abandoned,
      instances,
      elapsedMs: result.elapsedMs,
      ...(result.error ? { code: result.error.code, error: result.error.message } : {}),
    });
    return result;
  }

  return {
    async start(h) {
      handler = h;
      started = true;
    },
    pause(tps) {
      for (const tp of tps) paused.add(keyOf(tp));
    },
    resume(tps) {
      for (const tp of tps) paused.delete(keyOf(tp));
    },
    async commit(offsets) {
      for (const o of offsets) {
        const s = parts.get(keyOf(o));
        if (s && o.offset > s.floor) s.floor = o.offset;
      }
    },
    lag: () => [],
    isConnected: () => started && !stopped && lastError === undefined,
    notReadyReason: () => (lastError === undefined ? undefined : `http proxy: ${lastError}`),
    drain: function drain(options: DrainOptions): Promise<DrainReport> {
      if (running) return running.then(() => drain(options));
      stopDrain = new AbortController();
      running = runDrain(options).finally(() => {
        running = undefined;
      });
      return running;
    },
    async stop() {
      stopped = true;
      stopDrain?.abort();
      await running;
    },
  };
}
