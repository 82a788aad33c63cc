// Apache Kafka 4.x in KRaft mode: one node that is both broker (19092) and controller (19093),
// with the single-node settings (replication 1, min ISR 1, no initial rebalance delay). The log dir
// is formatted once with a fresh cluster id. Besides the plaintext listener the demo uses, two secured
// ones on the same broker: SASL_SSL (19094; SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN) and SSL with
// client certificates required (19095, mTLS), with PEM material from kafka-tls.ts.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { CDC_TABLES, cdcTopic, HOST, KAFKA_TLS, PATHS, PORTS } from './config.ts';
import { kafkaHealth } from './health.ts';
import { classpath, JAVA, jvmArgs, properties } from './java.ts';
import { ensureKafkaTls } from './kafka-tls.ts';
import { startDetached } from './process.ts';
import type { Service } from './service.ts';
import { createAdmin } from './topic-counts.ts';

const logDir = join(PATHS.data, 'kafka');
const confFile = join(PATHS.conf, 'kafka-server.properties');

function scramUser(): { username: string; password: string } {
  return JSON.parse(readFileSync(KAFKA_TLS.credentials, 'utf8')) as { username: string; password: string };
}

/** PLAIN's users live in the listener's JAAS line (the conf file is in the state dir, like the password). */
function plainJaas(): string {
  if (!existsSync(KAFKA_TLS.credentials))
    return 'org.apache.kafka.common.security.plain.PlainLoginModule required;';
  const { username, password } = scramUser();
  return `org.apache.kafka.common.security.plain.PlainLoginModule required user_${username}="${password}";`;
}

export const kafkaProperties = (): Record<string, string | number | boolean> => ({
  'process.roles': 'broker,controller',
  'node.id': 1,
  'controller.quorum.voters': `1@${HOST}:${PORTS.kafkaController}`,
  listeners: [
    `PLAINTEXT://${HOST}:${PORTS.kafka}`,
    `CONTROLLER://${HOST}:${PORTS.kafkaController}`,
    `SASL_SSL://${HOST}:${PORTS.kafkaSasl}`,
    `MTLS://${HOST}:${PORTS.kafkaMtls}`,
  ].join(','),
  'advertised.listeners': [
    `PLAINTEXT://${HOST}:${PORTS.kafka}`,
    `SASL_SSL://${HOST}:${PORTS.kafkaSasl}`,
    `MTLS://${HOST}:${PORTS.kafkaMtls}`,
  ].join(','),
  'controller.listener.names': 'CONTROLLER',
  'inter.broker.listener.name': 'PLAINTEXT',
  'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL',
  'ssl.keystore.type': 'PEM',
  'ssl.keystore.location': KAFKA_TLS.brokerKeystore,
  'ssl.truststore.type': 'PEM',
  'ssl.truststore.location': KAFKA_TLS.ca,
  'ssl.endpoint.identification.algorithm': '',
  'listener.name.mtls.ssl.client.auth': 'required',
  'sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256,PLAIN',
  'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
    'org.apache.kafka.common.security.scram.ScramLoginModule required;',
  'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config':
    'org.apache.kafka.common.security.scram.ScramLoginModule required;',
  'listener.name.sasl_ssl.plain.sasl.jaas.config': plainJaas(),
  'log.dirs': logDir,
  'num.network.threads': 2,
  'num.io.threads': 4,
  'num.partitions': 6,
  'default.replication.factor': 1,
  'min.insync.replicas': 1,
  'auto.create.topics.enable': true,
  'delete.topic.enable': true,
  'offsets.topic.replication.factor': 1,
  'offsets.topic.num.partitions': 10,
  'transaction.state.log.replication.factor': 1,
  'transaction.state.log.min.isr': 1,
  'transaction.state.log.num.partitions': 10,
  'share.coordinator.state.topic.replication.factor': 1,
  'share.coordinator.state.topic.min.isr': 1,
  'group.initial.rebalance.delay.ms': 0,
  'log.retention.hours': 168,
  'log.segment.bytes': 268_435_456,
});

