// The Ferry console on the relay's Hono app: `/console` (and `/` redirecting there), behind the admin
// token. Signing in checks the token once (constant time, failures limited per client address like the
// admin API) and sets an HTTP-only, SameSite=Strict session cookie (Secure over https) holding a random
// session id. Every action is a POST that must pass Hono's csrf middleware (Origin / Sec-Fetch-Site) and
// carry the session's CSRF token (x-ferry-csrf header, or the _csrf field of the sign-out form).
// Runtime-free: Web Crypto and Hono only.
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import * as v from 'valibot';
import type { Clock } from '../../core/contracts.ts';
import { createKeyedRateLimiter, retryAfterSeconds } from '../../core/rate-limiter.ts';
import type { Relay } from '../../core/relay.ts';
import { constantTimeEqual } from '../admin-auth.ts';
import { type ClientAddress, clientKey } from '../client-address.ts';
import { allowOnly } from '../method-not-allowed.ts';
import type { ReplayRunner } from '../replay-runner.ts';
import { liveSnapshot } from './live.ts';
import { consoleHeaders, consolePage, loginPage } from './pages.ts';
import { createSessionStore, randomToken, type Session, type SessionOptions } from './sessions.ts';

export const SESSION_COOKIE = 'ferry_console';
export const CSRF_HEADER = 'x-ferry-csrf';
/** No console request needs more: a token, a CSRF field or a DLQ filter. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface ConsoleOptions {
  readonly relay: Relay;
  readonly metrics: { render(): string };
  readonly adminToken: string | undefined;
  /** Without it the DLQ part of the console says there is no reader and its routes answer 501. */
  readonly replays?: ReplayRunner | undefined;
  readonly clock: Clock;
  readonly clientAddress?: ClientAddress | undefined;
  readonly sessions?: Omit<SessionOptions, 'now'>;
  /** Failed sign-ins allowed per client address and second (bursts of that many). */
  readonly failuresPerSecond?: number;
}

type Env = { Variables: { session: Session } };

const time = v.union([
  v.pipe(v.number(), v.minValue(0)),
  v.pipe(
    v.string(),
    v.check((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO time'),
    v.transform((s) => Date.parse(s)),
  ),
]);

const DlqQuery = v.strictObject({
  sink: v.pipe(v.string(), v.minLength(1)),
  code: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
  from: v.optional(time),
  to: v.optional(time),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)), 200),
});

const isHttps = (c: Context) =>
  new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

const json403 = (c: Context, error: string) => c.json({ error, code: 'FERRY_CONSOLE_CSRF' }, 403);

