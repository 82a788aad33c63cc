// Cloudflare Workers entry: the relay's Hono app (/healthz, /readyz, /metrics, the admin API,
// POST /push/batches) served from a module Worker. Config: the FERRY_CONFIG text binding (JSON or
// YAML), its `${VAR}` references read from the Worker's other bindings (secrets: `wrangler secret put`).
// The relay is built once per isolate, on the first request or cron event. Cron triggers
// (deploy/edge/wrangler.toml) run one pull drain each, kept alive with ctx.waitUntil.
// Build: npm run build:edge (one bundled module, build/edge/worker.js).
import type { EdgeHandler } from '../edge-handler.ts';

interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}
interface ScheduledController {
  readonly cron: string;
  readonly scheduledTime: number;
}

// Loaded on the first event, not at module load: Workers forbid timers, random values and aborting
// an AbortController in global scope, and a library the relay uses (cockatiel) makes an aborted
// signal when its module is evaluated. The bundler keeps the dynamic import in the one module and
// evaluates it lazily.
let handler: Promise<EdgeHandler> | undefined;
const loaded = (): Promise<EdgeHandler> => {
  handler ??= import('../edge-handler.ts').then(({ createEdgeHandler }) =>
    createEdgeHandler({
      // Workers put the caller's address in CF-Connecting-IP (failed tokens are limited per address).
      clientAddress: (c) => c.req.header('cf-connecting-ip'),
    }),
  );
  return handler;
};

export default {
  async fetch(request: Request, env: Record<string, unknown>): Promise<Response> {
    return (await loaded()).fetch(request, env);
  },
  scheduled(_controller: ScheduledController, env: Record<string, unknown>, ctx: ExecutionContext): void {
    ctx.waitUntil(loaded().then((h) => h.drain(env)));
  },
};
