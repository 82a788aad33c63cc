import { describe, expect, it } from 'vitest';
import { classifyPushAnswer } from './push-answer.ts';
import { encodePushBatch, encodePushRecord, joinPushBatch } from './push-batch.ts';

const enc = new TextEncoder();

describe('the push endpoint answers, as the forwarder reads them', () => {
  it('commits on 200 committed, pushes again on 202, retries on 429, 408, 425 and 5xx with Retry-After', () => {
    expect(classifyPushAnswer(200, '{"status":"committed","accepted":1,"alreadyDone":2}', undefined)).toEqual(
      {
        kind: 'committed',
        alreadyDone: 2,
      },
    );
    expect(classifyPushAnswer(202, '{"status":"timeout"}', undefined)).toEqual({ kind: 'again' });
    expect(
      classifyPushAnswer(429, '{"error":"too many pushes","code":"FERRY_PUSH_RATE_LIMITED"}', 1000),
    ).toEqual({
      kind: 'retry',
      reason: '429 too many pushes: FERRY_PUSH_RATE_LIMITED',
      retryAfterMs: 1000,
    });
    for (const status of [408, 425, 500, 502, 503, 504])
      expect(classifyPushAnswer(status, '<html>busy</html>', undefined).kind).toBe('retry');
  });

  it('stops with a clear reason on 409, 401, 413, 400 and a 200 that is not committed', () => {
    const cases: Array<[number, string, RegExp]> = [
      [
        409,
        '{"status":"conflict","message":"orders/0: never processed here"}',
        /conflict .*never processed here.*group reset/,
      ],
      [401, '{"error":"push signature refused: no v1 signature matches"}', /FERRY_PUSH_SIGNING_SECRET/],
      [413, '{"error":"batch of 900 records, more than 500"}', /lower --batch-size or --max-bytes/],
      [400, '{"error":"invalid batch","issues":["records.0.offset: Invalid"]}', /records\.0\.offset.*a bug/],
      [200, '<html>hello</html>', /not a Ferry push endpoint/],
      [404, 'not found', /404: not found/],
    ];
    for (const [status, body, message] of cases) {
      const answer = classifyPushAnswer(status, body, undefined);
      expect(answer.kind).toBe('fatal');
      if (answer.kind !== 'fatal') continue;
      expect(answer.error).toMatchObject({ code: 'FERRY_PUSH_REFUSED', status, retryable: false });
      expect(answer.error.message).toMatch(message);
    }
    const long = classifyPushAnswer(400, 'x'.repeat(10_000), undefined);
    expect(long.kind === 'fatal' && long.error.message.length).toBeLessThan(500);
  });
});

describe('a push batch body', () => {
  it('carries offsets as decimal strings, text keys, values and headers, and one id per batch', () => {
    const batch = encodePushBatch([
      {
        topic: 'orders',
        partition: 2,
        offset: 9_007_199_254_740_993n,
        key: enc.encode('k1'),
        value: enc.encode('{"id":1}'),
        headers: [{ key: 'ferry-event-id', value: enc.encode('evt-1') }],
        timestamp: 1000,
      },
      {
        topic: 'orders',
        partition: 2,
        offset: 9_007_199_254_740_995n,
        key: null,
        value: null,
        headers: [],
        timestamp: 2000,
      },
    ]);
    expect(batch).toMatchObject({
      topic: 'orders',
      partition: 2,
      records: 2,
      id: 'orders/2/9007199254740993-9007199254740995',
    });
    expect(JSON.parse(new TextDecoder().decode(batch.body))).toEqual({
      records: [
        {
          topic: 'orders',
          partition: 2,
          offset: '9007199254740993',
          key: 'k1',
          valueText: '{"id":1}',
          headers: { 'ferry-event-id': 'evt-1' },
          timestamp: 1000,
        },
        { topic: 'orders', partition: 2, offset: '9007199254740995', timestamp: 2000 },
      ],
    });
    expect(() => encodePushBatch([])).toThrow(RangeError);
  });

  it('counts each record in UTF-8 bytes as it will be sent, multi-byte text and escapes included', () => {
    const texts = [
      'plain',
      'café ünïcödé',
      '日本語のテキスト',
      'emoji 🚚📦 and "quotes" \\ \n',
      '\u0000 control',
    ];
    const records = texts.map((t, i) => ({
      topic: 't',
      partition: 0,
      offset: BigInt(i),
      key: enc.encode(t),
      value: enc.encode(JSON.stringify({ t })),
      headers: [{ key: 'h', value: enc.encode(t) }],
      timestamp: 0,
    }));
    const encoded = records.map(encodePushRecord);
    for (const e of encoded) expect(e.bytes).toBe(enc.encode(e.json).length + 1);
    const body = joinPushBatch(encoded).body;
    // The body is the records' bytes plus the wrapper, less the last comma.
    expect(body.length).toBe(encoded.reduce((n, e) => n + e.bytes, 0) - 1 + '{"records":[]}'.length);
    expect(body).toEqual(encodePushBatch(records).body);
  });
});
