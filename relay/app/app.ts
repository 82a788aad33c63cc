// The relay's HTTP surface on Hono, runtime-free: health, readiness, Prometheus metrics, and the admin
// API (sinks, pause/resume, DLQ replay) behind a bearer token. Each runtime's entry point serves it and
// passes how to read a request's client address (failed tokens are rate-limited per address).
import { Hono } from 'hono';
import * as v from 'valibot';
import type { Clock, DlqReader, Logger, Metrics } from '../core/contracts.ts';
import type { PushSource } from '../core/push-source.ts';
import type { Relay, ReloadResult } from '../core/relay.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/registry.ts';
import { adminAuth } from './admin-auth.ts';
import type { ClientAddress } from './client-address.ts';
import { mountConsole } from './console/routes.ts';
import { allowOnly } from './method-not-allowed.ts';
import { mountPushRoute, type PushRouteOptions } from './push-route.ts';
import { createReplayRunner } from './replay-runner.ts';

export interface AppOptions {
  readonly relay: Relay;
  /** With `gauge`, `ferry_ready` is refreshed on every scrape and readiness check. */
  readonly metrics: { render(): string; gauge?: Metrics['gauge'] };
  readonly adminToken: string | undefined;
  /** Needed for /v1/dlq/replay; without it the endpoint answers 501. */
  readonly dlqReader?: DlqReader | undefined;
  /** The 501 answer's error without a reader (the edge relay says why replay runs elsewhere). */
  readonly replayUnsupported?: string | undefined;
  readonly clock: Clock;
  readonly replayPerSecond?: number;
  /** When the relay is fed by the HTTP push source: POST /push/batches, behind its own token. */
  readonly push?: (PushRouteOptions & { readonly source: PushSource }) | undefined;
  /** The runtime's way to read a request's client address (failed tokens are limited per address). */
  readonly clientAddress?: ClientAddress | undefined;
  /** Where an unexpected error's message goes (scrubbed there); the caller only learns that it happened. */
  readonly logger?: Logger | undefined;
  /** Re-reads the config and applies its routes (POST /v1/config/reload); without it the endpoint answers 501. */
  readonly reloadConfig?: (() => Promise<ReloadResult>) | undefined;
}

const time = v.union([
  v.pipe(v.number(), v.minValue(0)),
  v.pipe(
    v.string(),
    v.check((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO time'),
    v.transform((s) => Date.parse(s)),
  ),
]);
const offset = v.pipe(
  v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.pipe(v.string(), v.regex(/^\d+$/))]),
  v.transform((x) => BigInt(x)),
);

const ReplayBody = v.strictObject({
  sink: v.pipe(v.string(), v.minLength(1)),
  from: v.optional(time),
  to: v.optional(time),
  topic: v.optional(v.string()),
  partition: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  fromOffset: v.optional(offset),
  toOffset: v.optional(offset),
  code: v.optional(v.pipe(v.string(), v.minLength(1))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000)), 1000),
  dryRun: v.optional(v.boolean(), false),
});

export function createApp({
  relay,
  metrics,
  adminToken,
  dlqReader,
  replayUnsupported = 'no DLQ reader configured',
  clock,
  replayPerSecond = 100,
  push,
  clientAddress,
  logger,
  reloadConfig,
}: AppOptions): Hono {
  const app = new Hono();
  const now = () => clock.now();
  if (push) mountPushRoute(app, push, { now, clientAddress });
  const replays = dlqReader
    ? createReplayRunner({ reader: dlqReader, relay, clock, perSecond: replayPerSecond, logger })
    : undefined;
  mountConsole(app, { relay, metrics, adminToken, replays, clock, clientAddress });

  app.get('/healthz', (c) => c.json({ status: 'ok', instanceId: relay.instanceId }));

  const readyGauge = metrics.gauge?.(
    'ferry_ready',
    '1 when /readyz answers 200, else 0 (refreshed per scrape)',
  );
  const readiness = async () => {
    const r = await relay.readiness();
    readyGauge?.set({}, r.ready ? 1 : 0);
    return r;
  };

  app.get('/readyz', async (c) => {
    const r = await readiness();
    return c.json(r, r.ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    // A scrape waits at most a second for readiness (a store that does not answer by then counts
    // as down): the metrics must come through exactly when something hangs.
    if (readyGauge) {
      const stop = new AbortController();
      const late = clock.sleep(1000, stop.signal).then(
        () => readyGauge.set({}, 0),
        () => {},
      );
      await Promise.race([readiness(), late]);
      stop.abort();
    }
    return c.body(metrics.render(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
  });

  app.use('/v1/*', adminAuth(adminToken, { now, clientAddress }));

  app.get('/v1/sinks', (c) => {
    const state = relay.state();
    return c.json({ instanceId: state.instanceId, sinks: state.sinks, partitions: state.partitions });
  });

  app.post('/v1/sinks/:id/pause', (c) => {
    const id = c.req.param('id');
    if (!relay.pauseSink(id)) return c.json({ error: `unknown sink ${id}` }, 404);
    return c.json(relay.state().sinks.find((s) => s.id === id));
  });

  app.post('/v1/sinks/:id/resume', (c) => {
    const id = c.req.param('id');
    if (!relay.resumeSink(id)) return c.json({ error: `unknown sink ${id}` }, 404);
    return c.json(relay.state().sinks.find((s) => s.id === id));
  });

  app.post('/v1/config/reload', async (c) => {
    if (!reloadConfig) return c.json({ error: 'this relay was not started from a config file' }, 501);
    const result = await reloadConfig();
    if (!result.ok) return c.json({ ok: false, errors: result.errors }, 422);
    return c.json(result, 200);
  });

  // The running replay's progress (or the last one's report), for `ferry relay replay` while it waits.
  app.get('/v1/dlq/replay', (c) => {
    if (!replays) return c.json({ error: replayUnsupported }, 501);
    const job = replays.last();
    return job ? c.json(job) : c.json({ error: 'no replay has run yet' }, 404);
  });

  app.post('/v1/dlq/replay', async (c) => {
    if (!replays) return c.json({ error: replayUnsupported }, 501);
    let json: unknown;
    try {
      json = await c.req.json();
    } catch {
      return c.json({ error: 'body must be JSON' }, 400);
    }
    const parsed = v.safeParse(ReplayBody, json);
    if (!parsed.success) {
      return c.json(
        {
          error: 'invalid replay request',
          issues: parsed.issues.map((i) => `${v.getDotPath(i) ?? '(body)'}: ${i.message}`),
        },
        400,
      );
    }
    if (!relay.sinkIds().includes(parsed.output.sink))
      return c.json({ error: `unknown sink ${parsed.output.sink}` }, 404);
    // One replay at a time per relay (the console's included); each runs at replayPerSecond.
    const report = await replays.run(parsed.output);
    if (report === 'busy') return c.json({ error: 'a replay is already running' }, 429);
    return c.json(report);
  });

  for (const path of ['/healthz', '/readyz', '/metrics', '/v1/sinks']) app.all(path, allowOnly('GET'));
  app.all('/v1/dlq/replay', allowOnly('GET', 'POST'));
  for (const path of ['/v1/sinks/:id/pause', '/v1/sinks/:id/resume', '/v1/config/reload'])
    app.all(path, allowOnly('POST'));

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  // An unexpected error's message may quote a client, a record or a secret: it goes to the log (which
  // scrubs it), not to whoever sent the request.
  app.onError((err, c) => {
    logger?.error('admin API request failed', { path: c.req.path, error: err.message });
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
