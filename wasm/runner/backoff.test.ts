import { describe, expect, it } from 'vitest';
import { rejoinDelay, sleep } from './backoff.ts';

describe('runner rejoin backoff', () => {
  it('waits 1 s before the first attempt, doubling up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 100].map(rejoinDelay)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('a sleeping backoff ends at once when woken (stop)', async () => {
    const wake = new AbortController();
    const slept = sleep(60_000, wake.signal);
    wake.abort();
    await slept;
    await sleep(60_000, wake.signal); // already woken: no wait at all
  });
});
