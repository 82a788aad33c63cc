import { describe, expect, it } from 'vitest';
import { createRedactor } from '../core/redact.ts';
import { edgeConfigProblems } from '../edge.ts';
import { configSecrets } from '../secrets.ts';
import { parseConfig } from './load.ts';

const doc = (extra: string) => `
source: push
push: { token: a-push-token-0123456789, unsigned: true }
${extra}
routes:
  - topics: orders
    sinks:
      - id: api
        url: http://127.0.0.1:4010/orders
        dedupe: { store: memory }
`;
const errors = (text: string, env: Record<string, string> = {}) => {
  const r = parseConfig(text, env);
  return r.ok ? [] : r.errors;
};

describe('dlq config', () => {
  it('defaults to the Kafka DLQ, which the edge relay refuses', () => {
    const r = parseConfig(doc(''), {});
    expect(r.ok && r.config.dlq).toEqual({
      to: 'kafka',
      url: undefined,
      bearer: undefined,
      username: undefined,
      password: undefined,
      timeoutMs: 10_000,
    });
    expect(r.ok && edgeConfigProblems(r.config)).toEqual([
      'dlq.to: kafka needs a Kafka client; on the edge use http-proxy (Redpanda HTTP Proxy) or url',
    ]);
  });

  it('takes the HTTP Proxy with HTTP Basic from the environment, a secret the redactor knows', () => {
    const r = parseConfig(
      doc('dlq: { to: http-proxy, url: "https://rp.example.com:8082/", username: relay, password: "${PW}" }'),
      { PW: 'proxy-password-xyz' },
    );
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(r.config.dlq).toMatchObject({
      to: 'http-proxy',
      url: 'https://rp.example.com:8082',
      username: 'relay',
    });
    expect(edgeConfigProblems(r.config)).toEqual([]);
    expect(configSecrets(r.config)).toContain('proxy-password-xyz');
    expect(createRedactor({ secrets: configSecrets(r.config) })('said proxy-password-xyz')).not.toContain(
      'xyz',
    );
  });

  it.each([
    ['dlq: { to: url }', 'dlq.url: dlq.to url needs a url'],
    ['dlq: { to: url, url: "ftp://x.example.com/dead" }', 'dlq.url: must be an http(s) URL'],
    [
      'dlq: { to: url, url: "https://x.example.com/{key}" }',
      'dlq.url: must be a plain URL (no {placeholders})',
    ],
    [
      'dlq: { to: url, url: "https://x.example.com/d", bearer: t, username: u, password: p }',
      'dlq.bearer: use either bearer or username and password',
    ],
    [
      'dlq: { to: http-proxy, url: "https://x.example.com", username: u }',
      'dlq.username: username and password go together (HTTP Basic)',
    ],
    ['dlq: { url: "https://x.example.com" }', 'dlq.url: only for dlq.to http-proxy or url'],
    ['dlq: { to: s3 }', 'dlq.to: must be kafka, http-proxy or url'],
  ])('refuses %s', (extra, problem) => {
    expect(errors(doc(extra))).toContain(problem);
  });

  it('refuses a bearer with a line break without echoing it', () => {
    const out = errors(doc('dlq: { to: url, url: "https://x.example.com/d", bearer: "${T}" }'), {
      T: 'sec\nret',
    });
    expect(out).toEqual(['dlq.bearer: must not contain control characters (CR, LF, NUL, ...)']);
    expect(out.join()).not.toContain('sec');
  });
});

describe('edge config problems', () => {
  it('names every setting the edge relay cannot honour', () => {
    const r = parseConfig(
      `
kafka: { brokers: ["127.0.0.1:19092"] }
http: { client: undici }
routes:
  - topics: orders
    sinks:
      - id: api
        url: http://127.0.0.1:4010/orders
`,
      {},
    );
    if (!r.ok) throw new Error(r.errors.join('\n'));
    expect(edgeConfigProblems(r.config)).toEqual([
      'source: kafka needs a long-lived process; the edge relay takes source: push or http-proxy',
      'dedupe.store: redis needs a TCP connection; on the edge use upstash (or memory, per isolate)',
      'dlq.to: kafka needs a Kafka client; on the edge use http-proxy (Redpanda HTTP Proxy) or url',
      'http.client: undici is not available on the edge (use fetch)',
    ]);
  });
});
