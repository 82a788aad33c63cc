// Signing and verifying against the Standard Webhooks reference library's test cases
// (standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts at 10d3e46d): the same
// secret, message id, payload, published signature, 5-minute tolerance and multi-signature header.
import { describe, expect, it } from 'vitest';
import { createWebhookSigner, createWebhookVerifier, splitWebhookSecrets } from './webhook-signing.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER = 'whsec_dGhlIG90aGVyIHNlY3JldCwgMzIgYnl0ZXMgbG9uZyE=';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const PAYLOAD = '{"test": 2432232314}';
const VECTOR = { timestamp: 1614265330, signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' };
const AT_VECTOR = VECTOR.timestamp * 1000;

const headersOf = (h: Record<string, string>) => new Headers(h);

describe('Standard Webhooks signing', () => {
  it('matches the published signature, with or without the whsec_ prefix', async () => {
    for (const secret of [SECRET, SECRET.slice('whsec_'.length)]) {
      const headers = await createWebhookSigner(secret).sign(ID, VECTOR.timestamp, PAYLOAD);
      expect(headers).toEqual({
        'webhook-id': ID,
        'webhook-timestamp': String(VECTOR.timestamp),
        'webhook-signature': VECTOR.signature,
      });
    }
  });

  it('signs with every secret while one is rotated: one v1 signature each, space-separated', async () => {
    const headers = await createWebhookSigner([SECRET, OTHER]).sign(ID, VECTOR.timestamp, PAYLOAD);
    const parts = headers['webhook-signature']?.split(' ') ?? [];
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(VECTOR.signature);
    expect(parts[1]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(splitWebhookSecrets(`${SECRET}  ${OTHER}`)).toEqual([SECRET, OTHER]);
  });

  it('refuses a secret that is not base64, or none, when it is made', () => {
    expect(() => createWebhookSigner('whsec_not-base64!')).toThrow(/whsec_ followed by/);
    expect(() => createWebhookVerifier('whsec_')).toThrow(/whsec_ followed by/);
    expect(() => createWebhookSigner('  ')).toThrow(/no webhook secret/);
  });
});

describe('Standard Webhooks verifying', () => {
  const verifier = createWebhookVerifier(SECRET);
  const valid = {
    'webhook-id': ID,
    'webhook-timestamp': String(VECTOR.timestamp),
    'webhook-signature': VECTOR.signature,
  };

  it('accepts the published signature (bytes or text body), with or without the prefix', async () => {
    expect(await verifier.verify(headersOf(valid), PAYLOAD, AT_VECTOR)).toEqual({
      ok: true,
      id: ID,
      timestampSeconds: VECTOR.timestamp,
    });
    const bare = createWebhookVerifier(SECRET.slice('whsec_'.length));
    expect((await bare.verify(headersOf(valid), new TextEncoder().encode(PAYLOAD), AT_VECTOR)).ok).toBe(true);
  });

  it('names each missing header', async () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const { [name]: _gone, ...rest } = valid as Record<string, string>;
      const r = await verifier.verify(headersOf(rest), PAYLOAD, AT_VECTOR);
      expect(r).toEqual({ ok: false, code: 'FERRY_SIGNATURE_MISSING', message: `missing ${name}` });
    }
  });

  it('refuses a timestamp that is not a number, or is outside the tolerance either way', async () => {
    const at = (ts: string, now = AT_VECTOR) =>
      verifier.verify(headersOf({ ...valid, 'webhook-timestamp': ts }), PAYLOAD, now);
    expect(await at('hello')).toMatchObject({ ok: false, code: 'FERRY_SIGNATURE_TIMESTAMP' });
    expect(await at('-5')).toMatchObject({ ok: false, code: 'FERRY_SIGNATURE_TIMESTAMP' });
    // The reference library's old and new timestamp cases: 5 minutes and a second either side.
    const old = await verifier.verify(headersOf(valid), PAYLOAD, AT_VECTOR + 301_000);
    expect(old).toMatchObject({ ok: false, code: 'FERRY_SIGNATURE_TIMESTAMP' });
    expect(old.ok || old.message).toMatch(/301 s old/);
    const early = await verifier.verify(headersOf(valid), PAYLOAD, AT_VECTOR - 301_000);
    expect(early.ok || early.message).toMatch(/301 s in the future/);
    // At the edge of the window it still holds.
    expect((await verifier.verify(headersOf(valid), PAYLOAD, AT_VECTOR + 300_000)).ok).toBe(true);
    const strict = createWebhookVerifier(SECRET, { toleranceSeconds: 10 });
    expect((await strict.verify(headersOf(valid), PAYLOAD, AT_VECTOR + 11_000)).ok).toBe(false);
  });

  it('refuses invalid, partial, other-version and other-secret signatures, and a tampered body or id', async () => {
    const bad = async (signature: string, body = PAYLOAD, id = ID) =>
      verifier.verify(
        headersOf({ ...valid, 'webhook-id': id, 'webhook-signature': signature }),
        body,
        AT_VECTOR,
      );
    for (const signature of [
      'v1,dawfeoifkpqwoekfpqoekf',
      VECTOR.signature.slice(0, 8),
      'v1,',
      'v1',
      VECTOR.signature.replace('v1,', 'v2,'),
      `v1,${VECTOR.signature.slice(3, -2)}A=`,
    ]) {
      expect(await bad(signature)).toMatchObject({ ok: false, code: 'FERRY_SIGNATURE_INVALID' });
    }
    expect(await bad(VECTOR.signature, '{"test": 2432232315}')).toMatchObject({ ok: false });
    expect(await bad(VECTOR.signature, `${PAYLOAD} `)).toMatchObject({ ok: false });
    expect(await bad(VECTOR.signature, PAYLOAD, `${ID}x`)).toMatchObject({ ok: false });
    const other = await createWebhookVerifier(OTHER).verify(headersOf(valid), PAYLOAD, AT_VECTOR);
    expect(other).toMatchObject({ ok: false, code: 'FERRY_SIGNATURE_INVALID' });
    expect(await bad('x'.repeat(5000))).toMatchObject({ ok: false, message: 'signature headers too long' });
  });

  it('accepts a multi-signature header when any v1 signature matches (the reference case)', async () => {
    const sigs = [
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      VECTOR.signature,
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
    ];
    const r = await verifier.verify(
      headersOf({ ...valid, 'webhook-signature': sigs.join(' ') }),
      PAYLOAD,
      AT_VECTOR,
    );
    expect(r.ok).toBe(true);
  });

  it('rotates: a receiver with old and new secrets accepts either; a sender with both reaches either', async () => {
    const both = createWebhookVerifier(`${OTHER} ${SECRET}`);
    expect((await both.verify(headersOf(valid), PAYLOAD, AT_VECTOR)).ok).toBe(true);
    const signed = await createWebhookSigner([OTHER, SECRET]).sign(ID, VECTOR.timestamp, PAYLOAD);
    expect((await verifier.verify(headersOf(signed), PAYLOAD, AT_VECTOR)).ok).toBe(true);
    expect((await createWebhookVerifier(OTHER).verify(headersOf(signed), PAYLOAD, AT_VECTOR)).ok).toBe(true);
  });
});
