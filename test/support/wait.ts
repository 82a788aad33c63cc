// waitUntil: poll a condition until it holds or a deadline passes, then fail with what was last seen.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `probe` every `intervalMs` until it returns a value that is not `undefined`/`false`, and
 * returns that value. Throws after `timeoutMs` with `message` and the last error or value.
 */
export async function waitUntil<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 200, message = 'condition' } = {},
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as Exclude<T, undefined | false>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`waitUntil: ${message} not reached within ${timeoutMs} ms (last: ${seen})`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Polls a synchronous condition every 20 ms (tight enough to catch a kill point mid-run) and
 * throws `timed out waiting for <what>` after `timeoutMs`.
 */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