export function mountConsole(
  app: Hono,
  {
    relay,
    metrics,
    adminToken,
    replays,
    clock,
    clientAddress,
    sessions: sessionOptions = {},
    failuresPerSecond = 5,
  }: ConsoleOptions,
): void {
  const now = () => clock.now();
  const sessions = createSessionStore({ now, ...sessionOptions });
  const maxAgeSeconds = Math.floor((sessionOptions.maxAgeMs ?? 8 * 3600_000) / 1000);
  const failures = createKeyedRateLimiter({ perSecond: failuresPerSecond });
  const originCheck = csrf();
  const guarded = app as unknown as Hono<Env>;

  // Hono's csrf middleware throws its 403; answered here so the app's error handler never sees it.
  const refuseCrossSite: MiddlewareHandler = async function refuseCrossSite(c, next) {
    try {
      await originCheck(c, next);
    } catch (err) {
      if (err instanceof HTTPException && err.status === 403) return json403(c, 'cross-site request refused');
      throw err;
    }
  };
  const session = (c: Context) => sessions.touch(getCookie(c, SESSION_COOKIE));

  /** API routes: 401 without a live session; POSTs also need the session's CSRF token. */
  const requireSession: MiddlewareHandler<Env> = async function requireSession(c, next) {
    const s = session(c);
    if (!s) return c.json({ error: 'sign in at /console/login', code: 'FERRY_CONSOLE_UNAUTHORIZED' }, 401);
    if (c.req.method === 'POST' && !(await constantTimeEqual(c.req.header(CSRF_HEADER) ?? '', s.csrf)))
      return json403(c, 'missing or wrong CSRF token');
    c.set('session', s);
    return next();
  };

  const page = (
    c: Context,
    body: ReturnType<typeof loginPage>,
    nonce: string,
    status: 200 | 401 | 429 = 200,
  ) => c.html(body, status, consoleHeaders(nonce));

  app.get('/', (c) => c.redirect('/console', 303));
  app.use('/console/*', refuseCrossSite);
  // Sign-in reads its body before anyone is known: bounded, whether declared or streamed.
  app.use(
    '/console/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: 'body too large', code: 'FERRY_CONSOLE_BODY_TOO_LARGE' }, 413),
    }),
  );

  app.get('/console/login', (c) => {
    if (session(c)) return c.redirect('/console', 303);
    const nonce = randomToken();
    return page(c, loginPage({ nonce }), nonce);
  });

  app.post('/console/login', async (c) => {
    const nonce = randomToken();
    let presented = '';
    try {
      const form = await c.req.parseBody();
      presented = typeof form.token === 'string' ? form.token : '';
    } catch {
      presented = '';
    }
    if (adminToken && presented && (await constantTimeEqual(presented, adminToken))) {
      sessions.delete(getCookie(c, SESSION_COOKIE));
      const s = sessions.create();
      setCookie(c, SESSION_COOKIE, s.id, {
        path: '/console',
        httpOnly: true,
        sameSite: 'Strict',
        secure: isHttps(c),
        maxAge: maxAgeSeconds,
      });
      return c.redirect('/console', 303);
    }
    const wait = failures.take(clientKey(clientAddress, c), now());
    if (wait > 0) {
      c.header('retry-after', retryAfterSeconds(wait));
      return page(c, loginPage({ nonce, error: 'Too many failed attempts; wait a moment.' }), nonce, 429);
    }
    const error = adminToken
      ? 'Wrong token.'
      : 'This relay has no adminToken configured: the console is closed.';
    return page(c, loginPage({ nonce, error }), nonce, 401);
  });

  app.post('/console/logout', async (c) => {
    const s = session(c);
    let presented = '';
    try {
      const form = await c.req.parseBody();
      presented = typeof form._csrf === 'string' ? form._csrf : '';
    } catch {
      presented = '';
    }
    if (s && !(await constantTimeEqual(presented, s.csrf))) return json403(c, 'missing or wrong CSRF token');
    sessions.delete(s?.id);
    deleteCookie(c, SESSION_COOKIE, { path: '/console', secure: isHttps(c) });
    return c.redirect('/console/login', 303);
  });

  app.get('/console', (c) => {
    const s = session(c);
    if (!s) return c.redirect('/console/login', 303);
    const nonce = randomToken();
    const body = consolePage({
      nonce,
      csrf: s.csrf,
      instanceId: relay.instanceId,
      sinks: relay.sinkIds(),
      canReplay: replays !== undefined,
    });
    return page(c, body, nonce);
  });

  guarded.use('/console/api/*', requireSession);

  guarded.get('/console/api/live', async (c) =>
    c.json(await liveSnapshot(relay, metrics, now()), 200, { 'cache-control': 'no-store' }),
  );

  for (const action of ['pause', 'resume'] as const) {
    guarded.post(`/console/api/sinks/:id/${action}`, (c) => {
      const id = c.req.param('id');
      const done = action === 'pause' ? relay.pauseSink(id) : relay.resumeSink(id);
      if (!done) return c.json({ error: `unknown sink ${id}` }, 404);
      return c.json(relay.state().sinks.find((s) => s.id === id));
    });
  }

  const dlqQuery = async (c: Context) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return { error: c.json({ error: 'body must be JSON' }, 400) };
    }
    const parsed = v.safeParse(DlqQuery, body);
    if (!parsed.success)
      return {
        error: c.json(
          {
            error: 'invalid DLQ query',
            issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? '(body)'}: ${i.message}`),
          },
          400,
        ),
      };
    if (!relay.sinkIds().includes(parsed.output.sink))
      return { error: c.json({ error: `unknown sink ${parsed.output.sink}` }, 404) };
    return { query: parsed.output };
  };
  const busy = (c: Context) => c.json({ error: 'a replay is already running' }, 429);
  const noReader = (c: Context) => c.json({ error: 'no DLQ reader configured' }, 501);

  guarded.post('/console/api/dlq/search', async (c) => {
    if (!replays) return noReader(c);
    const q = await dlqQuery(c);
    if (q.error) return q.error;
    const report = await replays.run({ ...q.query, dryRun: true });
    return report === 'busy' ? busy(c) : c.json(report);
  });

  guarded.post('/console/api/dlq/replay', async (c) => {
    if (!replays) return noReader(c);
    const q = await dlqQuery(c);
    if (q.error) return q.error;
    const job = replays.start({ ...q.query, dryRun: false });
    return job === 'busy' ? busy(c) : c.json(job, 202);
  });

  guarded.get('/console/api/dlq/replay', (c) => {
    if (!replays) return noReader(c);
    return c.json(replays.last() ?? null, 200, { 'cache-control': 'no-store' });
  });

  app.all('/', allowOnly('GET'));
  for (const path of ['/console', '/console/api/live']) app.all(path, allowOnly('GET'));
  for (const path of ['/console/login', '/console/api/dlq/replay']) app.all(path, allowOnly('GET', 'POST'));
  for (const path of ['/console/logout', '/console/api/sinks/:id/pause', '/console/api/sinks/:id/resume'])
    app.all(path, allowOnly('POST'));
  app.all('/console/api/dlq/search', allowOnly('POST'));
}
