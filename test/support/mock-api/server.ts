// The mock external API: a plain node:http server (fast enough for tens of thousands of requests per
// second on loopback) with one Ledger and one FaultState per endpoint. An endpoint is the first path
// segment (`POST /orders/42` hits endpoint `orders`); unknown endpoints are created on first use.
// The control API lives under /_control (see README.md in this folder).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFaultState, decide, type FaultSpec, type FaultState } from './faults.ts';
import { type EndpointReport, Ledger, type LedgerOptions } from './ledger.ts';

export interface EndpointConfig extends LedgerOptions {
  readonly name: string;
  readonly faults?: FaultSpec;
}

export interface MockApiOptions {
  readonly port?: number;
  readonly host?: string;
  readonly endpoints?: ReadonlyArray<string | EndpointConfig>;
  /** Keep request bodies in the log (default true; benchmarks turn it off). */
  readonly recordBodies?: boolean;
  readonly random?: () => number;
}

interface Endpoint {
  readonly ledger: Ledger;
  faults: FaultState;
}

export interface MockApi {
  readonly port: number;
  readonly url: string;
  setFaults(endpoint: string, faults: FaultSpec): void;
  configure(endpoint: string, options: LedgerOptions): void;
  report(endpoint: string): EndpointReport;
  reports(): EndpointReport[];
  ledger(endpoint: string): Ledger;
  reset(endpoint?: string): void;
  stop(): Promise<void>;
}

const CONTROL = '/_control';

function endpointName(path: string): string {
  const start = path.charCodeAt(0) === 47 ? 1 : 0;
  let end = path.indexOf('/', start);
  const q = path.indexOf('?', start);
  if (end === -1 || (q !== -1 && q < end)) end = q;
  return path.slice(start, end === -1 ? undefined : end) || 'root';
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()),
    );
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startMockApi({
  port = 0,
  host = '127.0.0.1',
  endpoints = [],
  recordBodies = true,
  random = Math.random,
}: MockApiOptions = {}): Promise<MockApi> {
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
  const later = (ms: number, fn: () => void): void => {
    if (ms <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      pendingTimers.delete(t);
      fn();
    }, ms);
    pendingTimers.add(t);
  };

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.slice(CONTROL.length).split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const parsed = body === '' ? {} : (JSON.parse(body) as unknown);
    if (parts.length === 1 && parts[0] === 'reset' && method === 'POST') {
      for (const ep of table.values()) ep.ledger.reset();
      return json(res, 200, { ok: true });
    }
    if (parts[0] === 'endpoints' && parts.length === 1 && method === 'GET') {
      return json(
        res,
        200,
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
        return json(res, 200, { ok: true, faults: ep.faults.spec });
      }
      if (action === 'faults' && method === 'GET') return json(res, 200, ep.faults.spec);
      if (action === 'options' && (method === 'PUT' || method === 'POST')) {
        ep.ledger.configure(parsed as LedgerOptions);
        return json(res, 200, { ok: true });
      }
      if (action === 'report' && method === 'GET') return json(res, 200, ep.ledger.report());
      if (action === 'applied' && method === 'GET') return json(res, 200, ep.ledger.appliedKeys);
      if (action === 'requests' && method === 'GET') {
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 1000);
        return json(res, 200, ep.ledger.requests.slice(offset, offset + limit));
      }
      if (action === 'reset' && method === 'POST') {
        ep.ledger.reset();
        return json(res, 200, { ok: true });
      }
    }
    return json(res, 404, { error: 'unknown control route' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    if (path.startsWith(CONTROL)) {
      try {
        await control(req, res, new URL(path, 'http://mock'));
      } catch (err) {
        json(res, 400, { error: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    const ep = get(endpointName(path));
    const body = await readBody(req);
    const at = Date.now();
    const decision = decide(ep.faults, at, random);
    const method = req.method ?? 'GET';
    switch (decision.kind) {
      case 'down':
        ep.ledger.record(method, path, req.headers, body, 'down', at);
        req.socket.destroy();
        return;
      case 'hang':
        ep.ledger.record(method, path, req.headers, body, 'hang', at);
        return;
      case 'reset':
        later(decision.delayMs, () => {
          ep.ledger.record(method, path, req.headers, body, 'reset', at);
          req.socket.destroy();
        });
        return;
      case 'answer':
        later(decision.delayMs, () => {
          if (req.socket.destroyed) return; // the client gave up (timeout): nothing was answered or applied
          const applied = ep.ledger.record(method, path, req.headers, body, decision.status, at);
          const text =
            decision.status >= 200 && decision.status < 300
              ? applied
                ? '{"applied":true}'
                : '{"applied":false,"replay":true}'
              : '{"error":"injected"}';
          const headers: Record<string, string | number> = {
            'content-type': 'application/json',
            'content-length': text.length,
          };
          if (decision.retryAfter !== undefined) headers['retry-after'] = decision.retryAfter;
          res.writeHead(decision.status, headers);
          res.end(text);
        });
        return;
    }
  }

  const server: Server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { error: 'mock failure' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;

  return {
    port: actual,
    url: `http://${host}:${actual}`,
    setFaults(endpoint, faults) {
      get(endpoint).faults = createFaultState(faults);
    },
    configure(endpoint, options) {
      get(endpoint).ledger.configure(options);
    },
    report: (endpoint) => get(endpoint).ledger.report(),
    reports: () => [...table.values()].map((ep) => ep.ledger.report()),
    ledger: (endpoint) => get(endpoint).ledger,
    reset(endpoint) {
      if (endpoint === undefined) for (const ep of table.values()) ep.ledger.reset();
      else get(endpoint).ledger.reset();
    },
    stop() {
      for (const t of pendingTimers) clearTimeout(t);
      pendingTimers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
