// A token bucket per sink: `perSecond` tokens a second, bursts up to one second's worth.

export interface RateLimiter {
  /** Takes a token: 0 when one was available, else ms until the next one. */
  take(now: number): number;
}

export function createRateLimiter(perSecond: number | undefined): RateLimiter {
  if (perSecond === undefined || perSecond <= 0) return { take: () => 0 };
  const capacity = Math.max(1, perSecond);
  let tokens = capacity;
  let last: number | undefined;
  return {
    take: function takeToken(now) {
      if (last !== undefined) tokens = Math.min(capacity, tokens + ((now - last) * perSecond) / 1000);
      last = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil(((1 - tokens) * 1000) / perSecond));
    },
  };
}
