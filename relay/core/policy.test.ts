import { describe, expect, it } from 'vitest';
import { FerryError } from './errors.ts';
import { retryBackoff } from './policy.ts';
import { createRateLimiter } from './rate-limiter.ts';

const ctx = (error?: unknown) =>
  ({
    attempt: 1,
    signal: new AbortController().signal,
    result: error === undefined ? { value: undefined } : { error },
  }) as never;

describe('retry backoff', () => {
  it('grows exponentially to the cap, with full jitter below the ceiling', () => {
    const none = retryBackoff({ attempts: 10, backoffBaseMs: 100, backoffCapMs: 1000, jitter: 'none' });
    let b = none.next(ctx());
    const seen = [b.duration];
    for (let i = 0; i < 5; i++) {
      b = b.next(ctx());
      seen.push(b.duration);
    }
    expect(seen).toEqual([100, 200, 400, 800, 1000, 1000]);
    const full = retryBackoff(
      { attempts: 10, backoffBaseMs: 100, backoffCapMs: 1000, jitter: 'full' },
      () => 0.5,
    );
    expect(full.next(ctx()).duration).toBe(50);
  });

  it('waits at least what Retry-After asked for', () => {
    const b = retryBackoff({ attempts: 3, backoffBaseMs: 10, backoffCapMs: 100, jitter: 'full' }, () => 0.1);
    const err = new FerryError('FERRY_SINK_RETRYABLE', '429', {
      retryable: true,
      retryAfterMs: 2500,
      status: 429,
    });
    expect(b.next(ctx(err)).duration).toBe(2500);
    const huge = new FerryError('FERRY_SINK_RETRYABLE', '429', {
      retryable: true,
      retryAfterMs: 86_400_000,
      status: 429,
    });
    expect(b.next(ctx(huge)).duration).toBe(300_000);
  });
});

describe('rate limiter', () => {
  it('allows perSecond tokens a second with a one-second burst', () => {
    const l = createRateLimiter(10);
    let granted = 0;
    for (let i = 0; i < 20; i++) if (l.take(1000) === 0) granted++;
    expect(granted).toBe(10);
    expect(l.take(1000)).toBe(100);
    expect(l.take(1100)).toBe(0);
    expect(createRateLimiter(undefined).take(0)).toBe(0);
  });
});
