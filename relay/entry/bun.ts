// Bun entry point: fetch senders, Bun.serve. Usage: bun relay/entry/bun.ts --config relay.yaml
// Same config and behaviour as the Node and Deno entries.
import { reexecBunWithRamLimit } from '../heap-limits.ts';
import { type BunServer, bun } from './bun-api.ts';

// Before anything heavy loads: this may re-execute the process with a JSC RAM size (same pid).
reexecBunWithRamLimit();
const [{ createFetchSender }, { runRelay }] = await Promise.all([
  import('../adapters/http-fetch.ts'),
  import('../main.ts'),
]);

const Bun = bun();

await runRelay({
  name: 'bun',
  args: process.argv.slice(2),
  env: process.env,
  readTextFile: async (path) => {
    const file = Bun.file(path);
    if (!(await file.exists())) throw new Error(`no such file: ${path}`);
    return file.text();
  },
  serve: async (fetch, { port, hostname }) => {
    const server = Bun.serve({ port, hostname, fetch });
    return { port: server.port, close: async () => void (await server.stop()) };
  },
  onSignal: (signal, handler) => {
    process.on(signal, handler);
  },
  exit: (code) => process.exit(code),
  httpClients: ['fetch'],
  createSender: () => createFetchSender({}),
  // Bun.serve passes its server as the second argument of fetch, which Hono makes the env.
  clientAddress: (c) => (c.env as BunServer | undefined)?.requestIP?.(c.req.raw)?.address,
});
