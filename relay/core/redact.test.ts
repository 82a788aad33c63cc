import { describe, expect, it } from 'vitest';
import { eventIdProblem, MAX_EVENT_ID_CHARS } from './identifiers.ts';
import { bound, createRedactor, fingerprint, REDACTED, redactPatterns } from './redact.ts';

describe('createRedactor', () => {
  const token = 'tok-3f9a8c7e1d2b4a6f';
  const redact = createRedactor({ secrets: [token, 'p@ss/word:1', undefined, 'ab'] });

  it('blanks every configured secret, raw, URL-encoded and JSON-escaped', () => {
    expect(redact(`got ${token} back`)).toBe(`got ${REDACTED} back`);
    expect(redact(`u=${encodeURIComponent('p@ss/word:1')}&`)).not.toContain('word');
    expect(redact(JSON.stringify({ echoed: 'p@ss/word:1' }))).not.toContain('p@ss');
    // Secrets too short to search for are ignored, not matched everywhere.
    expect(redact('about')).toBe('about');
  });

  it('blanks the prefix of a secret cut off at the end of a truncated body', () => {
    const cut = `{"h":"x-token ${token.slice(0, 10)}`;
    const out = redact(cut);
    expect(out).not.toContain(token.slice(0, 10));
    expect(out.endsWith(REDACTED)).toBe(true);
  });

  it('blanks authorization-like headers, credentials and token parameters it was not told about', () => {
    const echoed = JSON.stringify({
      headers: { authorization: 'Bearer abc.def.ghi', 'x-api-key': 'k-123456', cookie: 'sid=s3cr3t' },
      client_secret: 'cs-999999',
      ok: 'visible',
    });
    const out = redactPatterns(echoed);
    for (const s of ['abc.def.ghi', 'k-123456', 's3cr3t', 'cs-999999']) expect(out).not.toContain(s);
    expect(out).toContain('visible');
    expect(redactPatterns('Authorization: Basic dXNlcjpwYXNz\nnext')).toBe(
      `Authorization: ${REDACTED}\nnext`.replace('\n', ' '),
    );
    expect(redactPatterns('failed: Bearer eyJhbGciOi.x.y at 3')).toBe(`failed: Bearer ${REDACTED} at 3`);
    expect(redactPatterns('GET /x?access_token=zzz999&page=2')).toBe(
      `GET /x?access_token=${REDACTED}&page=2`,
    );
    expect(redactPatterns('redis://user:hunter22@127.0.0.1:6379')).toBe(
      `redis://user:${REDACTED}@127.0.0.1:6379`,
    );
    expect(redactPatterns('key whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe(`key whsec_${REDACTED}`);
  });

  it('replaces control characters and bounds the length with the full length and a fingerprint', () => {
    expect(redactPatterns('a\r\nb\u0000c\td')).toBe('a  b c\td');
    const long = 'x'.repeat(100_000);
    const out = redactPatterns(long, 100);
    expect(out.length).toBeLessThan(160);
    expect(out).toContain('[100000 chars, fnv1a ');
    expect(out.startsWith('x'.repeat(100))).toBe(true);
    expect(bound('short', 100)).toBe('short');
    expect(fingerprint('a')).toMatch(/^[0-9a-f]{8}$/);
    expect(fingerprint('a')).not.toBe(fingerprint('b'));
  });
});

describe('eventIdProblem', () => {
  it('accepts what every HTTP client sends as a header value', () => {
    expect(eventIdProblem('0/16B3748-public.loads-42')).toBeUndefined();
    expect(eventIdProblem('clean.loads-0-17')).toBeUndefined();
    expect(eventIdProblem('caf\u00e9 1')).toBeUndefined();
    expect(eventIdProblem('x'.repeat(MAX_EVENT_ID_CHARS))).toBeUndefined();
  });

  it('refuses control characters, code points above U+00FF, edge whitespace and overlong ids, without echoing them', () => {
    expect(eventIdProblem('a\r\nx-injected: 1')).toContain('U+000D');
    expect(eventIdProblem('a\u0000b')).toContain('U+0000');
    expect(eventIdProblem('a\u007fb')).toContain('U+007F');
    expect(eventIdProblem('\u043a\u043b\u044e\u0447')).toContain('U+043A');
    expect(eventIdProblem(' padded')).toContain('whitespace');
    expect(eventIdProblem('')).toContain('empty');
    const long = eventIdProblem('secret'.repeat(20_000));
    expect(long).toContain('120000 characters');
    expect(long).not.toContain('secret');
  });
});
