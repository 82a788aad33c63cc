// The Kafka connection flags every CLI command that talks to Kafka takes, named after rpk's
// (`--tls-*`, `--sasl-*`), each with a FERRY_KAFKA_* environment variable for containers. Secrets
// (SASL password or token, key passphrase) have no flag: environment only, so they never show in
// argv, `ps` or shell history.
import type { Command } from 'commander';
import { KAFKA_BOOTSTRAP } from '../deploy/local/config.ts';
import {
  CONNECTION_ENV,
  connectionFromSettings,
  type KafkaConnection,
  KafkaConnectionError,
  kafkaClientOptions,
} from '../wasm/index.ts';
import { aliasFlag } from './flags.ts';

export interface KafkaFlagValues {
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
  saslMechanism?: string;
  saslUsername?: string;
}

export function addKafkaConnectionFlags(cmd: Command): Command {
  const e = CONNECTION_ENV;
  return cmd
    .option('--tls', `connect with TLS (${e.tls}=true)`)
    .option('--tls-ca <file>', `PEM CA bundle that signed the brokers (${e.tlsCa}; implies --tls)`)
    .option('--tls-cert <file>', `PEM client certificate for mTLS (${e.tlsCert}; implies --tls)`)
    .option(
      '--tls-key <file>',
      `PEM client key for mTLS (${e.tlsKey}; passphrase in ${e.tlsKeyPassphrase}; implies --tls)`,
    )
    .option('--tls-server-name <name>', `name the broker certificate must carry (${e.tlsServerName})`)
    .option('--sasl-mechanism <m>', `PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER (${e.saslMechanism})`)
    .option(
      '--sasl-username <user>',
      `SASL user (${e.saslUsername}); the password only from ${e.saslPassword}, an OAUTHBEARER token from ${e.saslToken}`,
    );
}

/**
 * The connection the flags and environment describe, with its files read once so that a missing or
 * expired certificate fails here. Throws KafkaConnectionError with a one-line reason.
 */
export function kafkaConnectionFrom(
  opts: KafkaFlagValues,
  env: Readonly<Record<string, string | undefined>> = process.env,
): KafkaConnection {
  const conn = connectionFromSettings(opts, env);
  kafkaClientOptions(conn);
  return conn;
}

export { KafkaConnectionError };

/**
 * `--bootstrap-server host:port[,host:port]`, as Kafka's own tools spell it (rpk: `-X brokers=`); the
 * old `--bootstrap` still works.
 */
export function addBootstrapFlag(cmd: Command): Command {
  cmd.option(
    '--bootstrap-server <host:port,...>',
    'Kafka bootstrap servers, comma-separated',
    KAFKA_BOOTSTRAP,
  );
  return aliasFlag(cmd, '--bootstrap <host:port>', 'bootstrapServer');
}

/** The brokers of `--bootstrap-server`. */
export function brokersFrom(opts: { bootstrapServer: string }): string[] {
  return opts.bootstrapServer
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
}
