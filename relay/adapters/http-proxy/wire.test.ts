import { describe, expect, it } from 'vitest';
import { eventIdHeaders } from './event-id.ts';
import { classifyProxyError, produceRefused } from './proxy-errors.ts';
import { decodeCommitted, decodeRecords, encodeCommit, fromBase64, toBase64 } from './wire.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('http proxy wire shapes', () => {
  it('decodes a binary fetch answer: base64 key and value, null for absent ones, offsets as bigint', () => {
    const r = decodeRecords([
      {
        topic: 't',
        key: toBase64(enc.encode('k')),
        value: toBase64(enc.encode('{"a":1}')),
        partition: 2,
        offset: 7,
      },
      { topic: 't', key: null, value: null, partition: 0, offset: 0 },
    ]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.records[0]).toMatchObject({ topic: 't', partition: 2, offset: 7n });
    expect(dec.decode(r.records[0]?.value as Uint8Array)).toBe('{"a":1}');
    expect(r.records[1]).toMatchObject({ key: null, value: null, offset: 0n });
  });

  it('refuses what is not the documented shape, naming where', () => {
    expect(decodeRecords({ records: [] })).toEqual({ ok: false, problem: 'records: expected a JSON array' });
    expect(decodeRecords([{ topic: 't', partition: 0, offset: 2 ** 53 }])).toMatchObject({
      ok: false,
      problem: 'records[0].offset: expected an offset below 2^53',
    });
    expect(decodeRecords([{ topic: 't', partition: 0, offset: 1, value: 'not base64!' }])).toMatchObject({
      ok: false,
      problem: 'records[0].value: not base64',
    });
    expect(decodeRecords([{ topic: 1, partition: 0, offset: 1 }])).toMatchObject({ ok: false });
  });

  it('round-trips bytes through base64, large values included', () => {
    const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) % 256);
    expect(fromBase64(toBase64(bytes))).toEqual(bytes);
  });

  it('commits the last consumed offset and reads commits back as next offsets (-1: none)', () => {
    expect(encodeCommit([{ topic: 't', partition: 1, next: 10n }])).toEqual({
      partitions: [{ topic: 't', partition: 1, offset: 9 }],
    });
    expect(
      decodeCommitted({
        offsets: [
          { topic: 't', partition: 1, offset: 9, metadata: '' },
          { topic: 't', partition: 2, offset: -1, metadata: '' },
        ],
      }),
    ).toEqual({
      ok: true,
      offsets: [
        { topic: 't', partition: 1, next: 10n },
        { topic: 't', partition: 2, next: undefined },
      ],
    });
  });
});

describe('http proxy error classification', () => {
  const cases: Array<[number, number | undefined, string, boolean]> = [
    [401, 40101, 'FERRY_PROXY_AUTH', false],
    [403, undefined, 'FERRY_PROXY_AUTH', false],
    [404, 40403, 'FERRY_PROXY_INSTANCE_GONE', true],
    [404, 40401, 'FERRY_PROXY_REJECTED', false],
    [409, 40902, 'FERRY_PROXY_INSTANCE_EXISTS', true],
    [400, 40002, 'FERRY_PROXY_REJECTED', false],
    [406, 406, 'FERRY_PROXY_REJECTED', false],
    [415, 415, 'FERRY_PROXY_REJECTED', false],
    [422, 422, 'FERRY_PROXY_REJECTED', false],
    [408, 40801, 'FERRY_PROXY_UNAVAILABLE', true],
    [429, undefined, 'FERRY_PROXY_UNAVAILABLE', true],
    [500, 50003, 'FERRY_PROXY_UNAVAILABLE', true],
    [502, undefined, 'FERRY_PROXY_UNAVAILABLE', true],
    [503, 50302, 'FERRY_PROXY_UNAVAILABLE', true],
  ];
  it.each(cases)('HTTP %i (error_code %s) is %s, retryable %s', (status, code, expected, retryable) => {
    const e = classifyProxyError(
      'fetch records for i',
      status,
      code === undefined ? undefined : { error_code: code, message: 'm' },
    );
    expect(e.code).toBe(expected);
    expect(e.retryable).toBe(retryable);
    expect(e.status).toBe(status);
    expect(e.message).toContain(`fetch records for i: HTTP ${status}`);
  });

  it('keeps the proxy message short and on one line, and honours Retry-After', () => {
    const e = classifyProxyError('op', 503, { error_code: 50302, message: `a\r\nb${'x'.repeat(500)}` }, '2');
    expect(e.message).not.toMatch(/[\r\n]/);
    expect(e.message.length).toBeLessThan(300);
    expect(e.retryAfterMs).toBe(2000);
  });

  it('classifies a refused produce partition by its Kafka error code', () => {
    expect(produceRefused('p', 10)).toMatchObject({ code: 'FERRY_PROXY_REJECTED', retryable: false });
    expect(produceRefused('p', 29)).toMatchObject({ code: 'FERRY_PROXY_AUTH', retryable: false });
    expect(produceRefused('p', 6)).toMatchObject({ code: 'FERRY_PROXY_UNAVAILABLE', retryable: true });
  });
});

describe('event id from the value', () => {
  it('puts the value field back as the ferry-event-id header', () => {
    const [h] = eventIdHeaders(enc.encode('{"eventId":"pg:shipments:1/2:3","x":1}'), 'eventId');
    expect(h?.key).toBe('ferry-event-id');
    expect(dec.decode(h?.value as Uint8Array)).toBe('pg:shipments:1/2:3');
  });

  it('adds nothing for no field, a non-string id, a nested one, bad JSON, or when switched off', () => {
    for (const value of ['{"x":1}', '{"eventId":7}', '{"a":{"eventId":"n"}}', '{not json', '[1]', '""']) {
      expect(eventIdHeaders(enc.encode(value), 'eventId')).toEqual([]);
    }
    expect(eventIdHeaders(enc.encode('{"eventId":"e"}'), '')).toEqual([]);
    expect(eventIdHeaders(null, 'eventId')).toEqual([]);
  });
});
