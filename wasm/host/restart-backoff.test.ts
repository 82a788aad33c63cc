// The broker's restart backoff (docs/abi.md §11), on a fake clock.
import { describe, expect, it } from 'vitest';
import { RestartBackoff } from './restart-backoff.ts';

function backoff(options = {}) {
  let now = 0;
  const b = new RestartBackoff(options, () => now);
  return {
    b,
    at(ms: number) {
      now = ms;
    },
  };
}

describe('restart backoff, as processor_backoff', () => {
  it('1 s doubling to 30 s while the failures come soon after each start', () => {
    const { b, at } = backoff();
    const delays: number[] = [];
    let t = 0;
    for (let i = 0; i < 8; i++) {
      b.markStartAttempt();
      t += 500; // fails half a second after each start
      at(t);
      const d = b.nextDelayMs();
      delays.push(d);
      t += d;
      at(t);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('starts over at 1 s when the failure comes more than 10 s after the last start attempt', () => {
    const { b, at } = backoff();
    b.markStartAttempt();
    expect([b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs()]).toEqual([1000, 2000, 4000]);
    at(10_000); // exactly 10 s: not more, so no reset
    expect(b.nextDelayMs()).toBe(8000);
    at(10_001);
    expect(b.nextDelayMs()).toBe(1000);
    b.markStartAttempt();
    at(20_000);
    expect(b.nextDelayMs()).toBe(2000);
  });

  it('scales with other settings (the host tests use short delays)', () => {
    const { b } = backoff({ initialMs: 20, maxMs: 200, resetAfterMs: 60_000 });
    expect(Array.from({ length: 6 }, () => b.nextDelayMs())).toEqual([20, 40, 80, 160, 200, 200]);
  });
});
