// The Kafka connection module without a broker: options built from files, settings from flags and
// the environment, and the one-line reasons for the failures a client reports.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  connectionFailure,
  connectionFromSettings,
  connectionSecrets,
  KafkaConnectionError,
  kafkaClientOptions,
} from './connection.ts';

let dir = '';
const openssl = (args: string[]) => {
  const res = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`openssl ${args[0]}: ${res.stderr}`);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-conn-'));
  const req = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=t'];
  openssl([...req, '-keyout', 'ok.key', '-out', 'ok.pem', '-days', '2']);
  writeFileSync(join(dir, 'garbage.pem'), 'not a certificate');
});

describe('kafkaClientOptions', () => {
  it('reads the PEM files and maps SASL and the server name', () => {
    const o = kafkaClientOptions({
      tls: { ca: join(dir, 'ok.pem'), cert: join(dir, 'ok.pem'), key: join(dir, 'ok.key'), serverName: 'k' },
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' },
    });
    expect(String(o.tls?.ca)).toContain('BEGIN CERTIFICATE');
    expect(String(o.tls?.key)).toContain('PRIVATE KEY');
    expect(o.tlsServerName).toBe('k');
    expect(o.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' });
    expect(kafkaClientOptions({})).toEqual({ connectTimeout: 10_000 });
    expect(kafkaClientOptions({ sasl: { mechanism: 'OAUTHBEARER', token: 't' } }).sasl).toEqual({
      mechanism: 'OAUTHBEARER',
      token: 't',
    });
  });

  it('refuses a missing file, a file that is not a certificate, and half of mTLS', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => kafkaClientOptions({ tls: { ca: missing } })).toThrow(
      `kafka TLS CA file ${missing}: cannot read (ENOENT)`,
    );
    expect(() =>
      kafkaClientOptions({ tls: { cert: join(dir, 'garbage.pem'), key: join(dir, 'ok.key') } }),
    ).toThrow(/garbage\.pem: not a PEM certificate/);
    expect(() => kafkaClientOptions({ tls: { cert: join(dir, 'ok.pem') } })).toThrow(KafkaConnectionError);
  });
});

describe('connectionFromSettings', () => {
  it('takes flags over the environment and secrets from the environment only', () => {
    const conn = connectionFromSettings(
      { saslMechanism: 'scram-sha-256', tlsCa: '/flag/ca.pem' },
      {
        FERRY_KAFKA_TLS_CA: '/env/ca.pem',
        FERRY_KAFKA_SASL_USERNAME: 'envuser',
        FERRY_KAFKA_SASL_PASSWORD: 'envpass',
      },
    );
    expect(conn.tls?.ca).toBe('/flag/ca.pem');
    expect(conn.sasl).toEqual({
      mechanism: 'SCRAM-SHA-256',
      username: 'envuser',
      password: 'envpass',
      token: undefined,
    });
    expect(connectionSecrets(conn)).toEqual(['envpass']);
    expect(connectionFromSettings({}, {})).toEqual({ tls: undefined, sasl: undefined });
    expect(connectionFromSettings({}, { FERRY_KAFKA_TLS: 'true' }).tls).toBeDefined();
  });

  it('says which flag or variable is missing, never a value', () => {
    expect(() => connectionFromSettings({ saslMechanism: 'PLAIN', saslUsername: 'u' }, {})).toThrow(
      'FERRY_KAFKA_SASL_PASSWORD: PLAIN needs a password',
    );
    expect(() => connectionFromSettings({ saslMechanism: 'KERBEROS' }, {})).toThrow(
      /--sasl-mechanism must be one of/,
    );
    expect(() => connectionFromSettings({}, { FERRY_KAFKA_TLS: 'yes-secret' })).toThrow(
      'FERRY_KAFKA_TLS must be true or false',
    );
  });
});

describe('connectionFailure', () => {
  const tree = (leaf: Error & { code?: string }) => {
    const network = Object.assign(new Error('Connection to 10.0.0.1:9093 failed.'), {
      code: 'PLT_KFK_NETWORK',
      cause: leaf,
    });
    return Object.assign(
      new AggregateError(
        [
          Object.assign(new AggregateError([network], 'Cannot connect to any broker.'), {
            code: 'PLT_KFK_MULTIPLE',
          }),
        ],
        'metadata failed 2 times.',
      ),
      { code: 'PLT_KFK_MULTIPLE' },
    );
  };
  const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

  it('names SASL, trust and refused-certificate failures in one line', () => {
    expect(
      connectionFailure(tree(coded('SASL authentication failed.', 'PLT_KFK_AUTHENTICATION')), {
        sasl: { mechanism: 'SCRAM-SHA-512' },
      }),
    ).toBe(
      'kafka: SASL authentication to 10.0.0.1:9093 failed (SCRAM-SHA-512): wrong username or password, or the mechanism is not enabled for this user',
    );
    expect(connectionFailure(tree(coded('unable to verify', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')))).toMatch(
      /^kafka: the broker's certificate to 10\.0\.0\.1:9093 is not signed by a trusted CA/,
    );
    expect(
      connectionFailure(tree(coded('Connection closed', 'PLT_KFK_NETWORK')), {
        tls: { cert: 'c', key: 'k' },
      }),
    ).toMatch(/client certificate refused/);
    expect(connectionFailure(new Error('something else'))).toBeUndefined();
  });
});
