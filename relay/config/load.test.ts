import { describe, expect, it } from 'vitest';
import { parseConfig, resolveConfig } from './load.ts';

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
      'routes[1].sinks[0].id: duplicate sink id (also at routes[0].sinks[0])',
      'routes[1].sinks[0].dedupe.store: upstash needs a top-level upstash: { url, token }',
    ]);
  });

  it('reports YAML syntax errors and missing routes', () => {
    const bad = parseConfig('routes: [');
    expect(bad.ok).toBe(false);
    const empty = parseConfig('listen: { port: 1 }');
    expect(!empty.ok && empty.errors[0]).toMatch(/^routes: /);
  });

  it('refuses URLs and headers that every delivery would fail on', () => {
    const r = parseConfig(`
routes:
  - topics: a
    sinks:
      - id: crlf
        url: http://127.0.0.1:4010/x
        headers: { X-Tenant: "a\\r\\nX-Injected: 1", X-Nul: "a\\u0000b", X-Wide: "a\\u2028", "Bad Name": v }
      - { id: slash, url: "http://127.0.0.1:4010\\\\@other/x" }
      - { id: fragment, url: "http://127.0.0.1:4010/x#{id}" }
      - { id: userinfo, url: "http://127.0.0.1:4010@other/x" }
      - { id: space, url: "http://127.0.0.1:4010/a b" }
      - id: reserved
        url: http://127.0.0.1:4010/x
        headers: { Content-Length: "3", Idempotency-Key: k, Authorization: "Basic x" }
        auth: { bearer: "tok\\nen", webhookSecret: "whsec_not base64!" }
`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      'routes[0].sinks[0].headers.X-Tenant: must not contain control characters (CR, LF, NUL, ...)',
      'routes[0].sinks[0].headers.X-Nul: must not contain control characters (CR, LF, NUL, ...)',
      'routes[0].sinks[0].headers.X-Wide: must contain only Latin-1 characters',
      'routes[0].sinks[0].headers: header 4 has a name that is not a valid HTTP token',
      'routes[0].sinks[1].url: must not contain a backslash (URL parsers read it as "/", HTTP clients do not)',
      'routes[0].sinks[2].url: must not contain a fragment (#): it is not part of an HTTP request',
      'routes[0].sinks[3].url: must not contain credentials (use auth)',
      'routes[0].sinks[4].url: must not contain whitespace or control characters',
      'routes[0].sinks[5].headers.Content-Length: is set by the relay, not configurable',
      'routes[0].sinks[5].headers.Idempotency-Key: is set by the relay, not configurable',
      'routes[0].sinks[5].headers.Authorization: conflicts with auth.bearer',
      'routes[0].sinks[5].auth.bearer: must not contain control characters (CR, LF, NUL, ...)',
      'routes[0].sinks[5].auth.webhookSecret: must be whsec_ followed by a non-empty base64 key',
    ]);
  });

  it('accepts a query template after a bare origin, and numbers and booleans from the environment', () => {
    const r = parseConfig(
      `
listen: { port: "\${PORT}" }
replay: { perSecond: "\${REPLAY_RATE:-50}" }
routes:
  - topics: a
    sinks:
      - id: q
        url: http://127.0.0.1:4010?x={id}
        retry: { attempts: "\${ATTEMPTS}" }
        breaker: { threshold: "\${THRESHOLD}" }
        rateLimit: { perSecond: "\${RATE}" }
        dedupe: "\${DEDUPE}"
        filter: [{ field: a, exists: "\${EXISTS}" }, { field: n, gte: "\${MIN}" }]
`,
      {
        PORT: '8080',
        ATTEMPTS: '3',
        THRESHOLD: '4',
        RATE: '2.5',
        DEDUPE: 'false',
        EXISTS: 'true',
        MIN: '-1e3',
      },
    );
    expect(r.ok && r.config.listen.port).toBe(8080);
    if (!r.ok) return;
    const s = r.config.relay.routes[0]?.sinks[0];
    expect(r.config.replayPerSecond).toBe(50);
    expect(s?.retry.attempts).toBe(3);
    expect(s?.breaker.threshold).toBe(4);
    expect(s?.rateLimitPerSecond).toBe(2.5);
    expect(s?.dedupe.enabled).toBe(false);
    expect(s?.filter).toEqual([
      { field: 'a', exists: true },
      { field: 'n', gte: -1000 },
    ]);
    const bad = parseConfig(
      `listen: { port: "\${PORT}" }\nroutes: [{ topics: a, sinks: [{ id: q, url: "http://h/x" }] }]`,
      { PORT: '80 80' },
    );
    expect(!bad.ok && bad.errors).toEqual(['listen.port: must be a port number']);
  });

  it('never echoes a value in an error: tokens, secrets, anything from the environment', () => {
    const secret = '98765432109876543210';
    const r = parseConfig(
      `
adminToken: ${secret}
push: { token: ${secret} }
upstash: { url: "\${UPSTASH_URL}", token: ${secret} }
listen: { port: "\${PORT}" }
routes:
  - topics: a
    sinks:
      - { id: "\${SINK}", url: "http://127.0.0.1/x", auth: { bearer: ${secret} } }
`,
      { UPSTASH_URL: `ftp://${secret}`, SINK: `s/${secret}`, PORT: secret },
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.length).toBeGreaterThan(0);
    for (const line of r.errors) expect(line).not.toContain(secret.slice(0, 8));
    expect(r.errors).toEqual([
      'listen.port: must be a port number',
      'adminToken: invalid value (expected string)',
      'push.token: invalid value (expected string)',
      'upstash.token: must be a token',
      'routes[0].sinks[0].id: must use letters, digits, _ . - only',
      'routes[0].sinks[0].auth.bearer: must be a token',
    ]);
    // Once the schema holds, the cross-field checks name paths only as well.
    const r2 = parseConfig(
      `
upstash: { url: "\${UPSTASH_URL}", token: t }
routes:
  - topics: a
    sinks:
      - { id: "\${SINK}", url: "http://127.0.0.1/x" }
      - { id: "\${SINK}", url: "http://127.0.0.1/y", headers: { X-Key: "\${HEADER}" } }
`,
      { UPSTASH_URL: `ftp://${secret}`, SINK: `s${secret}`, HEADER: `${secret}\r\n` },
    );
    expect(!r2.ok && r2.errors).toEqual([
      'routes[0].sinks[1].id: duplicate sink id (also at routes[0].sinks[0])',
      'routes[0].sinks[1].headers.X-Key: must not contain control characters (CR, LF, NUL, ...)',
      'upstash.url: must be an http(s) URL',
    ]);
  });

  it('answers odd documents with an error, never a crash or a prototype trick', () => {
    expect(parseConfig('[]')).toEqual({ ok: false, errors: ['(root): must be a mapping with routes'] });
    const deep: Record<string, unknown> = {};
    let at = deep;
    for (let i = 0; i < 100_000; i++) {
      const next: Record<string, unknown> = {};
      at.a = next;
      at = next;
    }
    expect(resolveConfig({ routes: [], x: deep })).toEqual({
      ok: false,
      errors: ['(root): nested deeper than 64 levels'],
    });
    // A `__proto__` key is a key like any other: unknown here, not a way to set inherited settings.
    const r = parseConfig(
      '__proto__: { adminToken: "0123456789abcdef0123" }\nroutes: [{ topics: a, sinks: [{ id: s, url: "http://h/x" }] }]',
    );
    expect(r).toEqual({ ok: false, errors: ['__proto__: unknown setting (check the spelling)'] });
  });
});
