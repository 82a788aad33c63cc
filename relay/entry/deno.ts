// Deno entry point: undici senders (one pool per sink, as on Node; `http.client: fetch` for Deno's
// fetch), Deno.serve. Runs with least permissions: `deno task relay --config relay.yaml`, or the flags
// `deno task relay:flags --config relay.yaml` prints for a config. A config whose hosts or files the
// granted permissions do not cover is refused at start (exit 2), naming the setting.
import process from 'node:process';
import { checkDenoPermissions, type DenoPermissionsApi, permittedEnv } from './deno-permissions.ts';

interface DenoServer {
  readonly addr: { readonly port: number };
  shutdown(): Promise<void>;
}
interface DenoServeInfo {
  readonly remoteAddr?: { readonly hostname?: string };
}
interface DenoApi extends DenoPermissionsApi {
  readonly args: string[];
  readTextFile(path: string): Promise<string>;
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', handler: () => void): void;
  exit(code: number): never;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
// Before the npm packages load (hence the dynamic imports): they read process.env at load time.
// Their own optional variables stay unread under a partial --allow-env, silently; the relay's view
// remembers what the config asked for and could not read, to say so.
process.env = permittedEnv(Deno).env;
const { env, denied } = permittedEnv(Deno);
const [{ createFetchSender }, { createUndiciSender }, { runRelay }] = await Promise.all([
  import('../adapters/http-fetch.ts'),
  import('../adapters/http-undici.ts'),
  import('../main.ts'),
]);

await runRelay({
  name: 'deno',
  args: Deno.args,
  env,
  readTextFile: (path) => Deno.readTextFile(path),
  serve: async (fetch, { port, hostname }) => {
    const server = Deno.serve({ port, hostname, onListen: () => {} }, fetch);
    return { port: server.addr.port, close: () => server.shutdown() };
  },
  onSignal: (signal, handler) => Deno.addSignalListener(signal, handler),
  exit: (code) => Deno.exit(code),
  httpClients: ['undici', 'fetch'],
  createSender: (sink, client) =>
    client === 'fetch' ? createFetchSender({}) : createUndiciSender({ connections: sink.maxInFlight }),
  // Deno.serve passes its handler info ({ remoteAddr }) as the second argument, which Hono makes the env.
  clientAddress: (c) => (c.env as DenoServeInfo | undefined)?.remoteAddr?.hostname,
  checkConfig: (config) => checkDenoPermissions(Deno, config, denied),
});
