// How the app learns who is calling: each runtime's entry point passes a getter (Node reads the socket
// through @hono/node-server's conninfo, Deno the serve handler's `remoteAddr`, Bun `server.requestIP`),
// so the app itself imports no runtime module. Without one, every caller shares one bucket.
import type { Context } from 'hono';

export type ClientAddress = (c: Context) => string | undefined;

export const UNKNOWN_CLIENT = 'unknown';

/** The caller's address, or `unknown` when the runtime cannot tell (or the getter fails). */
export function clientKey(getter: ClientAddress | undefined, c: Context): string {
  try {
    return getter?.(c) || UNKNOWN_CLIENT;
  } catch {
    return UNKNOWN_CLIENT;
  }
}
