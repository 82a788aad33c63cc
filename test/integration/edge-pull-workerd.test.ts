// The bundled edge relay on the real Workers runtime (workerd) pulling from the test HTTP Proxy over the
// real Kafka: every cron event (the scheduled handler, fired through a service binding) runs one
// bounded drain, dedupe goes through the Upstash-protocol gateway over the real Redis, deliveries go to
// the mock API. Each scenario repeats drains until the group's committed offsets reach the topic's end
// and then accounts for every record at the API: applied once, never twice, in order per key, nothing
// dead-lettered, and nothing committed that the API did not apply.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrainReport } from '../../relay/adapters/http-proxy/index.ts';
import { type EdgeWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { committedNotApplied, produceClean } from '../support/http-proxy/relay.ts';
import { type HttpProxyServer, startHttpProxy } from '../support/http-proxy/server.ts';
import { committedOffsets, endOffsets } from '../support/kafka.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { REDIS_URL } from '../support/stack-env.ts';
import { startUpstashGateway, type UpstashGateway } from '../support/upstash-gateway.ts';
import { waitUntil } from '../support/wait.ts';

const ADMIN_TOKEN = 'edge-admin-token-0123456789';
const DLQ_TOKEN = 'edge-dlq-token-0123456789';

/** A `${NAME}` reference the Worker resolves from its bindings. */
const ref = (name: string) => `\${${name}}`;

const bed = useRelayTestbed({ api: { endpoints: [] } });
let gateway: UpstashGateway;
let proxy: HttpProxyServer;
const workers: EdgeWorker[] = [];

beforeAll(async () => {
  gateway = await startUpstashGateway({ redisUrl: REDIS_URL, token: 'edge-upstash-token-0123' });
  proxy = await startHttpProxy();
});
afterAll(async () => {
  for (const w of workers) await w.kill9();
  await proxy?.close();
  await gateway?.close();
});

interface Scenario {
  readonly topic: string;
  readonly run: string;
  readonly endpoint: string;
  readonly group: string;
  readonly partitions: number;
  readonly count: number;
}

/** A fresh topic holding `count` clean records `<run>-<i>` on 20 keys, its group and API endpoint. */
async function scenario(prefix: string, partitions: number, count: number): Promise<Scenario> {
  const topic = await bed.topic(prefix, partitions);
  const run = randomUUID().slice(0, 8);
  await produceClean(topic, { run, count });
  return { topic, run, endpoint: `ep${run}`, group: `g-${topic}`, partitions, count };
}

function pullConfig(
  s: Scenario,
  { drain = {}, sink = {} }: { drain?: Record<string, unknown>; sink?: Record<string, unknown> } = {},
) {
  return {
    source: 'http-proxy',
    adminToken: ref('ADMIN_TOKEN'),
    upstash: { url: gateway.url, token: ref('UPSTASH_TOKEN') },
    dlq: { to: 'url', url: `${bed.api.url}/dlq-${s.run}`, bearer: ref('DLQ_TOKEN') },
    commitInterval: '100ms',
    revokeTimeout: '1s',
    httpProxy: {
      url: proxy.url,
      group: s.group,
      requestTimeout: '5s',
      fetch: { timeout: '100ms' },
      drain: { budget: '20s', maxRecords: 1000, maxInFlight: 500, ...drain },
    },
    routes: [
      {
        topics: s.topic,
        sinks: [
          {
            id: 'api',
            url: `${bed.api.url}/${s.endpoint}`,
            timeout: '2s',
            dedupe: { store: 'upstash', lease: '3s' },
            ...sink,
          },
        ],
      },
    ],
  };
}

/** A Worker on the deployment slot `slot` (FERRY_INSTANCE_ID: it names the consumer instance). */
async function worker(config: unknown, slot: string): Promise<EdgeWorker> {
  const w = await startEdgeWorker({
    bindings: {
      FERRY_CONFIG: JSON.stringify(config),
      FERRY_INSTANCE_ID: slot,
      ADMIN_TOKEN,
      DLQ_TOKEN,
      UPSTASH_TOKEN: gateway.token,
    },
  });
  workers.push(w);
  return w;
}

type LoggedReport = Omit<DrainReport, 'committed'> & { readonly committed: readonly string[] };

/** The drain reports the Worker logged (`drain done` / `drain failed`), oldest first. */
function drainReports(w: EdgeWorker): LoggedReport[] {
  return w
    .output()
    .split('\n')
    .filter((l) => l.includes('"drain done"') || l.includes('"drain failed"'))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as LoggedReport);
}

