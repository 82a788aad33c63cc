// The runner's rejoin backoff after a lost consumer (the broker restarts a failed transform the same way).

/** Wait before rejoin attempt `attempt` (1-based): 1 s doubling to 30 s. */
export function rejoinDelay(attempt: number): number {
  return Math.min(1_000 * 2 ** Math.min(attempt - 1, 30), 30_000);
}

/** Resolves after `ms`, or at once when `wake` is aborted. */
export function sleep(ms: number, wake: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (wake.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      wake.removeEventListener('abort', done);
      resolve();
    }
    wake.addEventListener('abort', done);
  });
}
