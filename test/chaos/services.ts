// Restarts of the stack's own services during a chaos run, each with what shows it really happened:
// a new pid (Kafka, Connect), a new Redis run_id with a key written before the restart still there
// (AOF), and the connector running again.
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { CONNECT_URL, CONNECTOR_NAME, REDIS_URL } from '../../deploy/local/config.ts';
import { connectorStatus } from '../../deploy/local/connect.ts';
import { restartService } from '../../deploy/local/stack.ts';
import type { RestartedService } from './schedule.ts';

export interface RestartObservation {
  readonly service: RestartedService;
  /** A new process (or Redis run_id) answered after the restart. */
  readonly observed: boolean;
  readonly detail: string;
  readonly ms: number;
}

function redisInfo(): Promise<{ runId: string; aof: boolean }> {
  return withRedis(async (r) => ({
    runId: /run_id:(\w+)/.exec(await r.info('server'))?.[1] ?? '',
    aof: /aof_enabled:1/.test(await r.info('persistence')),
  }));
}

async function withRedis<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

export async function restartAndObserve(
  service: RestartedService,
  { runId, say }: { runId: string; say: (line: string) => void },
): Promise<RestartObservation> {
  const t0 = Date.now();
  if (service === 'redis') {
    const before = await redisInfo();
    const canary = `ferry:chaos:${runId}:canary`;
    await withRedis((r) => r.set(canary, runId, 'EX', 3600));
    await sleep(1100); // appendfsync everysec
    const pids = await restartService('redis', { say });
    const after = await redisInfo();
    const kept = (await withRedis((r) => r.get(canary))) === runId;
    return {
      service,
      observed: after.runId !== '' && after.runId !== before.runId,
      detail:
        `pid ${pids.before} -> ${pids.after}, run_id ${before.runId.slice(0, 8)} -> ${after.runId.slice(0, 8)}, ` +
        `AOF ${after.aof ? 'on' : 'OFF'}, key written before the restart ${kept ? 'kept' : 'LOST'}`,
      ms: Date.now() - t0,
    };
  }
  const pids = await restartService(service, { say });
  let detail = `pid ${pids.before} -> ${pids.after} (${pids.stop})`;
  if (service === 'connect') {
    // Registered and running once, the connector may still go through a rebalance (UNASSIGNED)
    // right after: wait for it to settle before saying what it is.
    let state = 'missing';
    for (const end = Date.now() + 60_000; Date.now() < end; await sleep(1000)) {
      const s = await connectorStatus(CONNECTOR_NAME).catch(() => undefined);
      state = s?.connector?.state ?? 'missing';
      if (state === 'RUNNING' && (s?.tasks ?? []).some((t) => t.state === 'RUNNING')) break;
    }
    detail += `, connector ${state}`;
  }
  return {
    service,
    observed: pids.before !== undefined && pids.after !== undefined && pids.before !== pids.after,
    detail,
    ms: Date.now() - t0,
  };
}

/**
 * Waits until the connector and its tasks run again (after a broker restart its task may fail);
 * a failed task is restarted through Connect's REST API, as an operator's health check would, and
 * counted. Returns the number of task restarts.
 */
export async function keepConnectorRunning({
  timeoutMs,
  say,
}: {
  timeoutMs: number;
  say: (line: string) => void;
}): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let restarts = 0;
  for (;;) {
    const s = await connectorStatus(CONNECTOR_NAME).catch(() => undefined);
    const tasks = s?.tasks ?? [];
    if (s?.connector?.state === 'RUNNING' && tasks.length > 0 && tasks.every((t) => t.state === 'RUNNING'))
      return restarts;
    for (const t of tasks) {
      if (t.state !== 'FAILED') continue;
      say(`connector task ${t.id} FAILED; restarting it`);
      await fetch(`${CONNECT_URL}/connectors/${CONNECTOR_NAME}/tasks/${t.id}/restart`, {
        method: 'POST',
        signal: AbortSignal.timeout(10_000),
      }).catch(() => {});
      restarts += 1;
    }
    if (Date.now() > deadline)
      throw new Error(`connector not running after ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await sleep(1000);
  }
}
