import { describe, expect, it } from 'vitest';
import { configSecrets } from '../secrets.ts';
import { parseConfig } from './load.ts';

const doc = (httpProxy: string, source = 'http-proxy') => `
source: ${source}
${httpProxy ? `httpProxy: ${httpProxy}` : ''}
routes:
  - topics: clean.shipments
    sinks:
      - id: api
        url: http://127.0.0.1:4010/shipments
`;

describe('httpProxy config', () => {
  it('has defaults for everything but the URL', () => {
    const r = parseConfig(doc('{ url: "https://redpanda.example.com:8082/" }'), {});
    expect(r.ok && r.config.source).toBe('http-proxy');
    expect(r.ok && r.config.httpProxy).toEqual({
      url: 'https://redpanda.example.com:8082',
      group: 'ferry-edge',
      instancePrefix: 'ferry',
      auth: undefined,
      requestTimeoutMs: 10_000,
      fetchTimeoutMs: 1000,
      fetchMaxBytes: 1024 * 1024,
      drainBudgetMs: 20_000,
      drainMaxRecords: 5000,
      drainMaxInFlight: 1000,
      eventIdField: 'eventId',
    });
  });

  it('takes basic auth or a bearer token from the environment, and knows them as secrets', () => {
    const basic = parseConfig(
      doc(
        '{ url: "http://127.0.0.1:8082", auth: { username: ferry, password: "${PP}" }, drain: { budget: 25s, maxRecords: "${MAX}" } }',
      ),
      { PP: 's3cret-proxy-pass', MAX: '200' },
    );
    expect(basic.ok).toBe(true);
    if (!basic.ok) return;
    expect(basic.config.httpProxy?.auth).toEqual({
      kind: 'basic',
      username: 'ferry',
      password: 's3cret-proxy-pass',
    });
    expect(basic.config.httpProxy?.drainBudgetMs).toBe(25_000);
    expect(basic.config.httpProxy?.drainMaxRecords).toBe(200);
    expect(configSecrets(basic.config)).toContain('s3cret-proxy-pass');
    expect(configSecrets(basic.config)).toContain(btoa('ferry:s3cret-proxy-pass'));
    const bearer = parseConfig(doc('{ url: "http://127.0.0.1:8082", auth: { token: "${PT}" } }'), {
      PT: 'tok-123456',
    });
    expect(bearer.ok && bearer.config.httpProxy?.auth).toEqual({ kind: 'bearer', token: 'tok-123456' });
  });

  it('refuses what could never work, naming paths and never values', () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['', {}, 'httpProxy: source http-proxy needs httpProxy: { url }'],
      ['{ url: "ftp://h:1" }', {}, 'httpProxy.url: must be an http(s) URL'],
      ['{ url: "http://u:p@h:1" }', {}, 'httpProxy.url: must not contain credentials (use auth)'],
      ['{ url: "http://h:1/?x=1" }', {}, 'httpProxy.url: must be a base URL (no query, no placeholders)'],
      [
        '{ url: "http://h:1", auth: { password: "literal-secret-value" , username: u } }',
        {},
        'httpProxy.auth.password: must come from the environment, as ${VAR}',
      ],
      [
        '{ url: "http://h:1", auth: { username: u, password: "${P}", token: "${T}" } }',
        { P: 'x', T: 'y' },
        'httpProxy.auth: use either username and password (basic) or token (bearer), not both',
      ],
      [
        '{ url: "http://h:1", auth: { username: u } }',
        {},
        'httpProxy.auth: basic auth needs username and password (or give a token)',
      ],
      [
        '{ url: "http://h:1", auth: { token: "${T}" } }',
        { T: 'bad\r\nvalue-secret' },
        'httpProxy.auth.token: must not contain control characters (CR, LF, NUL, ...)',
      ],
      [
        '{ url: "http://h:1", fetch: { timeout: 30s }, drain: { budget: 20s } }',
        {},
        'httpProxy.fetch.timeout: must be shorter than drain.budget',
      ],
      [
        '{ url: "http://h:1", drain: { maxRecords: 0 } }',
        {},
        'httpProxy.drain.maxRecords: must be a positive integer',
      ],
      [
        '{ url: "http://h:1", instancePrefix: "a b" }',
        {},
        'httpProxy.instancePrefix: must use letters, digits, _ . - only',
      ],
      ['{ url: "http://h:1", typo: 1 }', {}, 'httpProxy.typo'],
    ];
    for (const [proxy, env, expected] of cases) {
      const r = parseConfig(doc(proxy), env);
      expect(r.ok, proxy).toBe(false);
      if (r.ok) continue;
      expect(
        r.errors.some((e) => e.startsWith(expected)),
        `${proxy}: ${r.errors.join(' | ')}`,
      ).toBe(true);
      expect(r.errors.join('\n')).not.toContain('secret');
    }
  });

  it('lists http-proxy among the sources', () => {
    const r = parseConfig(doc('', 'pull'), {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContain('source: must be kafka, push or http-proxy');
  });
});
