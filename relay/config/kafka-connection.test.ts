// The relay YAML's kafka.tls and kafka.sasl: what they resolve to, what is refused (without echoing
// a value), and that the credentials reach the redactor's list.
import { describe, expect, it } from 'vitest';
import { configSecrets } from '../secrets.ts';
import { parseConfig } from './load.ts';

const doc = (kafka: string) => `
kafka:
${kafka}
routes:
  - topics: clean.orders
    sinks:
      - id: billing
        url: http://127.0.0.1:4010/billing
`;

describe('config: kafka.tls and kafka.sasl', () => {
  it('resolves SASL over TLS with the password from the environment, and lists it as a secret', () => {
    const r = parseConfig(
      doc(`  brokers: [broker:9093]
  tls: { ca: /etc/kafka/ca.pem, serverName: kafka.internal }
  sasl: { mechanism: SCRAM-SHA-512, username: ferry, password: "\${KAFKA_PASSWORD}" }`),
      { KAFKA_PASSWORD: 'p4ss-from-env' },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.kafka.connection).toEqual({
      tls: { ca: '/etc/kafka/ca.pem', serverName: 'kafka.internal' },
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'ferry', password: 'p4ss-from-env' },
    });
    expect(configSecrets(r.config)).toContain('p4ss-from-env');
  });

  it('takes tls: true (system CAs) and mTLS files with a passphrase from the environment', () => {
    const on = parseConfig(doc('  tls: true'));
    expect(on.ok && on.config.kafka.connection).toEqual({ tls: {}, sasl: undefined });
    const mtls = parseConfig(doc(`  tls: { cert: /c.pem, key: /k.pem, keyPassphrase: "\${PASS}" }`), {
      PASS: 'key-pass-123',
    });
    expect(mtls.ok).toBe(true);
    if (mtls.ok) expect(configSecrets(mtls.config)).toContain('key-pass-123');
    const off = parseConfig(doc('  brokers: [b:9092]'));
    expect(off.ok && off.config.kafka.connection).toEqual({ tls: undefined, sasl: undefined });
  });

  it('refuses a password, token or passphrase written in the file, without echoing it', () => {
    const r = parseConfig(
      doc(`  tls: { cert: /c.pem, key: /k.pem, keyPassphrase: literal-pass }
  sasl: { mechanism: PLAIN, username: u, password: literal-secret }`),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      `kafka.sasl.password: must come from the environment, as \${VAR}`,
      `kafka.tls.keyPassphrase: must come from the environment, as \${VAR}`,
    ]);
    expect(JSON.stringify(r.errors)).not.toContain('literal-');
  });

  it('names what is missing or unknown', () => {
    const r = parseConfig(
      doc(`  tls: { cert: /c.pem }
  sasl: { mechanism: SCRAM-SHA-256 }`),
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors).toEqual([
        'kafka.tls: cert and key go together (mTLS needs both)',
        'kafka.sasl.username: SCRAM-SHA-256 needs a username',
        'kafka.sasl.password: SCRAM-SHA-256 needs a password',
      ]);
    const bad = parseConfig(doc('  sasl: { mechanism: GSSAPI, username: u }'));
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.errors).toEqual([
        'kafka.sasl.mechanism: must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER',
      ]);
    const oauth = parseConfig(doc('  sasl: { mechanism: OAUTHBEARER }'));
    expect(!oauth.ok && oauth.errors).toEqual(['kafka.sasl.token: OAUTHBEARER needs a token']);
  });
});
