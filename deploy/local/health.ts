// One health probe per service, each answering { ok, detail } within a short timeout and never
// throwing: Kafka answers a metadata request, Connect's REST root answers, PostgreSQL accepts a
// query as ferry on supply_chain, Redis answers PING.
import { connect as tcpConnect } from 'node:net';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { CONNECT_URL, HOST, KAFKA_BOOTSTRAP, PG, PORTS, type ServiceName } from './config.ts';

export interface Health {
  ok: boolean;
  detail: string;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function kafkaHealth({ timeoutMs = 3000 } = {}): Promise<Health> {
  const admin = new Admin({
    clientId: 'ferry-health',
    bootstrapBrokers: [KAFKA_BOOTSTRAP],
    timeout: timeoutMs,
    retries: 0,
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return {
      ok: metadata.brokers.size > 0,
      detail: `cluster ${metadata.id}, ${metadata.brokers.size} broker(s)`,
    };
  } catch (error) {
    return { ok: false, detail: message(error) };
  } finally {
    await admin.close().catch(() => {});
  }
}

export async function connectHealth({ timeoutMs = 3000 } = {}): Promise<Health> {
  try {
    const res = await fetch(`${CONNECT_URL}/`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, detail: `HTTP ${res.status}` };
    const body = (await res.json()) as { version?: string };
    return { ok: true, detail: `Kafka Connect ${body.version ?? '?'}` };
  } catch (error) {
    return { ok: false, detail: message(error) };
  }
}

export async function postgresHealth({ timeoutMs = 3000 } = {}): Promise<Health> {
  const client = new pg.Client({ ...PG, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    const res = await client.query<{ wal_level: string }>('show wal_level');
    const walLevel = res.rows[0]?.wal_level;
    return { ok: walLevel === 'logical', detail: `wal_level=${walLevel}` };
  } catch (error) {
    return { ok: false, detail: message(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

export function redisHealth({ timeoutMs = 2000 } = {}): Promise<Health> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: HOST, port: PORTS.redis });
    let reply = '';
    const done = (health: Health) => {
      socket.destroy();
      resolve(health);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, detail: 'timeout' }));
    socket.on('error', (error) => done({ ok: false, detail: message(error) }));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done({ ok: reply.startsWith('+PONG'), detail: reply.trim() });
    });
  });
}

export const healthChecks: Record<ServiceName, (opts?: { timeoutMs?: number }) => Promise<Health>> = {
  postgres: postgresHealth,
  redis: redisHealth,
  kafka: kafkaHealth,
  connect: connectHealth,
};

/** Probes every service concurrently. */
export async function stackHealth(): Promise<Record<ServiceName, Health>> {
  const [postgres, redis, kafka, connect] = await Promise.all([
    postgresHealth(),
    redisHealth(),
    kafkaHealth(),
    connectHealth(),
  ]);
  return { postgres, redis, kafka, connect };
}
