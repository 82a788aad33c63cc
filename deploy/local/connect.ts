// Kafka Connect in distributed mode (its config/offset/status topics on our Kafka, replication 1),
// REST on 18083, the Debezium PostgreSQL connector on its plugin path. `provision` registers the
// connector from deploy/debezium/supply-chain.json with an idempotent PUT and waits until it runs.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONNECT_URL, CONNECTOR_NAME, HOST, KAFKA_BOOTSTRAP, PATHS, PG, PORTS } from './config.ts';
import { connectHealth } from './health.ts';
import { classpath, JAVA, jvmArgs, properties } from './java.ts';
import { startDetached } from './process.ts';
import type { Service } from './service.ts';

const confFile = join(PATHS.conf, 'connect-distributed.properties');

export const connectProperties = (): Record<string, string | number | boolean> => ({
  'bootstrap.servers': KAFKA_BOOTSTRAP,
  'group.id': 'ferry-connect',
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'key.converter.schemas.enable': false,
  'value.converter.schemas.enable': false,
  'config.storage.topic': 'ferry-connect-configs',
  'config.storage.replication.factor': 1,
  'offset.storage.topic': 'ferry-connect-offsets',
  'offset.storage.replication.factor': 1,
  'offset.storage.partitions': 5,
  'status.storage.topic': 'ferry-connect-status',
  'status.storage.replication.factor': 1,
  'status.storage.partitions': 1,
  // Commit source offsets every second: after a crash Debezium resumes from at most ~1 s back.
  'offset.flush.interval.ms': 1000,
  listeners: `http://${HOST}:${PORTS.connect}`,
  'rest.advertised.host.name': HOST,
  'rest.advertised.port': PORTS.connect,
  'plugin.path': PATHS.pluginPath,
  'plugin.discovery': 'service_load',
  'topic.creation.enable': true,
  'connector.client.config.override.policy': 'All',
  // One worker: when it comes back after a crash, take its tasks back at once instead of waiting.
  'scheduled.rebalance.max.delay.ms': 0,
  'task.shutdown.graceful.timeout.ms': 10_000,
});

export function connectService(): Service {
  return {
    name: 'connect',
    port: PORTS.connect,
    startTimeoutMs: 120_000,
    stopSignal: 'SIGTERM',
    async prepare() {
      mkdirSync(PATHS.conf, { recursive: true });
      writeFileSync(confFile, properties(connectProperties()));
    },
    start() {
      return startDetached({
        name: 'connect',
        command: JAVA,
        args: [
          ...jvmArgs({ name: 'connect' }),
          '-cp',
          classpath(),
          'org.apache.kafka.connect.cli.ConnectDistributed',
          confFile,
        ],
      });
    },
    async ready() {
      const root = await connectHealth();
      if (!root.ok) return root;
      // The REST root answers before the herder has joined its group; /connectors waits for that.
      try {
        const res = await fetch(`${CONNECT_URL}/connectors`, { signal: AbortSignal.timeout(5000) });
        return res.ok ? root : { ok: false, detail: `GET /connectors: HTTP ${res.status}` };
      } catch (error) {
        return { ok: false, detail: String(error) };
      }
    },
    async provision(say) {
      await registerConnector({ say });
    },
  };
}

/** deploy/debezium/supply-chain.json, pointed at this stack's PostgreSQL. */
export function connectorConfig(): Record<string, string> {
  const config = JSON.parse(readFileSync(PATHS.connectorConfig, 'utf8')) as Record<string, string>;
  return { ...config, 'database.hostname': PG.host, 'database.port': String(PG.port) };
}

interface ConnectorStatus {
  connector?: { state: string; trace?: string };
  tasks?: Array<{ id: number; state: string; trace?: string }>;
}

export async function connectorStatus(name = CONNECTOR_NAME): Promise<ConnectorStatus | undefined> {
  const res = await fetch(`${CONNECT_URL}/connectors/${name}/status`, { signal: AbortSignal.timeout(5000) });
  return res.ok ? ((await res.json()) as ConnectorStatus) : undefined;
}

const isRunning = (s: ConnectorStatus | undefined): boolean =>
  s?.connector?.state === 'RUNNING' &&
  (s.tasks?.length ?? 0) > 0 &&
  s.tasks!.every((t) => t.state === 'RUNNING');

/**
 * PUT /connectors/<name>/config (creates or updates; the same config again is a no-op), retrying
 * while the worker is rebalancing, then waits until the connector and its task are RUNNING.
 */
export async function registerConnector({
  name = CONNECTOR_NAME,
  config = connectorConfig(),
  timeoutMs = 90_000,
  say = (_line: string) => {},
}: {
  name?: string;
  config?: Record<string, string>;
  timeoutMs?: number;
  say?: (line: string) => void;
} = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (Date.now() > deadline) throw new Error(`registering connector ${name} failed: ${lastError}`);
    try {
      const res = await fetch(`${CONNECT_URL}/connectors/${name}/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(config),
        signal: AbortSignal.timeout(15_000),
      });
      if (res.ok) {
        say(
          `connect: connector ${name} ${res.status === 201 ? 'created' : 'config applied (same config = no-op)'}`,
        );
        break;
      }
      lastError = `HTTP ${res.status} ${await res.text()}`;
    } catch (error) {
      lastError = String(error);
    }
    await sleep(1000);
  }
  let restarted = false;
  for (;;) {
    const status = await connectorStatus(name).catch(() => undefined);
    if (isRunning(status)) return;
    const failed = [status?.connector, ...(status?.tasks ?? [])].find((s) => s?.state === 'FAILED');
    if (failed && !restarted) {
      // e.g. PostgreSQL was away longer than Debezium retried: one restart of what failed.
      say(`connect: connector ${name} FAILED, restarting it: ${failed.trace?.split('\n')[0] ?? ''}`);
      await fetch(`${CONNECT_URL}/connectors/${name}/restart?includeTasks=true&onlyFailed=true`, {
        method: 'POST',
        signal: AbortSignal.timeout(15_000),
      }).catch(() => {});
      restarted = true;
      await sleep(2000);
      continue;
    }
    if (failed) throw new Error(`connector ${name} FAILED: ${failed.trace?.split('\n')[0] ?? ''}`);
    if (Date.now() > deadline) throw new Error(`connector ${name} not RUNNING: ${JSON.stringify(status)}`);
    await sleep(500);
  }
}
