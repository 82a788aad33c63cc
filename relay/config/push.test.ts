import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.ts';

const doc = (push: string) => `
source: push
push: ${push}
routes:
  - topics: orders
    sinks:
      - id: api
        url: http://127.0.0.1:4010/orders
`;

describe('push config', () => {
  it('has limits by default: 4 MiB bodies, 1000 records, 50 pushes a second per token', () => {
    const r = parseConfig(doc('{ token: a-push-token-0123456789 }'), {});
    expect(r.ok && r.config.push).toEqual({
      token: 'a-push-token-0123456789',
      timeoutMs: 30_000,
      maxBodyBytes: 4 * 1024 * 1024,
      maxRecords: 1000,
      requestsPerSecond: 50,
    });
  });

  it('takes other limits, and refuses limits that are not positive without echoing the token', () => {
    const ok = parseConfig(
      doc('{ token: a-push-token-0123456789, maxBodyBytes: 65536, maxRecords: 10, requestsPerSecond: 0.5 }'),
      {},
    );
    expect(ok.ok && ok.config.push).toMatchObject({
      maxBodyBytes: 65536,
      maxRecords: 10,
      requestsPerSecond: 0.5,
    });
    const bad = parseConfig(
      doc('{ token: a-push-token-0123456789, maxBodyBytes: 0, maxRecords: 1.5, requestsPerSecond: -1 }'),
      {},
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.some((e) => e.startsWith('push.maxBodyBytes'))).toBe(true);
    expect(bad.errors.some((e) => e.startsWith('push.maxRecords'))).toBe(true);
    expect(bad.errors.some((e) => e.startsWith('push.requestsPerSecond'))).toBe(true);
    expect(bad.errors.join('\n')).not.toContain('a-push-token-0123456789');
  });
});
