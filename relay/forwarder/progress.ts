// The forwarder's progress line: totals and rates since the previous line.
import type { ForwarderStats } from './forwarder.ts';

export function progressLine(
  now: ForwarderStats,
  before: ForwarderStats | undefined,
  elapsedMs: number,
): string {
  const rate = (n: number, was: number | undefined) =>
    before === undefined || elapsedMs <= 0 ? '' : ` (${Math.round(((n - (was ?? 0)) * 1000) / elapsedMs)}/s)`;
  const parts = [
    `pushed ${now.pushedRecords}${rate(now.pushedRecords, before?.pushedRecords)}`,
    `committed ${now.committedRecords}${rate(now.committedRecords, before?.committedRecords)}`,
    `in flight ${now.inFlightBatches} batches`,
    `buffered ${now.bufferedRecords}`,
    `already done at the relay ${now.alreadyDone}`,
    `re-pushed after 202: ${now.repushes}`,
    `retries ${now.retries}`,
  ];
  const retried = before === undefined ? now.retries > 0 : now.retries > before.retries;
  if (retried && now.lastRetryReason !== undefined) parts.push(`last retry: ${now.lastRetryReason}`);
  return parts.join(', ');
}
