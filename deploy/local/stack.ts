// `ferry stack up|down|status|logs`: the orchestration. Start order: PostgreSQL, Redis and Kafka
// at once, Connect after Kafka, then schema and connector. Each step is skipped when already done,
// so `up` on a running stack only probes and re-registers (a no-op PUT).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOST, PATHS, SERVICE_NAMES, type ServiceName } from './config.ts';
import { connectorStatus, connectService } from './connect.ts';
import { type Health, healthChecks } from './health.ts';
import { installAptPackages, installJars, type Say } from './install.ts';
import { kafkaService } from './kafka.ts';
import { postgresService } from './postgres.ts';
import { logFile, runningPid, stopByPid, withLock } from './process.ts';
import { redisService } from './redis.ts';
import type { Service } from './service.ts';

export class StackError extends Error {
  readonly code = 'FERRY_STACK_SERVICE_FAILED';
  readonly retryable = false;
  readonly service: string;
  readonly logTail: string;
  constructor(service: string, message: string, logTail = '') {
    super(`${service}: ${message}`);
    this.name = 'StackError';
    this.service = service;
    this.logTail = logTail;
  }
}
export const isStackError = (e: unknown): e is StackError =>
  e instanceof Error && (e as { code?: string }).code === 'FERRY_STACK_SERVICE_FAILED';

export function services(): Record<ServiceName, Service> {
  return {
    postgres: postgresService(),
    redis: redisService(),
    kafka: kafkaService(),
    connect: connectService(),
  };
}