export function kafkaService(): Service {
  return {
    name: 'kafka',
    port: PORTS.kafka,
    startTimeoutMs: 90_000,
    stopSignal: 'SIGTERM',
    async prepare(say) {
      mkdirSync(PATHS.conf, { recursive: true });
      ensureKafkaTls(say);
      writeFileSync(confFile, properties(kafkaProperties()), { mode: 0o600 });
      if (existsSync(join(logDir, 'meta.properties'))) return;
      mkdirSync(logDir, { recursive: true });
      // Like Kafka's own Uuid.randomUuid: an id starting with '-' would be read by the storage tool
      // as an option ("argument --cluster-id: expected one argument"), so draw again.
      let clusterId = randomBytes(16).toString('base64url');
      while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
      say(`kafka: formatting KRaft storage (cluster id ${clusterId})`);
      const res = spawnSync(
        JAVA,
        [
          '-Xmx256m',
          '-cp',
          classpath(),
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          confFile,
        ],
        { encoding: 'utf8' },
      );
      if (res.status !== 0) throw new Error(`kafka storage format failed: ${res.stderr || res.stdout}`);
    },
    start() {
      return startDetached({
        name: 'kafka',
        command: JAVA,
        args: [...jvmArgs({ name: 'kafka' }), '-cp', classpath(), 'kafka.Kafka', confFile],
      });
    },
    ready: () => kafkaHealth(),
    async provision(say) {
      // Debezium creates cdc.public.<table> on a table's first change; creating them up front (same
      // settings as the connector's topic.creation defaults) lets consumers subscribe from the start.
      ensureKafkaTls(say);
      await ensureScramUser(say);
      const admin = createAdmin({ clientId: 'ferry-stack' });
      try {
        const existing = new Set(await admin.listTopics());
        const missing = CDC_TABLES.map(cdcTopic).filter((t) => !existing.has(t));
        if (missing.length === 0) return;
        await admin.createTopics({ topics: missing, partitions: CDC_PARTITIONS, replicas: 1 });
        say(`kafka: created ${missing.join(', ')} (${CDC_PARTITIONS} partitions)`);
      } finally {
        await admin.close();
      }
    },
  };
}

/** Must match topic.creation.default.partitions in deploy/debezium/supply-chain.json. */
export const CDC_PARTITIONS = 6;

/**
 * The SCRAM user, set (again) through the plaintext listener with kafka-configs: works on a new stack
 * and on one formatted before the secured listeners existed. The password goes through a 0600 file,
 * never the command line.
 */
async function ensureScramUser(say: (line: string) => void): Promise<void> {
  const { username, password } = scramUser();
  const file = join(KAFKA_TLS.dir, 'scram-add.properties');
  // One mechanism per request: the broker refuses two credentials of one user in the same request.
  for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256']) {
    writeFileSync(file, `${mechanism}=iterations=8192,password=${password}\n`, { mode: 0o600 });
    try {
      const res = spawnSync(
        JAVA,
        [
          '-Xmx128m',
          '-cp',
          classpath(),
          'kafka.admin.ConfigCommand',
          '--bootstrap-server',
          `${HOST}:${PORTS.kafka}`,
          '--alter',
          '--entity-type',
          'users',
          '--entity-name',
          username,
          '--add-config-file',
          file,
        ],
        { encoding: 'utf8' },
      );
      // Its output may quote the file (and so the password): the exit code only.
      if (res.status !== 0)
        throw new Error(
          `setting the ${mechanism} user ${username} failed (kafka-configs exit ${res.status ?? res.signal})`,
        );
    } finally {
      rmSync(file, { force: true });
    }
  }
  if (!(await portOpen(HOST, PORTS.kafkaSasl)))
    say(
      'kafka: the secured listeners are not open (a broker started before they existed): `stack down` then `stack up` opens them',
    );
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, timeout: 2000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
