// The Node runtime host for relay/main.ts: undici senders (one pool per sink, sized to its in-flight
// limit) or, with `http.client: fetch`, Node's fetch; @hono/node-server, process signals. Used by
// relay/entry/node.ts and `ferry relay run`.
import { readFile } from 'node:fs/promises';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createFetchSender } from './adapters/http-fetch.ts';
import { createUndiciSender } from './adapters/http-undici.ts';
import type { RuntimeHost } from './main.ts';

export function createNodeHost(args: readonly string[]): RuntimeHost {
  return {
    name: 'node',
    args,
    env: process.env,
    readTextFile: (path) => readFile(path, 'utf8'),
    serve: (fetch, { port, hostname }) =>
      new Promise((resolve) => {
        const server = serve({ fetch, port, hostname }, (info) => {
          resolve({ port: info.port, close: () => new Promise<void>((done) => server.close(() => done())) });
        });
      }),
    onSignal: (signal, handler) => {
      process.on(signal, handler);
    },
    exit: (code) => process.exit(code),
    httpClients: ['undici', 'fetch'],
    createSender: (sink, client) =>
      client === 'fetch' ? createFetchSender() : createUndiciSender({ connections: sink.maxInFlight }),
    // The socket's peer, from the { incoming, outgoing } pair @hono/node-server passes as the env.
    clientAddress: (c) => getConnInfo(c).remote.address,
  };
}