/** The last `lines` lines of a service's log ('' when it has none). */
export function logTail(name: string, lines = 40): string {
  const file = logFile(name);
  if (!existsSync(file)) return '';
  const all = readFileSync(file, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: HOST, port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function waitReady(service: Service, pid: number | undefined, say: Say): Promise<Health> {
  const started = Date.now();
  let last: Health = { ok: false, detail: 'not probed yet' };
  let lastSaid = 0;
  while (Date.now() - started < service.startTimeoutMs) {
    last = await service.ready().catch((e: unknown) => ({ ok: false, detail: String(e) }));
    if (last.ok) return last;
    if (pid !== undefined && runningPid(service.name) === undefined) {
      throw new StackError(service.name, `process ${pid} exited during start-up`, logTail(service.name));
    }
    if (Date.now() - lastSaid > 10_000) {
      say(`${service.name}: waiting (${Math.round((Date.now() - started) / 1000)} s, ${last.detail})`);
      lastSaid = Date.now();
    }
    await sleep(300);
  }
  throw new StackError(
    service.name,
    `not healthy after ${service.startTimeoutMs / 1000} s (${last.detail})`,
    logTail(service.name),
  );
}

async function ensureRunning(service: Service, say: Say): Promise<void> {
  const t0 = Date.now();
  const existing = runningPid(service.name);
  if (existing !== undefined) {
    await waitReady(service, existing, say);
    say(`${service.name}: already running (pid ${existing}, port ${service.port})`);
    return;
  }
  if (await portInUse(service.port)) {
    throw new StackError(
      service.name,
      `port ${HOST}:${service.port} is taken by a process Ferry did not start (no pid file in ${PATHS.pids})`,
    );
  }
  try {
    await service.prepare(say);
  } catch (error) {
    throw new StackError(service.name, `prepare failed: ${(error as Error).message}`, logTail(service.name));
  }
  const pid = service.start();
  say(`${service.name}: started pid ${pid}, waiting for health on port ${service.port}`);
  const health = await waitReady(service, pid, say);
  say(`${service.name}: healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s (${health.detail})`);
}

async function provision(service: Service, say: Say): Promise<void> {
  if (!service.provision) return;
  try {
    await service.provision(say);
  } catch (error) {
    throw new StackError(service.name, (error as Error).message, logTail(service.name));
  }
}

/** Installs what is missing, starts what is not running, provisions schema and connector. */
export function stackUp({ say = console.log as Say } = {}): Promise<void> {
  return withLock('stack', () => up(say), {
    onWait: (pid) => say(`waiting for another stack up/down (pid ${pid})`),
  });
}

async function up(say: Say): Promise<void> {
  const t0 = Date.now();
  installAptPackages(say);
  await installJars(say);
  for (const dir of [PATHS.conf, PATHS.logs, PATHS.pids, PATHS.data]) mkdirSync(dir, { recursive: true });
  const s = services();
  const pgReady = ensureRunning(s.postgres, say).then(() => provision(s.postgres, say));
  const redisReady = ensureRunning(s.redis, say);
  const connectReady = ensureRunning(s.kafka, say)
    .then(() => provision(s.kafka, say))
    .then(() => ensureRunning(s.connect, say));
  const results = await Promise.allSettled([pgReady, redisReady, connectReady]);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) throw failures[0]!.reason;
  await provision(s.connect, say);
  say(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * Starts only `names` (e.g. a test's private Kafka: FERRY_STATE_DIR + FERRY_PORT_OFFSET, with the jars
 * folder linked from the main stack). Each is prepared, started, health-checked and provisioned like
 * in `up`, in the order given; nothing else is installed or started.
 */
export function servicesUp(names: readonly ServiceName[], { say = console.log as Say } = {}): Promise<void> {
  return withLock(
    'stack',
    async () => {
      const s = services();
      for (const name of names) {
        await ensureRunning(s[name], say);
        await provision(s[name], say);
      }
    },
    { onWait: (pid) => say(`waiting for another stack up/down (pid ${pid})`) },
  );
}

/**
 * Stops one service by its pid (its polite signal, then SIGKILL after the grace period) and starts it
 * again, health-checked and provisioned as in `up` (Connect re-applies the connector and waits for it
 * to run). Returns the pids before and after, so a caller can see the restart really happened.
 */
export async function restartService(
  name: ServiceName,
  { say = console.log as Say, graceMs = 30_000 } = {},
): Promise<{ before: number | undefined; after: number | undefined; stop: string }> {
  const svc = services()[name];
  const before = runningPid(name);
  const stop = await withLock('stack', () => stopByPid({ name, signal: svc.stopSignal, graceMs }), {
    onWait: (pid) => say(`waiting for another stack up/down (pid ${pid})`),
  });
  await servicesUp([name], { say });
  return { before, after: runningPid(name), stop };
}

/** Stops everything Ferry started, by pid, in reverse dependency order. */
export function stackDown({ say = console.log as Say, wipe = false } = {}): Promise<void> {
  return withLock('stack', () => down(say, wipe), {
    onWait: (pid) => say(`waiting for another stack up/down (pid ${pid})`),
  });
}

async function down(say: Say, wipe: boolean): Promise<void> {
  const s = services();
  const stop = async (svc: Service) => {
    const result = await stopByPid({ name: svc.name, signal: svc.stopSignal });
    say(`${svc.name}: ${result}`);
  };
  await stop(s.connect);
  await stop(s.kafka);
  await Promise.all([stop(s.redis), stop(s.postgres)]);
  if (wipe) {
    rmSync(PATHS.data, { recursive: true, force: true });
    rmSync(PATHS.conf, { recursive: true, force: true });
    say(`wiped ${PATHS.data} (jars kept)`);
  }
}

export interface ServiceStatus {
  service: ServiceName;
  port: number;
  pid: number | undefined;
  state: 'healthy' | 'unhealthy' | 'stopped';
  detail: string;
}

export async function stackStatus(): Promise<ServiceStatus[]> {
  const s = services();
  return Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const pid = runningPid(name);
      const health = await healthChecks[name]();
      const state = health.ok ? 'healthy' : pid === undefined ? 'stopped' : 'unhealthy';
      return { service: name, port: s[name].port, pid, state, detail: health.detail } satisfies ServiceStatus;
    }),
  );
}

export async function connectorState(): Promise<string> {
  try {
    const status = await connectorStatus();
    if (!status) return 'not registered';
    const tasks = (status.tasks ?? []).map((t) => `task ${t.id} ${t.state}`).join(', ');
    return `${status.connector?.state ?? '?'}${tasks ? ` (${tasks})` : ''}`;
  } catch {
    return 'unknown (Connect not reachable)';
  }
}
