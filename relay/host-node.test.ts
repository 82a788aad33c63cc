// `http.client` on Node: both clients are real senders and the config chooses between them; a client
// the runtime does not have is a config error (exit 2), not silently replaced by another.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockApi, startMockApi } from '../test/support/mock-api/index.ts';
import { parseConfig } from './config/load.ts';
import { createNodeHost } from './host-node.ts';
import { EXIT_INVALID_CONFIG, loadConfigOrExit, type RuntimeHost } from './main.ts';

const CONFIG = (client: string) => `
http: { client: ${client} }
routes: [{ topics: a, sinks: [{ id: s, url: "http://127.0.0.1:1/x" }] }]
`;

let api: MockApi;
beforeAll(async () => {
  api = await startMockApi({ endpoints: ['client'] });
});
afterAll(() => api.stop());

describe('http.client on Node', () => {
  it('sends with the client the config names', async () => {
    const host = createNodeHost([]);
    const config = parseConfig(CONFIG('fetch'));
    if (!config.ok) throw new Error(config.errors.join('; '));
    const sink = config.config.relay.routes[0]?.sinks[0];
    if (!sink) throw new Error('no sink');
    for (const client of ['undici', 'fetch'] as const) {
      const sender = host.createSender(sink, client);
      const r = await sender.send({
        url: `${api.url}/client/${client}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': client },
        body: '{}',
        timeoutMs: 5000,
      });
      await sender.close();
      expect(r).toMatchObject({ kind: 'response', status: 200 });
    }
    const seen = Object.fromEntries(api.ledger('client').requests.map((r) => [r.path, r.headers]));
    // fetch stamps its Fetch-standard request headers; undici's dispatcher sends only what it is given.
    expect(seen['/client/fetch']?.['sec-fetch-mode']).toBe('cors');
    expect(seen['/client/undici']?.['sec-fetch-mode']).toBeUndefined();
  });

  it('a client the runtime lacks is refused with exit 2, naming the setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-http-client-'));
    const file = join(dir, 'relay.yaml');
    writeFileSync(file, CONFIG('undici'));
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    const bun: RuntimeHost = {
      ...createNodeHost([]),
      name: 'bun',
      httpClients: ['fetch'],
      exit: (code) => {
        throw new Error(`exit ${code}`);
      },
    };
    try {
      await expect(loadConfigOrExit(bun, file)).rejects.toThrow(`exit ${EXIT_INVALID_CONFIG}`);
    } finally {
      console.error = original;
    }
    expect(errors).toContain('  http.client: undici is not available on bun (use fetch)');
    const node = await loadConfigOrExit(createNodeHost([]), file);
    expect(node.http.client).toBe('undici');
  });
});
