// Apache Kafka 4.x in KRaft mode: one node that is both broker (19092) and controller (19093),
// with the single-node settings (replication 1, min ISR 1, no initial rebalance delay). The log dir
// is formatted once with a fresh cluster id.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CDC_TABLES, cdcTopic, HOST, PATHS, PORTS } from './config.ts';
import { kafkaHealth } from './health.ts';
import { classpath, JAVA, jvmArgs, properties } from './java.ts';
import { startDetached } from './process.ts';
import type { Service } from './service.ts';
import { createAdmin } from './topic-counts.ts';

const logDir = join(PATHS.data, 'kafka');
const confFile = join(PATHS.conf, 'kafka-server.properties');

export const kafkaProperties = (): Record<string, string | number | boolean> => ({
  'process.roles': 'broker,controller',
  'node.id': 1,
  'controller.quorum.voters': `1@${HOST}:${PORTS.kafkaController}`,
  listeners: `PLAINTEXT://${HOST}:${PORTS.kafka},CONTROLLER://${HOST}:${PORTS.kafkaController}`,
  'advertised.listeners': `PLAINTEXT://${HOST}:${PORTS.kafka}`,
  'controller.listener.names': 'CONTROLLER',
  'inter.broker.listener.name': 'PLAINTEXT',
  'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
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
      writeFileSync(confFile, properties(kafkaProperties()));
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
