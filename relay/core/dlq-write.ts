// The one rule for writing a dead letter until it is acknowledged, shared by the unparseable-record
// path (relay.ts) and the sink lanes (deliver.ts). A DlqWriter reports failures as DlqWriteError
// (reason + permanent); anything else counts as retryable.
// - Retryable: exponential backoff, 100 ms doubling up to 5 s.
// - Permanent (the writer already fell back to a pointer record, so even the smallest form was
//   refused, e.g. an ACL): the record is held, never dropped and never committed past; it is probed
//   again every 30 s (an operator can fix an ACL without a restart), it counts in
//   ferry_dlq_blocked_records and makes the relay not ready.
// Retrying ends when the record stops being current (revoked partition) or the relay stops. Failure
// log lines are rate-limited: the first one, then at most one a minute with the count left out.
import type {
  Clock,
  DeadLetterReason,
  DlqWriteKind,
  DlqWriter,
  Logger,
  Metrics,
  SourceRecord,
} from './contracts.ts';
import { errorMessage, FerryError } from './errors.ts';

export type DlqFailureReason =
  | 'too-large'
  | 'authorization'
  | 'invalid-record'
  | 'invalid-topic'
  | 'unsupported'
  | 'timeout'
  | 'network'
  | 'broker'
  | 'unknown';

/** A failed dead-letter write, classified by the writer. */
export class DlqWriteError extends FerryError {
  readonly reason: DlqFailureReason;
  readonly permanent: boolean;
  constructor(message: string, reason: DlqFailureReason, permanent: boolean, cause?: unknown) {
    super('FERRY_DLQ_WRITE_FAILED', message, { retryable: !permanent, cause });
    this.reason = reason;
    this.permanent = permanent;
  }
}

export function isDlqWriteError(e: unknown): e is DlqWriteError {
  return e instanceof DlqWriteError;
}

export const DLQ_RETRY_BASE_MS = 100;
export const DLQ_RETRY_CAP_MS = 5_000;
/** How often a record held by a permanent refusal is tried again. */
export const DLQ_BLOCKED_PROBE_MS = 30_000;
const HOLD_SLICE_MS = 1_000;
/** At most one failure log line per this interval (after the first). */
export const DLQ_LOG_INTERVAL_MS = 60_000;

export interface DeadLetterer {
  /**
   * Writes until acknowledged. Resolves the kind written, or undefined when the record stopped being
   * current or `signal` was aborted (then nothing is terminal and nothing is committed past it).
   */
  write(
    record: SourceRecord,
    reason: DeadLetterReason,
    isCurrent: () => boolean,
    signal: AbortSignal,
  ): Promise<DlqWriteKind | undefined>;
  /** Records currently held because the DLQ refused them for a permanent reason. */
  blocked(): number;
}

export function createDeadLetterer({
  dlq,
  metrics,
  clock,
  logger,
}: {
  dlq: DlqWriter;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
}): DeadLetterer {
  const writes = metrics.counter(
    'ferry_dlq_writes_total',
    'Dead letters acknowledged by the DLQ topic, per sink, code and kind (full or pointer)',
    ['sink', 'code', 'kind'],
  );
  const failures = metrics.counter(
    'ferry_dlq_write_failures_total',
    'Dead-letter writes that failed, per reason and class (permanent or retryable)',
    ['reason', 'class'],
  );
  const blockedGauge = metrics.gauge(
    'ferry_dlq_blocked_records',
    'Records held because the DLQ refused even their pointer for a permanent reason',
    [],
  );
  blockedGauge.set({}, 0);
  let blocked = 0;
  let lastLogAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;

  const logFailure = (fields: Record<string, unknown>) => {
    const now = clock.now();
    if (now - lastLogAt < DLQ_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    lastLogAt = now;
    logger.error('DLQ write failed, retrying', suppressed > 0 ? { ...fields, suppressed } : fields);
    suppressed = 0;
  };

  const sleep = async (ms: number, signal: AbortSignal) => {
    try {
      await clock.sleep(ms, signal);
      return true;
    } catch {
      return false;
    }
  };

  return {
    async write(record, reason, isCurrent, signal) {
      let held = false;
      const hold = (on: boolean) => {
        if (on === held) return;
        held = on;
        blocked += on ? 1 : -1;
        blockedGauge.set({}, blocked);
      };
      try {
        for (let attempt = 0; isCurrent() && !signal.aborted; attempt++) {
          try {
            const kind = (await dlq.write(record, reason)) ?? 'full';
            writes.inc({ sink: reason.sink, code: reason.code, kind });
            if (held)
              logger.info('DLQ write succeeded after a permanent refusal', {
                sink: reason.sink,
                topic: record.topic,
                partition: record.partition,
                offset: String(record.offset),
              });
            return kind;
          } catch (e) {
            const permanent = isDlqWriteError(e) && e.permanent;
            const why: DlqFailureReason = isDlqWriteError(e) ? e.reason : 'unknown';
            failures.inc({ reason: why, class: permanent ? 'permanent' : 'retryable' });
            hold(permanent);
            logFailure({
              sink: reason.sink,
              reason: why,
              permanent,
              topic: record.topic,
              partition: record.partition,
              offset: String(record.offset),
              error: errorMessage(e),
            });
            if (permanent) {
              // Slept in short slices, so a revoke ends the hold at once (the revoke waits for us).
              for (let waited = 0; waited < DLQ_BLOCKED_PROBE_MS; waited += HOLD_SLICE_MS)
                if (!isCurrent() || !(await sleep(HOLD_SLICE_MS, signal))) return undefined;
            } else {
              const wait = Math.min(DLQ_RETRY_CAP_MS, DLQ_RETRY_BASE_MS * 2 ** Math.min(attempt, 16));
              if (!isCurrent() || !(await sleep(wait, signal))) return undefined;
            }
          }
        }
        return undefined;
      } finally {
        hold(false);
      }
    },
    blocked: () => blocked,
  };
}
