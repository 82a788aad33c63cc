// The Kafka source's rejoin watchdog. @platformatic/kafka rejoins in the background when a heartbeat
// answers "rejoin" (unknown member, rebalance in progress, illegal generation); when that JoinGroup
// fails (its retries run out, e.g. the broker went away again) it emits 'error' and 'consumer:rejoin',
// cancels its heartbeat for good and never tries again: consumer.isActive() stays false. Only a later
// commit's own rejoin could bring it back, so an idle topic stays out of the group until a restart.
//
// The watchdog notices (the client's rejoin ended and the consumer is inactive; or it is inactive with
// no join in flight; or inactive longer than any join can take), tells the source to drop its assignment (revocation
// through the normal path), and rejoins with capped exponential backoff and jitter. One rejoin at a
// time; every failed attempt sleeps; an episode that starts soon after the previous one ended carries
// on from its backoff, so no path loops hot. stop() ends checks and wakes a sleeping backoff.
import { silentLogger } from '../core/clock.ts';
import type { Logger, Metrics } from '../core/contracts.ts';

export interface RejoinWatchdogOptions {
  readonly groupId: string;
  /** True while the consumer is a group member (consumer.isActive()). */
  readonly isMember: () => boolean;
  /** One JoinGroup (+ SyncGroup) attempt; resolves when joined. */
  readonly join: () => Promise<void>;
  /** Membership is lost: drop the whole assignment before the first attempt of an episode. */
  readonly onLost: () => void;
  /**
   * Whether the client has a JoinGroup of its own in flight (the source traces the client's group
   * operations). Not in flight and inactive = lost, at once; unknown (the default) = wait out graceMs.
   */
  readonly joinInFlight?: () => boolean;
  /** How long the consumer may look inactive (a join in flight looks the same) before it counts as lost. */
  readonly graceMs: number;
  readonly checkMs?: number;
  /** First backoff; doubles per failed attempt up to the cap; each drawn uniformly in [d/2, d]. */
  readonly backoffMs?: number;
  readonly backoffCapMs?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number, wake: AbortSignal) => Promise<void>;
}

export interface RejoinWatchdog {
  /** Starts the periodic membership check. */
  start(): void;
  /** One membership check; `clientRejoinEnded` when the client's own background rejoin just finished. */
  check(clientRejoinEnded?: boolean): void;
  /** Ends checks and wakes a sleeping backoff; the rejoin in flight (if any) ends at its next step. */
  stop(): void;
  /** Resolves once no rejoin is running. */
  settled(): Promise<void>;
  rejoining(): boolean;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 500);

const defaultSleep = (ms: number, wake: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (wake.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      wake.removeEventListener('abort', done);
      resolve();
    }
    wake.addEventListener('abort', done);
  });

export function createRejoinWatchdog({
  groupId,
  isMember,
  join,
  onLost,
  joinInFlight = () => true,
  graceMs,
  checkMs = 1_000,
  backoffMs = 500,
  backoffCapMs = 15_000,
  logger = silentLogger,
  metrics,
  now = Date.now,
  random = Math.random,
  sleep = defaultSleep,
}: RejoinWatchdogOptions): RejoinWatchdog {
  const attempts = metrics?.counter(
    'ferry_kafka_rejoin_attempts_total',
    'Consumer group rejoins the Kafka source started after the client lost its membership, by result',
    ['result'],
  );
  const member = metrics?.gauge(
    'ferry_kafka_group_member',
    '1 while the Kafka consumer is a member of its group (heartbeating), else 0',
  );
  member?.set({}, 0);
  const stopper = new AbortController();
  let timer: ReturnType<typeof setInterval> | undefined;
  let inFlight: Promise<void> | undefined;
  let inactiveSince: number | undefined;
  let lastEpisodeEnd = Number.NEGATIVE_INFINITY;
  let backToBack = 0;

  const backoff = (n: number) => {
    const d = Math.min(backoffCapMs, backoffMs * 2 ** Math.min(n, 30));
    return Math.round(d / 2 + (random() * d) / 2);
  };

  async function episode(reason: string): Promise<void> {
    backToBack = now() - lastEpisodeEnd < backoffCapMs ? backToBack + 1 : 0;
    logger.warn('kafka group membership lost', { groupId, reason, episode: backToBack });
    onLost();
    if (backToBack > 0) await sleep(backoff(backToBack), stopper.signal);
    for (let attempt = 1; !stopper.signal.aborted; attempt++) {
      if (isMember()) {
        // The client got back in by itself during the backoff (a commit's own rejoin): one more
        // JoinGroup now would only force another rebalance.
        logger.info('kafka group membership back without a watchdog rejoin', { groupId, attempt });
        return;
      }
      const t0 = now();
      logger.info('kafka group rejoin attempt', { groupId, attempt });
      try {
        await join();
        if (stopper.signal.aborted) return;
        if (!isMember()) throw new Error('joinGroup returned without group membership');
        attempts?.inc({ result: 'ok' });
        logger.info('kafka group rejoined', { groupId, attempt, ms: now() - t0 });
        return;
      } catch (error) {
        if (stopper.signal.aborted) return;
        attempts?.inc({ result: 'failed' });
        const delay = backoff(backToBack + attempt - 1);
        logger.warn('kafka group rejoin failed', {
          groupId,
          attempt,
          ms: now() - t0,
          retryInMs: delay,
          error: message(error),
        });
        await sleep(delay, stopper.signal);
      }
    }
  }

  function check(clientRejoinEnded = false): void {
    const active = isMember();
    member?.set({}, active ? 1 : 0);
    if (stopper.signal.aborted || inFlight !== undefined) return;
    if (active) {
      inactiveSince = undefined;
      return;
    }
    const t = now();
    inactiveSince ??= t;
    const idle = clientRejoinEnded || !joinInFlight();
    if (!idle && t - inactiveSince < graceMs) return;
    const reason = clientRejoinEnded
      ? 'background rejoin failed'
      : idle
        ? 'not a member and no join in flight'
        : `not a member for ${t - inactiveSince} ms`;
    inFlight = episode(reason)
      .catch((error: unknown) =>
        logger.error('kafka group rejoin watchdog failed', { groupId, error: message(error) }),
      )
      .finally(() => {
        inFlight = undefined;
        inactiveSince = undefined;
        lastEpisodeEnd = now();
        member?.set({}, isMember() ? 1 : 0);
      });
  }

  return {
    start() {
      if (timer !== undefined || stopper.signal.aborted) return;
      member?.set({}, isMember() ? 1 : 0);
      timer = setInterval(() => check(false), checkMs);
    },
    check,
    stop() {
      clearInterval(timer);
      stopper.abort();
      member?.set({}, 0);
    },
    settled: () => inFlight ?? Promise.resolve(),
    rejoining: () => inFlight !== undefined,
  };
}
