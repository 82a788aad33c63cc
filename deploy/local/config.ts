// Where the local stack lives and which ports it uses. One place, so the CLI, the tests and the
// benchmarks agree. Every port is on 127.0.0.1 and chosen not to collide with default installs.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** FERRY_STATE_DIR and FERRY_PORT_OFFSET run a second, separate stack (e.g. to time a cold start). */
export const STATE_DIR = process.env.FERRY_STATE_DIR
  ? resolve(process.env.FERRY_STATE_DIR)
  : join(ROOT, '.ferry');
const OFFSET = Number(process.env.FERRY_PORT_OFFSET ?? 0);

export const HOST = '127.0.0.1';
export const PORTS = {
  kafka: 19092 + OFFSET,
  kafkaController: 19093 + OFFSET,
  /** SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) on the same broker. */
  kafkaSasl: 19094 + OFFSET,
  /** SSL with client certificates required (mTLS) on the same broker. */
  kafkaMtls: 19095 + OFFSET,
  connect: 18083 + OFFSET,
  postgres: 15432 + OFFSET,
  redis: 16379 + OFFSET,
} as const;

export const KAFKA_BOOTSTRAP = `${HOST}:${PORTS.kafka}`;
export const KAFKA_SASL_BOOTSTRAP = `${HOST}:${PORTS.kafkaSasl}`;
export const KAFKA_MTLS_BOOTSTRAP = `${HOST}:${PORTS.kafkaMtls}`;
export const CONNECT_URL = `http://${HOST}:${PORTS.connect}`;
export const REDIS_URL = `redis://${HOST}:${PORTS.redis}`;

export const PG = {
  host: HOST,
  port: PORTS.postgres,
  database: 'supply_chain',
  user: 'ferry',
  password: 'ferry',
} as const;
export const PG_URL = `postgres://${PG.user}:${PG.password}@${PG.host}:${PG.port}/${PG.database}`;

export const PG_BIN = process.env.FERRY_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export const PATHS = {
  state: STATE_DIR,
  jars: join(STATE_DIR, 'jars'),
  kafkaJars: join(STATE_DIR, 'jars', 'kafka'),
  pluginPath: join(STATE_DIR, 'jars', 'plugins'),
  debeziumJars: join(STATE_DIR, 'jars', 'plugins', 'debezium-connector-postgres'),
  conf: join(STATE_DIR, 'conf'),
  logs: join(STATE_DIR, 'logs'),
  pids: join(STATE_DIR, 'pids'),
  data: join(STATE_DIR, 'data'),
  pom: join(ROOT, 'deploy', 'local', 'pom.xml'),
  schemaSql: join(ROOT, 'deploy', 'local', 'sql', 'schema.sql'),
  connectorConfig: join(ROOT, 'deploy', 'debezium', 'supply-chain.json'),
} as const;

/** The secured listeners' material (deploy/local/kafka-tls.ts makes it at `stack up`). */
const TLS_DIR = join(STATE_DIR, 'kafka-tls');
export const KAFKA_TLS = {
  dir: TLS_DIR,
  ca: join(TLS_DIR, 'ca.pem'),
  brokerKeystore: join(TLS_DIR, 'broker-keystore.pem'),
  clientCert: join(TLS_DIR, 'client.pem'),
  clientKey: join(TLS_DIR, 'client.key'),
  expiredClientCert: join(TLS_DIR, 'client-expired.pem'),
  expiredClientKey: join(TLS_DIR, 'client-expired.key'),
  /** `{ username, password }` of the SCRAM/PLAIN user, mode 0600. */
  credentials: join(TLS_DIR, 'scram-user.json'),
} as const;

/** The connector `stack up` registers (name = file name of its config). */
export const CONNECTOR_NAME = 'ferry-supply-chain';

/** Tables captured by Debezium, topic = cdc.public.<table>. */
export const CDC_TABLES = ['facilities', 'trailers', 'loads', 'shipments'] as const;
export type CdcTable = (typeof CDC_TABLES)[number];
export const cdcTopic = (table: string): string => `cdc.public.${table}`;

export const SERVICE_NAMES = ['postgres', 'redis', 'kafka', 'connect'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
