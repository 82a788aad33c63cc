// The one Kafka connection config every client in Ferry takes (relay source, DLQ writer and reader,
// the portable runner, the CLI's admin calls, the local stack's checks): TLS (CA bundle, client
// certificate and key for mTLS, server name) and SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER), turned
// into @platformatic/kafka's connection options here and nowhere else.
//
// It lives in wasm/ because the layout lets relay/ and the CLI import wasm/ (through wasm/index.ts)
// while wasm/ never imports relay/: the only folder both the relay and the portable runner may share.
//
// Secrets (the SASL password or token, the key's passphrase) are values the caller read from the
// environment; nothing here prints them. File contents are read here, and errors name the file, never
// what is in it.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';

import {
  connectionProblems,
  type KafkaConnection,
  KafkaConnectionError,
  type KafkaSasl,
  SASL_MECHANISMS,
  type SaslMechanism,
} from './settings.ts';

export {
  connectionProblems,
  connectionSecrets,
  type KafkaConnection,
  KafkaConnectionError,
  type KafkaSasl,
  type KafkaTls,
  SASL_MECHANISMS,
  type SaslMechanism,
} from './settings.ts';

/** What @platformatic/kafka's Consumer, Producer and Admin take, spread into their options. */
export interface KafkaClientConnectionOptions {
  tls?: TlsOptions;
  tlsServerName?: string | boolean;
  sasl?: { mechanism: SaslMechanism; username?: string; password?: string; token?: string };
  connectTimeout?: number;
}

function readPem(what: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new KafkaConnectionError(`kafka TLS ${what} ${path}: cannot read (${code})`);
  }
}

/**
 * The client certificate, refused here when it is expired or not yet valid: over TLS 1.3 the broker
 * rejects it only after the handshake, by closing the connection, which says nothing about why.
 */
function checkedCertificate(path: string, pem: string, now = Date.now()): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new KafkaConnectionError(`kafka TLS certificate file ${path}: not a PEM certificate`);
  }
  if (Date.parse(cert.validTo) < now)
    throw new KafkaConnectionError(
      `kafka TLS certificate file ${path}: expired on ${new Date(cert.validTo).toISOString()}`,
    );
  if (Date.parse(cert.validFrom) > now)
    throw new KafkaConnectionError(
      `kafka TLS certificate file ${path}: not valid before ${new Date(cert.validFrom).toISOString()}`,
    );
  return pem;
}

/** Default time to open a connection: a firewall that drops packets fails within seconds, not minutes. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * @platformatic/kafka options for `conn`, reading the PEM files now (a missing file is an error at
 * start, not at the first reconnect). Throws KafkaConnectionError for settings that cannot work.
 */
export function kafkaClientOptions(
  conn: KafkaConnection = {},
  { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS }: { connectTimeoutMs?: number } = {},
): KafkaClientConnectionOptions {
  const problems = connectionProblems(conn);
  if (problems.length > 0) throw new KafkaConnectionError(problems.join('; '));
  const out: KafkaClientConnectionOptions = { connectTimeout: connectTimeoutMs };
  const { tls, sasl } = conn;
  if (tls) {
    const options: TlsOptions = {};
    if (tls.ca) options.ca = readPem('CA file', tls.ca);
    if (tls.cert) options.cert = checkedCertificate(tls.cert, readPem('certificate file', tls.cert));
    if (tls.key) options.key = readPem('key file', tls.key);
    if (tls.keyPassphrase) options.passphrase = tls.keyPassphrase;
    out.tls = options;
    // Without a name Node checks the certificate against the bootstrap host; a name given is sent as
    // SNI and checked instead.
    if (tls.serverName) out.tlsServerName = tls.serverName;
  }
  if (sasl) {
    out.sasl =
      sasl.mechanism === 'OAUTHBEARER'
        ? { mechanism: sasl.mechanism, token: sasl.token as string }
        : { mechanism: sasl.mechanism, username: sasl.username as string, password: sasl.password as string };
  }
  return out;
}

const TLS_TRUST = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

interface Node {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
  readonly cause?: unknown;
}

/** Every error in an AggregateError / cause tree, depth first. */
function* walk(error: unknown, depth = 0): Generator<Node> {
  if (depth > 8 || error === null || typeof error !== 'object') return;
  const node = error as Node;
  yield node;
  if (Array.isArray(node.errors)) for (const e of node.errors) yield* walk(e, depth + 1);
  if (node.cause !== undefined) yield* walk(node.cause, depth + 1);
}

/**
 * One line saying why a Kafka client could not connect, when the error says so: failed SASL, an
 * untrusted or mismatched broker certificate, a connection closed during TLS setup, a refused
 * connection. Undefined for anything else. Built from codes and the library's own messages, which
 * never hold a credential.
 */
