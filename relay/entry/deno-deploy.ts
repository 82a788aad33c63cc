// Deno Deploy entry: Deno.serve with the relay's Hono app, and Deno.cron for the pull drain (one
// drain a minute). Config: the FERRY_CONFIG environment variable holds the config text itself (JSON
// or YAML; `${VAR}` references read the other environment variables). No file system access.
// Locally: deno run --unstable-cron --allow-net --allow-env relay/entry/deno-deploy.ts
// (PORT sets the port, default 8000). Build: npm run build:edge (build/edge/deno-deploy.js).
import { createEdgeHandler } from '../edge-handler.ts';

interface DenoServeInfo {
  readonly remoteAddr?: { readonly hostname?: string };
}
interface DenoApi {
  readonly env: { toObject(): Record<string, string> };
  serve(
    options: { port?: number; hostname?: string; onListen?: (addr: { port: number }) => void },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): unknown;
  cron?(name: string, schedule: string, handler: () => Promise<void>): Promise<void>;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const env = Deno.env.toObject();
const handler = createEdgeHandler({
  // Deno.serve passes its handler info ({ remoteAddr }) on, which the app reads as its env.
  clientAddress: (c) => (c.env as { info?: DenoServeInfo } | undefined)?.info?.remoteAddr?.hostname,
});

Deno.serve(
  {
    port: Number(env.PORT ?? 8000),
    hostname: env.HOST ?? '0.0.0.0',
    onListen: ({ port }) => console.log(JSON.stringify({ event: 'listening', port })),
  },
  (request, info) => handler.fetch(request, { ...env, info }),
);
// Deno.cron is there on Deploy and under --unstable-cron; without it the relay is push-only.
if (Deno.cron) void Deno.cron('ferry pull drain', '* * * * *', () => handler.drain(env));
