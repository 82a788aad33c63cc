// The local stack's secured-listener material (deploy/local/kafka-tls.ts) in a throwaway state dir:
// made from scratch, the broker certificate valid for 127.0.0.1 and signed by the CA, the client
// certificate usable for mTLS, the expired one expired; a second run changes nothing; a state dir
// that lacks a file (an older stack) gets only that file, and the CA clients trust stays.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

process.env.FERRY_STATE_DIR = mkdtempSync(join(tmpdir(), 'ferry-state-'));
const { KAFKA_TLS } = await import('../../deploy/local/config.ts');
const { ensureKafkaTls } = await import('../../deploy/local/kafka-tls.ts');

afterAll(() => rmSync(process.env.FERRY_STATE_DIR as string, { recursive: true, force: true }));

const cert = (path: string) => new X509Certificate(readFileSync(path));

describe('local stack: Kafka TLS material', () => {
  it('is made once, is what the listeners need, and fills in only what is missing', () => {
    const said: string[] = [];
    ensureKafkaTls((l) => said.push(l));
    expect(said.join('\n')).toMatch(/made CA, broker, client, expired client, SCRAM password/);

    const ca = cert(KAFKA_TLS.ca);
    const broker = cert(join(KAFKA_TLS.dir, 'broker.pem'));
    expect(broker.checkIssued(ca) && broker.verify(ca.publicKey)).toBe(true);
    expect(broker.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(readFileSync(KAFKA_TLS.brokerKeystore, 'utf8')).toMatch(
      /BEGIN PRIVATE KEY[\s\S]*BEGIN CERTIFICATE/,
    );
    const client = cert(KAFKA_TLS.clientCert);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(Date.parse(client.validTo)).toBeGreaterThan(Date.now());
    const expired = cert(KAFKA_TLS.expiredClientCert);
    expect(expired.verify(ca.publicKey)).toBe(true);
    expect(Date.parse(expired.validTo)).toBeLessThan(Date.now());
    const user = JSON.parse(readFileSync(KAFKA_TLS.credentials, 'utf8')) as {
      username: string;
      password: string;
    };
    expect(user.username).toBe('ferry');
    expect(user.password.length).toBeGreaterThanOrEqual(20);
    for (const secret of [KAFKA_TLS.credentials, join(KAFKA_TLS.dir, 'ca.key'), KAFKA_TLS.clientKey])
      expect(statSync(secret).mode & 0o077).toBe(0);

    const caBefore = readFileSync(KAFKA_TLS.ca, 'utf8');
    said.length = 0;
    ensureKafkaTls((l) => said.push(l));
    expect(said).toEqual([]);

    rmSync(KAFKA_TLS.expiredClientCert);
    rmSync(KAFKA_TLS.credentials);
    ensureKafkaTls((l) => said.push(l));
    expect(said.join('\n')).toMatch(/made expired client, SCRAM password in/);
    expect(readFileSync(KAFKA_TLS.ca, 'utf8')).toBe(caBefore);
    expect(cert(KAFKA_TLS.expiredClientCert).verify(ca.publicKey)).toBe(true);

    // A CA that is gone takes its certificates with it: all are signed by the new one.
    rmSync(join(KAFKA_TLS.dir, 'ca.key'));
    ensureKafkaTls(() => {});
    const newCa = cert(KAFKA_TLS.ca);
    expect(readFileSync(KAFKA_TLS.ca, 'utf8')).not.toBe(caBefore);
    for (const path of [join(KAFKA_TLS.dir, 'broker.pem'), KAFKA_TLS.clientCert, KAFKA_TLS.expiredClientCert])
      expect(cert(path).verify(newCa.publicKey)).toBe(true);
    expect(readFileSync(KAFKA_TLS.brokerKeystore, 'utf8')).toContain(
      readFileSync(join(KAFKA_TLS.dir, 'broker.pem'), 'utf8'),
    );
  });
});
