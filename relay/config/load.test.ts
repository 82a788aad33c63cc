import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.ts';

const sink = (extra = '') => `
      - id: billing
        url: http://127.0.0.1:4010/billing/{after.id}
${extra}`;

describe('config', () => {
  it('fills defaults and interpolates the environment', () => {
    const r = parseConfig(
      `
adminToken: \${ADMIN}
kafka: { brokers: ["\${BROKER:-127.0.0.1:19092}"] }
routes:
  - topics: clean.orders
    sinks:${sink(`        auth: { bearer: "\${TOKEN}" }\n        timeout: 2s\n        dedupe: { ttl: 1d }`)}`,
      { ADMIN: 'a-very-long-admin-token', TOKEN: 'secret' },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const s = r.config.relay.routes[0]?.sinks[0];
    expect(r.config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(r.config.adminToken).toBe('a-very-long-admin-token');
    expect(s?.auth.bearer).toBe('secret');
    expect(s?.timeoutMs).toBe(2000);
    expect(s?.dedupe).toMatchObject({
      enabled: true,
      store: 'redis',
      ttlMs: 86_400_000,
      onUnavailable: 'block',
    });
    expect(s?.retry).toEqual({ attempts: 5, backoffBaseMs: 100, backoffCapMs: 10_000, jitter: 'full' });
    expect(r.config.relay.routes[0]?.topics).toEqual(['clean.orders']);
  });

  it('names the path and the problem for every error', () => {
    const r = parseConfig(
      `
routes:
  - topics: [a]
    sinks:
      - id: ok
        url: http://127.0.0.1/x
      - id: bad
        url: http://127.0.0.1/x
        retry: { attempts: 0 }
        onOpen: later
        colour: red
        auth: { bearer: "\${MISSING}" }
`,
      {},
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toContain('routes[0].sinks[1].auth.bearer: environment variable MISSING is not set');
    expect(r.errors).toContain('routes[0].sinks[1].retry.attempts: must be a positive integer');
    expect(r.errors).toContain('routes[0].sinks[1].onOpen: must be pause or deadletter');
    expect(r.errors).toContain('routes[0].sinks[1].colour: unknown setting (check the spelling)');
  });

  it('checks URLs, duplicate ids and cross-field rules', () => {
    const r = parseConfig(`
routes:
  - topics: a
    sinks:
      - { id: x, url: "ftp://127.0.0.1/x" }
      - { id: y, url: "http://{host}/x" }
  - topics: b
    sinks:
      - { id: x, url: "http://127.0.0.1/x", dedupe: { store: upstash } }
`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      'routes[0].sinks[0].url: must be an http(s) URL',
      'routes[0].sinks[1].url: placeholders are allowed only in the path and query, the origin is fixed',
      'routes[1].sinks[0].id: duplicate sink id x (also at routes[0].sinks[0])',
      'routes[1].sinks[0].dedupe.store: upstash needs a top-level upstash: { url, token }',
    ]);
  });

  it('reports YAML syntax errors and missing routes', () => {
    const bad = parseConfig('routes: [');
    expect(bad.ok).toBe(false);
    const empty = parseConfig('listen: { port: 1 }');
    expect(!empty.ok && empty.errors[0]).toMatch(/^routes: /);
  });
});
