// One DLQ replay at a time per relay, shared by the admin API (which waits for the report) and the
// console (which starts a replay and polls its progress). A second request while one runs is refused.
import type { Clock, DlqReader, Logger } from '../core/contracts.ts';
import type { Relay } from '../core/relay.ts';
import {
  type ReplayFilter,
  type ReplayProgress,
  type ReplayReport,
  replayDeadLetters,
} from '../core/replay.ts';

export interface ReplayJob {
  readonly sink: string;
  readonly dryRun: boolean;
  readonly startedAt: number;
  readonly running: boolean;
  readonly progress: ReplayProgress;
  readonly report?: ReplayReport;
  /** Set when the replay failed (the message is for the log; the console shows that it failed). */
  readonly failed?: true;
}

export interface ReplayRunner {
  /** Runs a replay and resolves with its report, or `busy` while another one runs. */
  run(filter: ReplayFilter): Promise<ReplayReport | 'busy'>;
  /** Starts a replay in the background; its progress is read with `last()`. */
  start(filter: ReplayFilter): ReplayJob | 'busy';
  /** The running replay, else the last one (undefined before the first). */
  last(): ReplayJob | undefined;
}

const NO_PROGRESS: ReplayProgress = { scanned: 0, matched: 0, sent: 0, outcomes: {} };

export function createReplayRunner({
  reader,
  relay,
  clock,
  perSecond = 100,
  logger,
}: {
  reader: DlqReader;
  relay: Relay;
  clock: Clock;
  perSecond?: number;
  logger?: Logger | undefined;
}): ReplayRunner {
  let busy = false;
  let job: ReplayJob | undefined;

  async function exclusive(
    filter: ReplayFilter,
    onProgress?: (p: ReplayProgress) => void,
  ): Promise<ReplayReport | 'busy'> {
    if (busy) return 'busy';
    busy = true;
    try {
      return await replayDeadLetters({
        reader,
        relay,
        clock,
        filter,
        perSecond,
        ...(onProgress ? { onProgress } : {}),
      });
    } finally {
      busy = false;
    }
  }

  return {
    run: async (filter) => {
      if (busy) return 'busy';
      // Tracked like a started one, so GET /v1/dlq/replay can show an admin API replay's progress.
      const base = { sink: filter.sink, dryRun: filter.dryRun === true, startedAt: clock.now() };
      job = { ...base, running: true, progress: NO_PROGRESS };
      try {
        const report = await exclusive(filter, (progress) => {
          job = { ...base, running: true, progress };
        });
        if (report !== 'busy') {
          const { scanned, matched, sent, outcomes } = report;
          job = { ...base, running: false, progress: { scanned, matched, sent, outcomes }, report };
        }
        return report;
      } catch (err) {
        job = { ...base, running: false, progress: job?.progress ?? NO_PROGRESS, failed: true };
        throw err;
      }
    },
    start: function startReplay(filter) {
      if (busy) return 'busy';
      const base = { sink: filter.sink, dryRun: filter.dryRun === true, startedAt: clock.now() };
      job = { ...base, running: true, progress: NO_PROGRESS };
      exclusive(filter, (progress) => {
        job = { ...base, running: true, progress };
      }).then(
        (report) => {
          if (report === 'busy') return;
          const { scanned, matched, sent, outcomes } = report;
          job = { ...base, running: false, progress: { scanned, matched, sent, outcomes }, report };
        },
        (err: unknown) => {
          logger?.error('DLQ replay failed', { sink: filter.sink, error: String(err) });
          job = { ...base, running: false, progress: job?.progress ?? NO_PROGRESS, failed: true };
        },
      );
      return job;
    },
    last: () => job,
  };
}
