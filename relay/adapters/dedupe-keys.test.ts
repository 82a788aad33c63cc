import { expect, it } from 'vitest';
import { describeFailure, storeUnavailable } from './dedupe-keys.ts';

it('describes failures without their messages, with a label when the message is a known one', () => {
  const upstash = new Error('Unauthorized, command was: [["set","ferry:dedupe:s:customer-42","pending:a"]]');
  upstash.name = 'UpstashError';
  expect(describeFailure(upstash)).toBe('UpstashError not authorized');
  expect(describeFailure(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(
    'Error not connected',
  );
  expect(describeFailure(Object.assign(new Error('x customer-42'), { code: 'ECONNRESET' }))).toBe(
    'Error ECONNRESET',
  );
  expect(describeFailure('boom')).toBe('error');
  const e = storeUnavailable('upstash', describeFailure(upstash));
  expect(e.message).not.toContain('customer-42');
  expect(e).toMatchObject({ code: 'FERRY_DEDUPE_UNAVAILABLE', retryable: true });
});
