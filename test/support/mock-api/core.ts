// What the mock API does, independent of the HTTP server carrying it (node:http in server.ts,
// Bun.serve in serve-bun.ts): the endpoint table (one Ledger and one FaultState per endpoint), the
// control routes, and the decision for one request. Both fronts call the same functions, so faults,
// ledger and reports behave identically whichever server runs.
import { createFaultState, type Decision, decide, type FaultSpec, type FaultState } from './faults.ts';
import { type EndpointReport, Ledger, type LedgerOptions } from './ledger.ts';

export interface EndpointConfig extends LedgerOptions {
  readonly name: string;
  readonly faults?: FaultSpec;
}

export interface Endpoint {
  readonly ledger: Ledger;
  faults: FaultState;
}

export const CONTROL = '/_control';

export function endpointName(path: string): string {
  const start = path.charCodeAt(0) === 47 ? 1 : 0;
  let end = path.indexOf('/', start);
  const q = path.indexOf('?', start);
  if (end === -1 || (q !== -1 && q < end)) end = q;
  return path.slice(start, end === -1 ? undefined : end) || 'root';
}

/**
 * The body of a 2xx answer (applied or replay) or of an injected failure; with `echoHeaders` a
 * failure answer carries the request's headers, credentials included, as a careless API might.
 */
export function answerText(
  status: number,
  applied: boolean,
  echoHeaders?: Readonly<Record<string, unknown>>,
): string {
  if (status >= 200 && status < 300) return applied ? '{"applied":true}' : '{"applied":false,"replay":true}';
  return echoHeaders === undefined
    ? '{"error":"injected"}'
    : JSON.stringify({ error: 'injected', request: { headers: echoHeaders } });
}

export interface MockCore {
  get(name: string): Endpoint;
  all(): IterableIterator<[string, Endpoint]>;
  /** The fault decision for one request to `path` (also resolves the endpoint). */
  decideFor(path: string, at: number): { readonly ep: Endpoint; readonly decision: Decision };
  /** Runs a control route; `body` is the request body text. Throws on a malformed JSON body. */
  control(method: string, url: URL, body: string): { readonly status: number; readonly body: unknown };
  /** Runs `fn` after `ms` (now when `ms <= 0`); pending timers are cancelled by `cancelTimers`. */
  later(ms: number, fn: () => void): void;
  cancelTimers(): void;
  reports(): EndpointReport[];
  reset(endpoint?: string): void;
}

export function createMockCore({
  endpoints = [],
  recordBodies = true,
  random = Math.random,
}: {
  readonly endpoints?: ReadonlyArray<string | EndpointConfig>;
  readonly recordBodies?: boolean;
  readonly random?: () => number;
}): MockCore {
  const table = new Map<string, Endpoint>();
  const get = (name: string): Endpoint => {
    let ep = table.get(name);
    if (ep === undefined) {
      ep = { ledger: new Ledger(name, { recordBodies }), faults: createFaultState() };
      table.set(name, ep);
    }
    return ep;
  };
  for (const e of endpoints) {
    if (typeof e === 'string') get(e);
    else {
      const { name, faults, ...ledgerOptions } = e;
      const ep = get(name);
      ep.ledger.configure(ledgerOptions);
      if (faults !== undefined) ep.faults = createFaultState(faults);
    }
  }

  const pendingTimers = new Set<ReturnType<typeof setTimeout>>();
  const reset = (endpoint?: string) => {
    if (endpoint === undefined) for (const ep of table.values()) ep.ledger.reset();
    else get(endpoint).ledger.reset();
  };

  function control(method: string, url: URL, body: string): { status: number; body: unknown } {
    const parts = url.pathname.slice(CONTROL.length).split('/').filter(Boolean);
    const parsed = body === '' ? {} : (JSON.parse(body) as unknown);
    const ok = (b: unknown) => ({ status: 200, body: b });
    if (parts.length === 1 && parts[0] === 'reset' && method === 'POST') {
      reset();
      return ok({ ok: true });
    }
    if (parts[0] === 'endpoints' && parts.length === 1 && method === 'GET') {
      return ok(
        [...table.entries()].map(([name, ep]) => ({
          name,
          faults: ep.faults.spec,
          report: ep.ledger.report(),
        })),
      );
    }
    if (parts[0] === 'endpoints' && parts.length === 3) {
      const name = decodeURIComponent(parts[1]!);
      const ep = get(name);
      const action = parts[2];
      if (action === 'faults' && (method === 'PUT' || method === 'POST')) {
        ep.faults = createFaultState(parsed as FaultSpec);
        return ok({ ok: true, faults: ep.faults.spec });
      }
      if (action === 'faults' && method === 'GET') return ok(ep.faults.spec);
      if (action === 'options' && (method === 'PUT' || method === 'POST')) {
        ep.ledger.configure(parsed as LedgerOptions);
        return ok({ ok: true });
      }
      if (action === 'report' && method === 'GET') return ok(ep.ledger.report());
      if (action === 'applied' && method === 'GET') return ok(ep.ledger.appliedKeys);
      // Cheap progress for benchmarks polling a mock in another process (no key list, no report).
      if (action === 'progress' && method === 'GET')
        return ok({ applied: ep.ledger.appliedKeys.length, received: ep.ledger.requests.length });
      if (action === 'latencies' && method === 'GET') return ok(ep.ledger.latencies);
      if (action === 'latencies' && method === 'DELETE') {
        ep.ledger.latencies.length = 0;
        return ok({ ok: true });
      }
      if (action === 'requests' && method === 'GET') {
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 1000);
        return ok(ep.ledger.requests.slice(offset, offset + limit));
      }
      if (action === 'reset' && method === 'POST') {
        ep.ledger.reset();
        return ok({ ok: true });
      }
    }
    return { status: 404, body: { error: 'unknown control route' } };
  }

  return {
    get,
    all: () => table.entries(),
    decideFor(path, at) {
      const ep = get(endpointName(path));
      return { ep, decision: decide(ep.faults, at, random) };
    },
    control,
    later(ms, fn) {
      if (ms <= 0) {
        fn();
        return;
      }
      const t = setTimeout(() => {
        pendingTimers.delete(t);
        fn();
      }, ms);
      pendingTimers.add(t);
    },
    cancelTimers() {
      for (const t of pendingTimers) clearTimeout(t);
      pendingTimers.clear();
    },
    reports: () => [...table.values()].map((ep) => ep.ledger.report()),
    reset,
  };
}
