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

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEXT = 'whsec_dGhlIG90aGVyIHNlY3JldCwgMzIgYnl0ZXMgbG9uZyE=';
const ENV = { FERRY_PUSH_SIGNING_SECRET: SECRET, NEXT_SECRET: NEXT, NOT_BASE64: 'whsec_not base64!' };
const TOKEN = 'a-push-token-0123456789';

describe('push config', () => {
  it('has limits by default: 4 MiB bodies, 1000 records, 50 pushes a second per token, 5 min signature tolerance', () => {
    const r = parseConfig(doc(`{ token: ${TOKEN}, signingSecret: "\${FERRY_PUSH_SIGNING_SECRET}" }`), ENV);
    expect(r.ok && r.config.push).toEqual({
      token: TOKEN,
      timeoutMs: 30_000,
      maxBodyBytes: 4 * 1024 * 1024,
      maxRecords: 1000,
      requestsPerSecond: 50,
      signingSecrets: [SECRET],
      signatureToleranceSeconds: 300,
    });
  });

  it('takes other limits, and refuses limits that are not positive without echoing the token', () => {
    const ok = parseConfig(
      doc(`{ token: ${TOKEN}, unsigned: true, maxBodyBytes: 65536, maxRecords: 10, requestsPerSecond: 0.5 }`),
      {},
    );
    expect(ok.ok && ok.config.push).toMatchObject({
      maxBodyBytes: 65536,
      maxRecords: 10,
      requestsPerSecond: 0.5,
      signingSecrets: [],
    });
    const bad = parseConfig(
      doc(`{ token: ${TOKEN}, unsigned: true, maxBodyBytes: 0, maxRecords: 1.5, requestsPerSecond: -1 }`),
      {},
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.some((e) => e.startsWith('push.maxBodyBytes'))).toBe(true);
    expect(bad.errors.some((e) => e.startsWith('push.maxRecords'))).toBe(true);
    expect(bad.errors.some((e) => e.startsWith('push.requestsPerSecond'))).toBe(true);
    expect(bad.errors.join('\n')).not.toContain(TOKEN);
  });

  it('requires a signing secret unless unsigned pushes are chosen explicitly', () => {
    const r = parseConfig(doc(`{ token: ${TOKEN} }`), {});
    expect(r.ok).toBe(false);
    expect(r.ok || r.errors.join('\n')).toMatch(/push.signingSecret: required .*push.unsigned: true/);
    const both = parseConfig(
      doc(`{ token: ${TOKEN}, unsigned: true, signingSecret: "\${FERRY_PUSH_SIGNING_SECRET}" }`),
      ENV,
    );
    expect(both.ok || both.errors).toEqual([
      'push.unsigned: cannot be true with a signingSecret (pushes are then always signed)',
    ]);
  });

  it('takes the secret only from the environment, checks its form without echoing it, and takes several to rotate', () => {
    const literal = parseConfig(doc(`{ token: ${TOKEN}, signingSecret: ${SECRET} }`), {});
    expect(literal.ok || literal.errors).toEqual([
      `push.signingSecret: must come from the environment, as \${VAR} (or a list of them)`,
    ]);
    const broken = parseConfig(doc(`{ token: ${TOKEN}, signingSecret: "\${NOT_BASE64}" }`), ENV);
    expect(broken.ok).toBe(false);
    expect(broken.ok || broken.errors.join('\n')).toMatch(
      /must be whsec_ followed by a non-empty base64 key/,
    );
    expect(broken.ok || broken.errors.join('\n')).not.toContain('not base64');
    const list = parseConfig(
      doc(
        `{ token: ${TOKEN}, signingSecret: ["\${FERRY_PUSH_SIGNING_SECRET}", "\${NEXT_SECRET}"], signatureTolerance: 30s }`,
      ),
      ENV,
    );
    expect(list.ok && list.config.push).toMatchObject({
      signingSecrets: [SECRET, NEXT],
      signatureToleranceSeconds: 30,
    });
    const spaced = parseConfig(
      doc(`{ token: ${TOKEN}, signingSecret: "\${FERRY_PUSH_SIGNING_SECRET} \${NEXT_SECRET}" }`),
      ENV,
    );
    expect(spaced.ok && spaced.config.push?.signingSecrets).toEqual([SECRET, NEXT]);
  });
});
