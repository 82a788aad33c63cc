// Bearer-token guard for the admin API. Compares SHA-256 digests of the presented and the configured
// token in constant time, so neither length nor content leaks through timing. With no token
// configured the admin API is closed (401), never open.
import type { MiddlewareHandler } from 'hono';

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

export function adminAuth(token: string | undefined): MiddlewareHandler {
  return async function requireAdminToken(c, next) {
    const header = c.req.header('authorization') ?? '';
    const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    if (!token || !presented || !(await constantTimeEqual(presented, token))) {
      return c.json({ error: 'unauthorized', code: 'FERRY_ADMIN_UNAUTHORIZED' }, 401, {
        'www-authenticate': 'Bearer',
      });
    }
    await next();
  };
}
