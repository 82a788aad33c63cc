// Deno entry point: fetch senders, Deno.serve. Usage: deno run -A relay/entry/deno.ts --config relay.yaml
// (or `deno task relay --config relay.yaml`). Same config and behaviour as the Node entry.
import { createFetchSender } from '../adapters/http-fetch.ts';
import { runRelay } from '../main.ts';

interface DenoServer {
  readonly addr: { readonly port: number };
  shutdown(): Promise<void>;
}
interface DenoServeInfo {
  readonly remoteAddr?: { readonly hostname?: string };
}
interface DenoApi {
  readonly args: string[];
  readonly env: { toObject(): Record<string, string> };
  readTextFile(path: string): Promise<string>;
  serve(
    options: { port: number; hostname: string; onListen?: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', handler: () => void): void;
  exit(code: number): never;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

await runRelay({
  name: 'deno',
  args: Deno.args,
  env: Deno.env.toObject(),
  readTextFile: (path) => Deno.readTextFile(path),
  serve: async (fetch, { port, hostname }) => {
    const server = Deno.serve({ port, hostname, onListen: () => {} }, fetch);
    return { port: server.addr.port, close: () => server.shutdown() };
  },
  onSignal: (signal, handler) => Deno.addSignalListener(signal, handler),
  exit: (code) => Deno.exit(code),
  httpClients: ['fetch'],
  createSender: () => createFetchSender({}),
  // Deno.serve passes its handler info ({ remoteAddr }) as the second argument, which Hono makes the env.
  clientAddress: (c) => (c.env as DenoServeInfo | undefined)?.remoteAddr?.hostname,
});
