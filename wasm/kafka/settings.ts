// The Kafka connection settings as data: their types, the problems that make them unusable, and the
// secrets in them. No file access and no node:* modules, so the config loader can check them on any
// runtime (edge included); turning them into client options (reading the PEM files) is connection.ts.

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaTls {
  /** PEM file of the CA bundle that signed the brokers' certificates (default: Node's roots). */
  readonly ca?: string | undefined;
  /** PEM file of the client certificate (mTLS); needs `key`. */
  readonly cert?: string | undefined;
  /** PEM file of the client key (mTLS); needs `cert`. */
  readonly key?: string | undefined;
  /** Passphrase of an encrypted `key` (a secret). */
  readonly keyPassphrase?: string | undefined;
  /** The name the broker certificate must carry, when it differs from the bootstrap host. */
  readonly serverName?: string | undefined;
}

export interface KafkaSasl {
  readonly mechanism: SaslMechanism;
  readonly username?: string | undefined;
  /** PLAIN and SCRAM (a secret). */
  readonly password?: string | undefined;
  /** OAUTHBEARER: the bearer token (a secret). */
  readonly token?: string | undefined;
}

/** How to reach the cluster besides its address. Both parts absent = plaintext, no auth. */
export interface KafkaConnection {
  readonly tls?: KafkaTls | undefined;
  readonly sasl?: KafkaSasl | undefined;
}

/** A problem with the connection settings themselves: permanent, named without any value. */
export class KafkaConnectionError extends Error {
  readonly code = 'FERRY_KAFKA_CONNECTION_CONFIG';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'KafkaConnectionError';
  }
}

/** `path: problem` lines for settings that cannot work; `at` prefixes each (e.g. `kafka`). */
export function connectionProblems(conn: KafkaConnection, at = 'kafka'): string[] {
  const out: string[] = [];
  const { tls, sasl } = conn;
  if (tls) {
    if ((tls.cert === undefined) !== (tls.key === undefined))
      out.push(`${at}.tls: cert and key go together (mTLS needs both)`);
    if (tls.keyPassphrase !== undefined && tls.key === undefined)
      out.push(`${at}.tls.keyPassphrase: needs a key`);
  }
  if (sasl) {
    if (!SASL_MECHANISMS.includes(sasl.mechanism))
      out.push(`${at}.sasl.mechanism: must be one of ${SASL_MECHANISMS.join(', ')}`);
    else if (sasl.mechanism === 'OAUTHBEARER') {
      if (!sasl.token) out.push(`${at}.sasl.token: OAUTHBEARER needs a token`);
    } else {
      if (!sasl.username) out.push(`${at}.sasl.username: ${sasl.mechanism} needs a username`);
      if (!sasl.password) out.push(`${at}.sasl.password: ${sasl.mechanism} needs a password`);
    }
  }
  return out;
}

/** The secret values of `conn`, for redactors. */
export function connectionSecrets(conn: KafkaConnection = {}): string[] {
  return [conn.sasl?.password, conn.sasl?.token, conn.tls?.keyPassphrase].filter(
    (s): s is string => typeof s === 'string' && s !== '',
  );
}
