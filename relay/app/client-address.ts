// How the app learns who is calling: each runtime's entry point passes a getter (Node reads the socket
// through @hono/node-server's conninfo, Deno the serve handler's `remoteAddr`, Bun `server.requestIP`),
// so the app itself imports no runtime module. Without one, every caller shares one bucket.
import type { Context } from 'hono';

/** Reads a request's client address from what the runtime's server passes along (undefined: unknown). */
export type ClientAddress = (c: Context) => string | undefined;

export const UNKNOWN_CLIENT = 'unknown';

/**
 * The key a caller is limited under: its IPv4 address (IPv4-mapped IPv6 unwrapped), or the /64 of an
 * IPv6 address, since one client commonly holds a whole /64 and could otherwise rotate through it.
 */
export function addressKey(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped) return mapped[1] as string;
  if (!bare.includes(':')) return bare;
  const [head = '', tail] = bare.toLowerCase().split('::', 2);
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? front
      : [...front, ...Array(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** The caller's limiting key, or `unknown` when the runtime cannot tell (or the getter fails). */
export function clientKey(getter: ClientAddress | undefined, c: Context): string {
  try {
    const address = getter?.(c);
    return address ? addressKey(address) : UNKNOWN_CLIENT;
  } catch {
    return UNKNOWN_CLIENT;
  }
}
