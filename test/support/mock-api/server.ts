// The mock external API: one Ledger and one FaultState per endpoint (core.ts), served by a plain
// node:http server, or by Bun.serve when running under Bun (serve-bun.ts: about half the CPU per
// request, which matters when the mock shares two cores with the relay it measures). An endpoint is the
// first path segment (`POST /orders/42` hits endpoint `orders`); unknown endpoints are created on first
// use. The control API lives under /_control (see README.md in this folder).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerText, CONTROL, createMockCore, type EndpointConfig, type MockCore } from './core.ts';
import { createFaultState, type FaultSpec } from './faults.ts';
import type { EndpointReport, Ledger, LedgerOptions } from './ledger.ts';

export type { EndpointConfig } from './core.ts';

export interface MockApiOptions {
  readonly port?: number;
  readonly host?: string;
  readonly endpoints?: ReadonlyArray<string | EndpointConfig>;
  /** Keep request bodies in the log (default true; benchmarks turn it off). */
  readonly recordBodies?: boolean;
  readonly random?: () => number;
  /** Which server carries it: `bun` (Bun.serve) is the default under Bun, `node` (node:http) elsewhere. */
  readonly server?: 'node' | 'bun';
}

export interface MockApi {
  readonly port: number;
  readonly url: string;
  /** The server carrying it. */
  readonly server: 'node' | 'bun';
  setFaults(endpoint: string, faults: FaultSpec): void;
  configure(endpoint: string, options: LedgerOptions): void;
  report(endpoint: string): EndpointReport;
  reports(): EndpointReport[];
  ledger(endpoint: string): Ledger;
  reset(endpoint?: string): void;
  stop(): Promise<void>;
}

/** A started front: the port it listens on and how to stop it. */
export interface MockFront {
  readonly port: number;
  stop(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function serveNode(core: MockCore, port: number, host: string): Promise<MockFront> {
  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = req.url ?? '/';
    if (path.startsWith(CONTROL)) {
      try {
        const r = core.control(req.method ?? 'GET', new URL(path, 'http://mock'), body);
        json(res, r.status, r.body);
      } catch (err) {
        json(res, 400, { error: err instanceof Error ? err.message : String(err) });
      }
      return;
    }
    const at = Date.now();
    const { ep, decision } = core.decideFor(path, at);
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
        core.later(decision.delayMs, () => {
          ep.ledger.record(method, path, req.headers, body, 'reset', at);
          req.socket.destroy();
        });
        return;
      case 'answer':
        core.later(decision.delayMs, () => {
          if (req.socket.destroyed) return; // the client gave up (timeout): nothing was answered or applied
          const applied = ep.ledger.record(method, path, req.headers, body, decision.status, at);
          const text = answerText(
            decision.status,
            applied,
            ep.faults.spec.echoHeaders === true ? req.headers : undefined,
          );
          const headers: Record<string, string | number> = {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          };
          if (decision.retryAfter !== undefined) headers['retry-after'] = decision.retryAfter;
          res.writeHead(decision.status, headers);
          res.end(text);
        });
        return;
    }
  }

  // The body is read with plain listeners (no promise or async frame per request).
  const server: Server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on('data', (c: Buffer) => {
      if (first === undefined) first = c;
      else if (more === undefined) more = [first, c];
      else more.push(c);
    });
    req.on('end', () => {
      const body = more !== undefined ? Buffer.concat(more).toString() : (first?.toString() ?? '');
      try {
        handle(req, res, body);
      } catch {
        if (!res.headersSent) json(res, 500, { error: 'mock failure' });
      }
    });
    req.on('error', () => {
      if (!res.headersSent) json(res, 500, { error: 'mock failure' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function startMockApi({
  port = 0,
  host = '127.0.0.1',
  endpoints = [],
  recordBodies = true,
  random = Math.random,
  server: kind = 'Bun' in globalThis ? 'bun' : 'node',
}: MockApiOptions = {}): Promise<MockApi> {
  const core = createMockCore({ endpoints, recordBodies, random });
  const front =
    kind === 'bun'
      ? (await import('./serve-bun.ts')).serveBun(core, port, host)
      : await serveNode(core, port, host);
  const actual = front.port;
  return {
    port: actual,
    url: `http://${host}:${actual}`,
    server: kind,
    setFaults(endpoint, faults) {
      core.get(endpoint).faults = createFaultState(faults);
    },
    configure(endpoint, options) {
      core.get(endpoint).ledger.configure(options);
    },
    report: (endpoint) => core.get(endpoint).ledger.report(),
    reports: () => core.reports(),
    ledger: (endpoint) => core.get(endpoint).ledger,
    reset: (endpoint) => core.reset(endpoint),
    stop() {
      core.cancelTimers();
      return front.stop();
    },
  };
}
