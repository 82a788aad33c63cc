// A client for the mock API's control routes, for tests that run the mock as a separate process.
import type { FaultSpec } from './faults.ts';
import type { EndpointReport, LedgerOptions, RecordedRequest } from './ledger.ts';

export interface MockApiClient {
  setFaults(endpoint: string, faults: FaultSpec): Promise<void>;
  configure(endpoint: string, options: LedgerOptions): Promise<void>;
  report(endpoint: string): Promise<EndpointReport>;
  applied(endpoint: string): Promise<string[]>;
  requests(endpoint: string, offset?: number, limit?: number): Promise<RecordedRequest[]>;
  reset(endpoint?: string): Promise<void>;
  /** Applied and received counts only (cheap enough to poll). */
  progress(endpoint: string): Promise<{ readonly applied: number; readonly received: number }>;
  /** Produce-to-arrival latencies (ms) recorded for `latencyField`, and clearing them. */
  latencies(endpoint: string): Promise<number[]>;
  clearLatencies(endpoint: string): Promise<void>;
}

export function createMockApiClient(baseUrl: string): MockApiClient {
  const base = baseUrl.replace(/\/$/, '') + '/_control';
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`mock-api control ${method} ${path}: ${res.status}`);
    return (await res.json()) as T;
  }
  const ep = (name: string) => '/endpoints/' + encodeURIComponent(name);
  return {
    setFaults: async (endpoint, faults) => void (await call('PUT', ep(endpoint) + '/faults', faults)),
    configure: async (endpoint, options) => void (await call('PUT', ep(endpoint) + '/options', options)),
    report: (endpoint) => call('GET', ep(endpoint) + '/report'),
    applied: (endpoint) => call('GET', ep(endpoint) + '/applied'),
    requests: (endpoint, offset = 0, limit = 1000) =>
      call('GET', `${ep(endpoint)}/requests?offset=${offset}&limit=${limit}`),
    reset: async (endpoint) =>
      void (await call('POST', endpoint === undefined ? '/reset' : ep(endpoint) + '/reset')),
    progress: (endpoint) => call('GET', ep(endpoint) + '/progress'),
    latencies: (endpoint) => call('GET', ep(endpoint) + '/latencies'),
    clearLatencies: async (endpoint) => void (await call('DELETE', ep(endpoint) + '/latencies')),
  };
}
