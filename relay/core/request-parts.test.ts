import { describe, expect, it } from 'vitest';
import { classify, parseRetryAfter } from './classify.ts';
import { matchesFilter } from './filter.ts';
import { checkUrlTemplate, compileUrlTemplate } from './url-template.ts';
import { createWebhookSigner } from './webhook-signing.ts';

describe('Standard Webhooks signing', () => {
  it('matches the published test vector', async () => {
    const signer = createWebhookSigner('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const headers = await signer.sign('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(headers['webhook-timestamp']).toBe('1614265330');
  });
});

describe('URL templates', () => {
  it('keeps the origin fixed and URL-encodes values', () => {
    const t = compileUrlTemplate('https://api.example.com/v1/orders/{after.id}/lines?sku={after.sku}');
    expect(t.render({ after: { id: 'a b', sku: 'a&b=c' } })).toBe(
      'https://api.example.com/v1/orders/a%20b/lines?sku=a%26b%3Dc',
    );
    expect(() => t.render({ after: { id: '../../admin', sku: 'x' } })).toThrow(/path separator/);
    expect(() => t.render({ after: { sku: 'x' } })).toThrow(/missing/);
    const at = compileUrlTemplate('http://127.0.0.1:4010/x/{host}');
    expect(at.render({ host: '@evil.com' })).toBe('http://127.0.0.1:4010/x/%40evil.com');
  });

  it('rejects templates whose origin could change', () => {
    expect(checkUrlTemplate('http://{host}/x')).toMatch(/origin is fixed/);
    expect(checkUrlTemplate('http://api.example.com{path}')).toMatch(/origin is fixed/);
    expect(checkUrlTemplate('ftp://x/y')).toBe('must be an http(s) URL');
    expect(checkUrlTemplate('not-a-url')).toBe('must be an http(s) URL');
    expect(checkUrlTemplate('https://user:pw@x/y')).toMatch(/credentials/);
    expect(checkUrlTemplate('https://x/y/{id}')).toBeUndefined();
  });
});

describe('classification', () => {
  it('follows docs/delivery.md#classification', () => {
    expect(classify({ kind: 'response', status: 204 }).kind).toBe('delivered');
    for (const status of [408, 425, 429, 500, 502, 503]) {
      const c = classify({ kind: 'response', status });
      expect(c.kind === 'failed' && c.error.retryable).toBe(true);
    }
    for (const status of [400, 401, 404, 409, 422]) {
      const c = classify({ kind: 'response', status });
      expect(c.kind === 'failed' && !c.error.retryable && c.error.code).toBe('FERRY_SINK_REJECTED');
    }
    const t = classify({ kind: 'timeout' });
    expect(t.kind === 'failed' && t.error.code).toBe('FERRY_SINK_TIMEOUT');
    const n = classify({ kind: 'network-error', message: 'ECONNRESET' });
    expect(n.kind === 'failed' && n.error.retryable).toBe(true);
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 5_000)).toBe(5000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('filters', () => {
  it('applies every predicate', () => {
    const v = { op: 'u', after: { qty: 3, tags: ['a'] } };
    expect(
      matchesFilter(v, [
        { field: 'op', in: ['c', 'u'] },
        { field: 'after.qty', gt: 2 },
      ]),
    ).toBe(true);
    expect(matchesFilter(v, [{ field: 'after.qty', lte: 2 }])).toBe(false);
    expect(
      matchesFilter(v, [
        { field: 'after.missing', exists: false },
        { field: 'op', ne: 'd' },
      ]),
    ).toBe(true);
    expect(matchesFilter(v, [{ field: 'after.tags', eq: ['a'] }])).toBe(true);
  });
});

describe('commit timestamp for freshness', () => {
  it('reads source.ts_ms, then occurredAt, then the record timestamp', async () => {
    const { commitTimestampOf } = await import('./record.ts');
    const r = { topic: 't', partition: 0, offset: 0n, key: null, value: null, headers: [], timestamp: 42 };
    expect(commitTimestampOf({ source: { ts_ms: 1000 } }, r)).toBe(1000);
    expect(commitTimestampOf({ occurredAt: '1970-01-01T00:00:02.000Z' }, r)).toBe(2000);
    expect(commitTimestampOf({ occurredAt: 'nope' }, r)).toBe(42);
  });
});