export function connectionFailure(error: unknown, conn: KafkaConnection = {}): string | undefined {
  if (error instanceof KafkaConnectionError) return error.message;
  const nodes = [...walk(error)];
  const has = (test: (n: Node) => boolean) => nodes.find(test);
  const code = (n: Node) => (typeof n.code === 'string' ? n.code : '');
  const where = has((n) => code(n) === 'PLT_KFK_NETWORK' && /^Connection to /.test(String(n.message)));
  const to = where ? ` ${String(where.message).replace(/^Connection to (\S+) failed\.?$/, 'to $1')}` : '';
  if (has((n) => code(n) === 'PLT_KFK_AUTHENTICATION'))
    return `kafka: SASL authentication${to} failed (${conn.sasl?.mechanism ?? 'SASL'}): wrong username or password, or the mechanism is not enabled for this user`;
  const trust = has((n) => TLS_TRUST.has(code(n)));
  if (trust)
    return `kafka: the broker's certificate${to} is not signed by a trusted CA (${code(trust)}): check the TLS CA bundle`;
  const expired = has((n) => code(n) === 'CERT_HAS_EXPIRED');
  if (expired) return `kafka: the broker's certificate${to} has expired (CERT_HAS_EXPIRED)`;
  const name = has((n) => code(n) === 'ERR_TLS_CERT_ALTNAME_INVALID');
  if (name)
    return `kafka: the broker's certificate${to} does not match its host name (set the TLS server name)`;
  const ssl = has((n) => code(n).startsWith('ERR_SSL_'));
  if (ssl) return `kafka: TLS handshake${to} failed (${code(ssl)}): is this a TLS listener?`;
  if (has((n) => code(n) === 'ECONNREFUSED'))
    return `kafka: connection${to} refused: is the broker address right?`;
  if (conn.tls && has((n) => code(n) === 'PLT_KFK_NETWORK' && n.message === 'Connection closed'))
    return conn.tls.cert
      ? 'kafka: the broker closed the TLS connection: client certificate refused (expired, revoked or not signed by a CA it trusts), or the listener expects SASL'
      : 'kafka: the broker closed the TLS connection: it may require a client certificate (mTLS) or SASL';
  return undefined;
}

/** The CLI's and runner's connection flags (all optional; a flag wins over its environment variable). */
export interface ConnectionSettings {
  readonly tls?: boolean | undefined;
  readonly tlsCa?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  readonly tlsServerName?: string | undefined;
  readonly saslMechanism?: string | undefined;
  readonly saslUsername?: string | undefined;
}

/** Environment variables read by connectionFromSettings; the last three are the only way to pass secrets. */
export const CONNECTION_ENV = {
  tls: 'FERRY_KAFKA_TLS',
  tlsCa: 'FERRY_KAFKA_TLS_CA',
  tlsCert: 'FERRY_KAFKA_TLS_CERT',
  tlsKey: 'FERRY_KAFKA_TLS_KEY',
  tlsServerName: 'FERRY_KAFKA_TLS_SERVER_NAME',
  saslMechanism: 'FERRY_KAFKA_SASL_MECHANISM',
  saslUsername: 'FERRY_KAFKA_SASL_USERNAME',
  saslPassword: 'FERRY_KAFKA_SASL_PASSWORD',
  saslToken: 'FERRY_KAFKA_SASL_TOKEN',
  tlsKeyPassphrase: 'FERRY_KAFKA_TLS_KEY_PASSPHRASE',
} as const;

/**
 * The connection from flags and the environment. TLS is on when asked for or when any TLS file is
 * given; SASL when a mechanism is. Throws KafkaConnectionError naming the flag, never a value.
 */
export function connectionFromSettings(
  settings: ConnectionSettings,
  env: Readonly<Record<string, string | undefined>>,
): KafkaConnection {
  const pick = (key: Exclude<keyof ConnectionSettings, 'tls'>) => {
    const value = settings[key] ?? env[CONNECTION_ENV[key]];
    return value === undefined || value === '' ? undefined : value;
  };
  const tlsEnv = env[CONNECTION_ENV.tls];
  if (tlsEnv !== undefined && tlsEnv !== '' && tlsEnv !== 'true' && tlsEnv !== 'false')
    throw new KafkaConnectionError(`${CONNECTION_ENV.tls} must be true or false`);
  const ca = pick('tlsCa');
  const cert = pick('tlsCert');
  const key = pick('tlsKey');
  const serverName = pick('tlsServerName');
  const keyPassphrase = env[CONNECTION_ENV.tlsKeyPassphrase] || undefined;
  const tlsOn = settings.tls ?? tlsEnv === 'true';
  const tls =
    tlsOn || ca || cert || key || serverName ? { ca, cert, key, keyPassphrase, serverName } : undefined;
  const mechanism = pick('saslMechanism')?.toUpperCase();
  let sasl: KafkaSasl | undefined;
  if (mechanism !== undefined) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism))
      throw new KafkaConnectionError(`--sasl-mechanism must be one of ${SASL_MECHANISMS.join(', ')}`);
    sasl = {
      mechanism: mechanism as SaslMechanism,
      username: pick('saslUsername'),
      password: env[CONNECTION_ENV.saslPassword] || undefined,
      token: env[CONNECTION_ENV.saslToken] || undefined,
    };
  }
  const conn = { tls, sasl };
  const problems = connectionProblems(conn, 'kafka').map((p) =>
    p
      .replace('kafka.sasl.password', CONNECTION_ENV.saslPassword)
      .replace('kafka.sasl.token', CONNECTION_ENV.saslToken)
      .replace('kafka.sasl.username', '--sasl-username')
      .replace('kafka.tls.keyPassphrase', CONNECTION_ENV.tlsKeyPassphrase)
      .replace('kafka.tls', '--tls-cert/--tls-key'),
  );
  if (problems.length > 0) throw new KafkaConnectionError(problems.join('; '));
  return conn;
}
