// Bearer-token guard for the admin API and the push endpoint. Compares SHA-256 digests of the presented
// and the configured token in constant time, so neither length nor content leaks through timing. With
// no token configured the guarded routes are closed (401), never open.
import type { Context, MiddlewareHandler } from 'hono';
import { createKeyedRateLimiter, retryAfterSeconds } from '../core/rate-limiter.ts';
import { type ClientAddress, clientKey } from './client-address.ts';

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

/** The bearer token of a request, as the guard reads it (scheme case and spacing do not matter). */
export function presentedToken(c: Context): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
}

export interface AdminAuthOptions {
  /** Failed attempts allowed per client address and second (bursts of that many). */
  readonly failuresPerSecond?: number;
  /** Client addresses whose failures are remembered; the least recently seen are forgotten first. */
  readonly maxClients?: number;
  readonly now?: () => number;
  readonly clientAddress?: ClientAddress | undefined;
}

/**
 * The token is checked first: a valid token always passes, so nobody else's failures can lock the
 * operator or the pusher out. Failures are counted per client address (`failuresPerSecond`); a client
 * beyond its budget gets 429 with Retry-After instead of 401 until its bucket refills.
 */
export function adminAuth(
  token: string | undefined,
  {
    failuresPerSecond = 5,
    maxClients = 10_000,
    now = () => Date.now(),
    clientAddress,
  }: AdminAuthOptions = {},
): MiddlewareHandler {
  const failures = createKeyedRateLimiter({ perSecond: failuresPerSecond, maxKeys: maxClients });
  return async function requireToken(c, next) {
    const presented = presentedToken(c);
    if (token && presented && (await constantTimeEqual(presented, token))) return next();
    const wait = failures.take(clientKey(clientAddress, c), now());
    if (wait > 0) {
      return c.json({ error: 'too many failed attempts', code: 'FERRY_ADMIN_RATE_LIMITED' }, 429, {
        'retry-after': retryAfterSeconds(wait),
      });
    }
    return c.json({ error: 'unauthorized', code: 'FERRY_ADMIN_UNAUTHORIZED' }, 401, {
      'www-authenticate': 'Bearer',
    });
  };
}
