// The local broker's secured listeners' material, made with openssl into the state dir once and kept:
// a CA, the broker's certificate (127.0.0.1 and localhost), a client certificate for mTLS, and an
// expired client certificate (for the tests of what an expired certificate looks like), plus the SCRAM
// user's generated password. Each file is made only when missing, so `stack up` on an existing state
// dir adds what an older stack lacks and never replaces what clients already trust.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KAFKA_TLS } from './config.ts';
import type { Say } from './install.ts';

function openssl(args: string[]): void {
  const res = spawnSync('openssl', args, { cwd: KAFKA_TLS.dir, encoding: 'utf8' });
  if (res.status !== 0)
    throw new Error(`openssl ${args[0]} failed: ${(res.stderr || res.stdout || '').trim().split('\n')[0]}`);
}

function signed(name: string, subject: string, extensions: string, days: number): void {
  openssl([
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  writeFileSync(join(KAFKA_TLS.dir, `${name}.ext`), extensions);
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-sha256',
    '-days',
    String(days),
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ]);
}

/** Signed by the CA but valid only on 1-2 January 2020 (`openssl ca` can backdate; `x509` cannot). */
function expiredClient(): void {
  const db = join(KAFKA_TLS.dir, 'ca-db');
  mkdirSync(db, { recursive: true });
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), `${randomBytes(8).toString('hex')}\n`);
  writeFileSync(
    join(KAFKA_TLS.dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = ferry',
      '[ ferry ]',
      'database = ca-db/index.txt',
      'serial = ca-db/serial',
      'new_certs_dir = ca-db',
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      '[ any ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  openssl([
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'client-expired.key',
    '-out',
    'client-expired.csr',
    '-subj',
    '/CN=ferry-client-expired',
  ]);
  openssl([
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-cert',
    'ca.pem',
    '-keyfile',
    'ca.key',
    '-in',
    'client-expired.csr',
    '-out',
    'client-expired.pem',
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-notext',
  ]);
}

const has = (file: string): boolean => existsSync(join(KAFKA_TLS.dir, file));

/** Makes whatever of the CA, broker, client and expired client material is missing. */
export function ensureKafkaTls(say: Say): void {
  mkdirSync(KAFKA_TLS.dir, { recursive: true, mode: 0o700 });
  const made: string[] = [];
  if (!has('ca.pem') || !has('ca.key')) {
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '3650',
      '-subj',
      '/CN=Ferry local stack CA',
    ]);
    made.push('CA');
    // Certificates signed by a CA that is gone would no longer verify: make them again.
    for (const file of ['broker.pem', 'broker-keystore.pem', 'client.pem', 'client-expired.pem'])
      rmSync(join(KAFKA_TLS.dir, file), { force: true });
  }
  if (!has('broker.pem') || !has('broker.key')) {
    signed(
      'broker',
      '/CN=localhost',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
      825,
    );
    made.push('broker');
  }
  // Kafka's PEM keystore: the key and its certificate in one file (made again with the certificate).
  if (!has('broker-keystore.pem') || made.includes('broker')) {
    const dir = KAFKA_TLS.dir;
    writeFileSync(
      join(dir, 'broker-keystore.pem'),
      readFileSync(join(dir, 'broker.key'), 'utf8') + readFileSync(join(dir, 'broker.pem'), 'utf8'),
      { mode: 0o600 },
    );
  }
  if (!has('client.pem') || !has('client.key')) {
    signed('client', '/CN=ferry-client', 'extendedKeyUsage=clientAuth\n', 825);
    made.push('client');
  }
  if (!has('client-expired.pem') || !has('client-expired.key')) {
    expiredClient();
    made.push('expired client');
  }
  if (!existsSync(KAFKA_TLS.credentials)) {
    const credentials = { username: 'ferry', password: randomBytes(18).toString('base64url') };
    writeFileSync(KAFKA_TLS.credentials, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
    made.push('SCRAM password');
  }
  for (const file of ['ca.key', 'broker.key', 'client.key', 'client-expired.key'])
    chmodSync(join(KAFKA_TLS.dir, file), 0o600);
  if (made.length > 0) say(`kafka: made ${made.join(', ')} in ${KAFKA_TLS.dir}`);
}