/** One cron event: fires the scheduled handler and returns the report of the drain it ran. */
async function cron(w: EdgeWorker): Promise<LoggedReport> {
  const before = drainReports(w).length;
  expect(await w.scheduled()).toMatchObject({ outcome: 'ok' });
  return waitUntil(() => drainReports(w)[before], {
    timeoutMs: 30_000,
    intervalMs: 20,
    message: 'the drain report',
  });
}

/** True when the group has committed every partition up to the topic's end. */
async function committedToEnd(s: Scenario): Promise<boolean> {
  const [committed, end] = await Promise.all([
    committedOffsets(s.group, s.topic, s.partitions),
    endOffsets(s.topic),
  ]);
  return [...end].every(([p, high]) => committed.get(p) === high);
}

/** Cron rounds (each Worker one drain, concurrently) until the group's commits reach the end. */
async function drainToEnd(
  s: Scenario,
  ws: readonly EdgeWorker[],
  timeoutMs = 120_000,
): Promise<LoggedReport[][]> {
  const rounds: LoggedReport[][] = [];
  await waitUntil(
    async () => {
      rounds.push(await Promise.all(ws.map(cron)));
      return committedToEnd(s);
    },
    { timeoutMs, intervalMs: 0, message: `group ${s.group} committed to the end` },
  );
  return rounds;
}

