// Bearer-token guard for the admin API. Compares SHA-256 digests of the presented and the configured
// token in constant time, so neither length nor content leaks through timing. With no token
// configured the admin API is closed (401), never open.
import type { MiddlewareHandler } from 'hono';
import { createRateLimiter } from '../core/rate-limiter.ts';

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] as number) ^ (y[i] as number);
  return diff === 0;
}

/**
 * Failed attempts are rate-limited (`failuresPerSecond`, bursts of that many): beyond it every request
 * gets 429 until the bucket refills, so a token cannot be guessed at network speed.
 */
export function adminAuth(
  token: string | undefined,
  { failuresPerSecond = 5, now = () => Date.now() }: { failuresPerSecond?: number; now?: () => number } = {},
): MiddlewareHandler {
  const failures = createRateLimiter(failuresPerSecond);
  let blockedUntil = 0;
  return async function requireAdminToken(c, next) {
    if (now() < blockedUntil) {
      return c.json({ error: 'too many failed attempts', code: 'FERRY_ADMIN_RATE_LIMITED' }, 429, {
        'retry-after': '1',
      });
    }
    const header = c.req.header('authorization') ?? '';
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (!token || !presented || !(await constantTimeEqual(presented, token))) {
      const wait = failures.take(now());
      if (wait > 0) blockedUntil = now() + wait;
      return c.json({ error: 'unauthorized', code: 'FERRY_ADMIN_UNAUTHORIZED' }, 401, {
        'www-authenticate': 'Bearer',
      });
    }
    await next();
  };
}
