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

export interface KeyedRateLimiter {
  /** Takes a token from `key`'s bucket: 0 when one was available, else ms until the next one. */
  take(key: string, now: number): number;
  /** Buckets held (at most `maxKeys`). */
  readonly size: number;
}

/**
 * One token bucket per key (a client address, a token), in a table bounded to `maxKeys`: the least
 * recently used bucket is dropped first, so a flood of new keys costs memory up to the cap and no more.
 */
export function createKeyedRateLimiter({
  perSecond,
  maxKeys = 10_000,
}: {
  perSecond: number | undefined;
  maxKeys?: number;
}): KeyedRateLimiter {
  const buckets = new Map<string, RateLimiter>();
  return {
    take: function takeKeyedToken(key, now) {
      let bucket = buckets.get(key);
      if (bucket) buckets.delete(key);
      else {
        bucket = createRateLimiter(perSecond);
        if (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next().value;
          if (oldest !== undefined) buckets.delete(oldest);
        }
      }
      buckets.set(key, bucket);
      return bucket.take(now);
    },
    get size() {
      return buckets.size;
    },
  };
}

/** A wait in ms as a Retry-After value: whole seconds, at least 1. */
export const retryAfterSeconds = (waitMs: number): string => String(Math.max(1, Math.ceil(waitMs / 1000)));
