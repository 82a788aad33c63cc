// The dedupe key scheme shared by every store (docs/delivery.md#dedupe-protocol):
//   ferry:dedupe:<sink>:<eventId>  =  pending:<instance>  (claimed, with a lease)  |  done  (retention TTL)
import { FerryError } from '../core/errors.ts';

export const DONE = 'done';

export function dedupeKey(prefix: string, sink: string, eventId: string): string {
  return `${prefix}${sink}:${eventId}`;
}

export function pendingValue(instanceId: string): string {
  return `pending:${instanceId}`;
}

/**
 * The error every store throws when it cannot answer. Its message never carries keys or values
 * (event ids may be business data), only what kind of failure it was.
 */
export function storeUnavailable(store: string, what: string): FerryError {
  return new FerryError('FERRY_DEDUPE_UNAVAILABLE', `dedupe store ${store} unavailable: ${what}`, {
    retryable: true,
  });
}

// Client messages that are known to carry no key or value, mapped to a fixed label an operator can act on.
const KNOWN: ReadonlyArray<readonly [RegExp, string]> = [
  [/enableOfflineQueue|Connection is closed|connect ECONNREFUSED|Stream isn't writeable/i, 'not connected'],
  [/Command timed out/i, 'command timed out'],
  [/fetch failed|ECONNREFUSED|ECONNRESET|socket hang up/i, 'network error'],
  [/Unauthorized|WRONGPASS|NOAUTH/i, 'not authorized'],
];

/**
 * A short, value-free description of a client error: its class, its code and a fixed label when the
 * message is a known one. Never the message itself (Upstash quotes the whole command in it).
 */
export function describeFailure(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'error';
  const name = err instanceof Error ? err.name : 'error';
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const message = err instanceof Error ? err.message : '';
  const label = KNOWN.find(([re]) => re.test(message))?.[1];
  return [name, code, label].filter((x) => x !== undefined).join(' ');
}
