// The dedupe key scheme shared by every store (DESIGN.md "Dedupe protocol"):
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

/** A short, value-free description of a client error: its class and code, never its message. */
export function describeFailure(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'error';
  const name = err instanceof Error ? err.name : 'error';
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  return code === undefined ? name : `${name} ${code}`;
}