/** Every record applied exactly once, in order per key, nothing dead-lettered, no instance left behind. */
function expectEachAppliedOnce(s: Scenario): void {
  expect(notApplied(bed.api, s.endpoint, s.run, s.count)).toEqual([]);
  const report = bed.api.report(s.endpoint);
  expect(report.applied).toBe(s.count);
  expect(report.duplicateApplications).toBe(0);
  expect(report.orderViolations).toBe(0);
  expect(bed.api.report(`dlq-${s.run}`).received).toBe(0);
  expect(proxy.instances().filter((i) => i.startsWith(`${s.group}/`))).toEqual([]);
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** User + system CPU milliseconds a process has used (from /proc/<pid>/stat). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

describe('edge relay on workerd pulling from the HTTP Proxy (cron drains)', () => {
  it('drains 5,000 records over repeated cron events: none lost, none applied twice, the group committed to the end', async () => {
    const s = await scenario('edge-pull-5k', 4, 5000);
    const w = await worker(pullConfig(s), `a-${s.run}`);
    const cpuBefore = cpuMs(w.pid);
    const upstashBefore = gateway.requests.length;
    const started = performance.now();
    const rounds = await drainToEnd(s, [w]);
    const wallMs = performance.now() - started;
    const cpu = cpuMs(w.pid) - cpuBefore;
    const upstashRequests = gateway.requests.length - upstashBefore;
    const reports = rounds.flat();
    expect(reports.filter((r) => r.outcome === 'failed')).toEqual([]);
    // maxRecords 1000 per drain: at least five cron events to get through 5,000.
    expect(reports.length).toBeGreaterThanOrEqual(5);
    expect(reports.slice(0, 5).every((r) => r.outcome === 'max-records' && r.handed === 1000)).toBe(true);
    expect(reports.reduce((n, r) => n + r.handed, 0)).toBe(5000);
    expect(reports.reduce((n, r) => n + r.abandoned, 0)).toBe(0);
    expectEachAppliedOnce(s);
    expect(bed.api.report(s.endpoint).received).toBe(5000);
    expect(await w.metric('ferry_records_delivered_total')).toBe(5000);
    const drainMs = reports.reduce((n, r) => n + r.elapsedMs, 0);
    console.log(
      `workerd pull drain: 5000 records in ${reports.length} cron drains, ${Math.round(drainMs)} ms in drains ` +
        `(${Math.round((5000 / drainMs) * 1000)} records/s), ${Math.round(wallMs)} ms wall ` +
        `(${Math.round((5000 / wallMs) * 1000)} records/s); workerd CPU ${Math.round(cpu)} ms, ` +
        `${((cpu * 1000) / 5000).toFixed(0)} µs per record; ${(upstashRequests / 5000).toFixed(2)} Upstash requests per record`,
    );
  });

  it('rides out a sink answering 503: retries, the breaker opens, nothing committed; a later drain re-fetches and applies each record once', async () => {
    const s = await scenario('edge-pull-503', 2, 600);
    bed.api.setFaults(s.endpoint, { fixed: { status: 503 } });
    const w = await worker(
      pullConfig(s, {
        drain: { budget: '2s' },
        sink: {
          retry: { attempts: 3, backoffBase: '20ms', backoffCap: '100ms' },
          breaker: { threshold: 5, halfOpenAfter: '200ms' },
          onExhausted: 'block',
          parkFor: '200ms',
        },
      }),
      `a-${s.run}`,
    );
    const first = await cron(w);
    expect(first).toMatchObject({ outcome: 'deadline', fetched: 600, committed: [] });
    expect(first.abandoned).toBeGreaterThan(0);
    expect(bed.api.report(s.endpoint).byOutcome['503']).toBeGreaterThan(0);
    expect(bed.api.report(s.endpoint).applied).toBe(0);
    expect(await w.metric('ferry_retries_total')).toBeGreaterThan(0);
    expect(await w.metric('ferry_breaker_opened_total')).toBeGreaterThan(0);
    expect(await committedOffsets(s.group, s.topic, 2)).toEqual(
      new Map([
        [0, -1n],
        [1, -1n],
      ]),
    );

    // Still failing for a second drain: it fetches the same records again, commits nothing.
    const second = await cron(w);
    expect(second).toMatchObject({ outcome: 'deadline', fetched: 600, committed: [] });

    bed.api.setFaults(s.endpoint, {});
    const rounds = await drainToEnd(s, [w]);
    // Nothing was committed: the first drain after the recovery fetches all 600 again. Within its 2 s
    // budget it may not finish them all (claims of the failed drains still leased); the next drain does.
    expect(rounds[0]?.[0]).toMatchObject({ fetched: 600, handed: 600 });
    expect(rounds.at(-1)?.[0]?.abandoned).toBe(0);
    expectEachAppliedOnce(s);
  });

  it('loses nothing and applies nothing twice when workerd is killed mid-drain and started again on the same slot', async () => {
    const s = await scenario('edge-pull-kill', 2, 1500);
    bed.api.setFaults(s.endpoint, { latency: { kind: 'fixed', ms: 10 } });
    const config = pullConfig(s, { drain: { maxRecords: 1500 } });
    const slot = `a-${s.run}`;
    const first = await worker(config, slot);
    const inFlight = first.scheduled().then(
      () => 'answered',
      () => 'cut',
    );
    await waitUntil(() => bed.api.report(s.endpoint).applied >= 300, {
      timeoutMs: 30_000,
      intervalMs: 10,
      message: '300 records applied',
    });
    await first.kill9();
    expect(await inFlight).toBe('cut');
    const appliedAtKill = bed.api.report(s.endpoint).applied;
    expect(appliedAtKill).toBeLessThan(1500);
    expect(drainReports(first)).toEqual([]);
    expect(await committedNotApplied(bed.api, s)).toEqual([]);
    // The killed drain's consumer instance is still in the group.
    expect(proxy.instances()).toContain(`${s.group}/ferry-${slot}`);

    bed.api.setFaults(s.endpoint, {});
    const second = await worker(config, slot);
    const rounds = await drainToEnd(s, [second]);
    expect(second.output()).toContain('consumer instance left over from an earlier drain, taking it over');
    // A drain may fail only retryably (the next cron event tries again), e.g. the group still
    // rebalancing after the leftover instance left it; every failure is shown.
    const failed = rounds.flat().filter((r) => r.outcome === 'failed');
    for (const f of failed) console.log(`kill mid-drain: a drain failed: ${JSON.stringify(f.error)}`);
    expect(failed.filter((r) => r.error?.retryable !== true)).toEqual([]);
    expectEachAppliedOnce(s);
    const report = bed.api.report(s.endpoint);
    console.log(
      `kill mid-drain: applied ${appliedAtKill} before the kill, ${report.received} requests for ` +
        `${report.applied} events (replays ${report.replays}) over ${rounds.length} more drains`,
    );
  });

  it('two cron events overlapping on one Worker (same slot): one drain takes the instance over, nothing lost or applied twice', async () => {
    const s = await scenario('edge-pull-overlap', 2, 1000);
    bed.api.setFaults(s.endpoint, { latency: { kind: 'fixed', ms: 5 } });
    const w = await worker(pullConfig(s), `a-${s.run}`);
    // A drain that outlives the cron interval meets the next event's drain on the same instance name.
    await Promise.all([w.scheduled(), w.scheduled()]);
    await waitUntil(() => drainReports(w).length >= 2, { timeoutMs: 30_000, message: 'both drain reports' });
    const overlapping = drainReports(w);
    // One of the two ends as taken-over (its instance name now the other's), neither fails.
    expect(overlapping.map((r) => r.outcome)).toContain('taken-over');
    const rounds = await drainToEnd(s, [w]);
    expect([...overlapping, ...rounds.flat()].filter((r) => r.outcome === 'failed')).toEqual([]);
    expectEachAppliedOnce(s);
  });

  it('two Workers on one group, drained concurrently: they share the partitions and together apply every record once', async () => {
    const s = await scenario('edge-pull-two', 4, 2000);
    bed.api.setFaults(s.endpoint, { latency: { kind: 'fixed', ms: 5 } });
    const config = pullConfig(s, { drain: { maxRecords: 1000 } });
    const [a, b] = await Promise.all([worker(config, `a-${s.run}`), worker(config, `b-${s.run}`)]);
    const rounds = await drainToEnd(s, [a, b]);
    const [ofA, ofB] = [0, 1].map((i) => rounds.map((r) => r[i] as LoggedReport));
    expect([...(ofA ?? []), ...(ofB ?? [])].filter((r) => r.outcome === 'failed')).toEqual([]);
    // Both instances were in the group: each handed a share of the records to its relay.
    expect((ofA ?? []).reduce((n, r) => n + r.handed, 0)).toBeGreaterThan(0);
    expect((ofB ?? []).reduce((n, r) => n + r.handed, 0)).toBeGreaterThan(0);
    expectEachAppliedOnce(s);
    const delivered =
      (await a.metric('ferry_records_delivered_total')) + (await b.metric('ferry_records_delivered_total'));
    const report = bed.api.report(s.endpoint);
    // A record delivered by both (a partition that moved mid-drain) reaches the API as a replay at most.
    expect(delivered).toBeGreaterThanOrEqual(2000);
    console.log(
      `two Workers: ${rounds.length} rounds, a handed ${(ofA ?? []).reduce((n, r) => n + r.handed, 0)}, ` +
        `b handed ${(ofB ?? []).reduce((n, r) => n + r.handed, 0)}, ${report.received} requests for ${report.applied} events`,
    );
  });
});
