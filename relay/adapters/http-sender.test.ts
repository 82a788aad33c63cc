import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockApi, startMockApi } from '../../test/support/mock-api/index.ts';
import { classify } from '../core/classify.ts';
import type { HttpSender } from '../core/contracts.ts';
import { createFetchSender } from './http-fetch.ts';
import { createUndiciSender } from './http-undici.ts';
import { parseRetryAfter } from './retry-after.ts';

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:05 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe.each([
  ['undici', () => createUndiciSender({ connections: 4 })],
  ['fetch', () => createFetchSender()],
] as const)('%s sender', (_name, make) => {
  let api: MockApi;
  let sender: HttpSender;
  beforeAll(async () => {
    api = await startMockApi({ endpoints: ['s'] });
    sender = make();
  });
  afterAll(async () => {
    await sender.close();
    await api.stop();
  });
  const req = (over: Partial<{ timeoutMs: number; url: string }> = {}) => ({
    url: `${api.url}/s/1?x=y`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' },
    body: new TextEncoder().encode('{"key":"a","seq":1}'),
    // Generous: a loaded machine must not turn an answer into a timeout (the hang test sets its own).
    timeoutMs: 10_000,
    ...over,
  });

  it('delivers and reports the status', async () => {
    api.setFaults('s', {});
    api.reset('s');
    expect(await sender.send(req())).toEqual({ kind: 'response', status: 200 });
    const [seen] = api.ledger('s').requests;
    expect(seen).toMatchObject({
      method: 'POST',
      path: '/s/1?x=y',
      body: '{"key":"a","seq":1}',
      idempotencyKey: 'k1',
    });
  });

  it('parses Retry-After in seconds and as a date, keeps error bodies', async () => {
    api.setFaults('s', { fixed: { status: 429, count: 1, retryAfter: '2' } });
    expect(await sender.send(req())).toEqual({
      kind: 'response',
      status: 429,
      retryAfterMs: 2000,
      body: '{"error":"injected"}',
    });
    const date = new Date(Date.now() + 10_000).toUTCString();
    api.setFaults('s', { fixed: { status: 503, count: 1, retryAfter: date } });
    const r = await sender.send(req());
    expect(r.kind === 'response' && r.status === 503 && (r.retryAfterMs ?? 0) > 5000).toBe(true);
  });

  it('reports a hang as a timeout and a reset as a network error', async () => {
    api.setFaults('s', { hangRate: 1 });
    expect(await sender.send(req({ timeoutMs: 150 }))).toEqual({ kind: 'timeout' });
    // Long timeouts (undici's own timers on the undici sender) are still reported as timeouts.
    expect(await sender.send(req({ timeoutMs: 3000 }))).toEqual({ kind: 'timeout' });
    api.setFaults('s', { resetRate: 1 });
    expect((await sender.send(req())).kind).toBe('network-error');
    api.setFaults('s', { down: true });
    expect((await sender.send(req())).kind).toBe('network-error');
    api.setFaults('s', {});
    expect(await sender.send(req())).toEqual({ kind: 'response', status: 200 });
  });

  it('reports a header value the client refuses (CR/LF) as an invalid request, permanent, without echoing it', async () => {
    api.setFaults('s', {});
    api.reset('s');
    const value = 'secret-token-1234\r\nx-injected: 1';
    const r = await sender.send({ ...req(), headers: { 'idempotency-key': value } });
    expect(r.kind).toBe('invalid-request');
    expect(JSON.stringify(r)).not.toContain('secret-token-1234');
    const c = classify(r);
    expect(c.kind === 'failed' && c.error.code).toBe('FERRY_REQUEST_INVALID');
    expect(c.kind === 'failed' && c.error.retryable).toBe(false);
    expect(api.report('s').received).toBe(0);
  });

  it('scrubs credentials out of a failure body that echoes the request headers', async () => {
    api.setFaults('s', { fixed: { status: 400, count: 1 }, echoHeaders: true });
    const r = await sender.send({
      ...req(),
      headers: { ...req().headers, authorization: 'Bearer echo-me-not-7d1f', 'x-api-key': 'key-echo-9a2c' },
    });
    expect(r.kind === 'response' && r.status).toBe(400);
    const body = r.kind === 'response' ? (r.body ?? '') : '';
    expect(body).toContain('[REDACTED]');
    expect(body).not.toContain('echo-me-not-7d1f');
    expect(body).not.toContain('key-echo-9a2c');
    api.setFaults('s', {});
  });

  it('reports a refused connection as a network error', async () => {
    const r = await sender.send(req({ url: 'http://127.0.0.1:1/x' }));
    expect(r.kind).toBe('network-error');
  });
});

describe('splitUrl', () => {
  it('splits origin and path without losing the query', async () => {
    const { splitUrl } = await import('./http-undici.ts');
    expect(splitUrl('http://127.0.0.1:8080/a/b?x=1')).toEqual({
      origin: 'http://127.0.0.1:8080',
      path: '/a/b?x=1',
    });
    expect(splitUrl('https://api.example.com')).toEqual({ origin: 'https://api.example.com', path: '/' });
    expect(splitUrl('https://api.example.com?x=1')).toEqual({
      origin: 'https://api.example.com',
      path: '/?x=1',
    });
    expect(splitUrl('ftp://x/y')).toBeUndefined();
    expect(splitUrl('not a url')).toBeUndefined();
    expect(splitUrl('http://user@host/x')).toBeUndefined();
    expect(splitUrl('http://API.Example.com:80/x')).toEqual({
      origin: 'http://API.Example.com:80',
      path: '/x',
    });
  });
});
