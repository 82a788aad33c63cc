// Relay benchmark on the real stack (not a test: it prints figures, it asserts nothing).
//   npm run bench:relay [-- --records 100000 --steady-seconds 15 --rate 2000 --runtimes node,bun,deno --mock bun]
// Setup: ~1 KB JSON records on 12-partition topics, the relay as a child process (Node: undici sender;
// Bun and Deno: fetch), Redis dedupe on, one POST per record to the mock API over keep-alive. The mock
// API runs in its own process (Bun.serve under Bun, node:http under Node) so its CPU is measured apart
// from the relay's and from this process (producer, client of the ceiling phase). Phases:
//   0. ceiling, per mock server runtime: undici straight into the mock API (the floor docs/architecture.md#runtimes
//      measures the relay against), with the CPU per request of the server and of the client;
//   1. consume-only: the relay's Kafka source reading the backlog with no sink;
//   then per relay runtime, on a fresh topic with the same backlog:
//   2. throughput: the relay drains the backlog into the mock API -> delivered records/s, relay CPU
//      (cores and µs per record), peak RSS, mock API CPU per request;
//   3. latency: records produced at a steady rate, produce-to-API p50/p99, relay CPU and RSS.
// The machine is shared (Kafka, Redis, other work): CPU per record and ratios within one run are the
// steadier figures; every line prints the load average.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { pidFile } from '../../deploy/local/process.ts';
import { createUndiciSender } from '../../relay/adapters/http-undici.ts';
import { createKafkaSource } from '../../relay/adapters/kafka-source.ts';
import { createMockApiClient, type MockApiClient } from '../support/mock-api/client.ts';
import { type MockApiProcess, spawnMockApi } from '../support/mock-api/process.ts';
import { createTopic, createTopicProducer, deleteTopics } from '../support/relay-kafka.ts';
import { relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { accountCpu, type CpuAccount, describeAccount } from './machine-cpu.ts';
import { sampleProc, watchProc } from './proc-stats.ts';

type Runtime = 'node' | 'bun' | 'deno';
type Server = 'node' | 'bun';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    'steady-seconds': { type: 'string', default: '15' },
    rate: { type: 'string', default: '2000' },
    'max-in-flight': { type: 'string', default: '128' },
    keys: { type: 'string', default: '10000' },
    runtimes: { type: 'string', default: 'node,bun,deno' },
    mock: { type: 'string', default: 'bun' },
    'ceiling-servers': { type: 'string', default: 'node,bun' },
    'ceiling-seconds': { type: 'string', default: '5' },
    'relay-node-options': { type: 'string', default: '' },
    // Space-separated runtime flags for the Bun relay (e.g. --smol, --cpu-prof).
    'relay-bun-flags': { type: 'string', default: '' },
    // For the Deno relay; the default is what `deno task relay` (deno.json) runs it with.
    'relay-deno-flags': {
      type: 'string',
      default: '--v8-flags=--max-old-space-size=160,--max-semi-space-size=8',
    },
    // Another checkout (e.g. a `git worktree` of an earlier commit): its relay runs too, on the same
    // runtimes, labelled `<runtime>@base`, for a before/after in one run.
    'baseline-root': { type: 'string' },
  },
});
const RECORDS = Number(values.records);
const STEADY_SECONDS = Number(values['steady-seconds']);
const RATE = Number(values.rate);
const MAX_IN_FLIGHT = Number(values['max-in-flight']);
const KEYS = Number(values.keys);
const VALUE_BYTES = 1000;
const RUNTIMES = values.runtimes.split(',').filter(Boolean) as Runtime[];
const MOCK = values.mock as Server;
const CEILING_SERVERS = values['ceiling-servers'].split(',').filter(Boolean) as Server[];
const CEILING_SECONDS = Number(values['ceiling-seconds']);
const RELAY_NODE_OPTIONS = values['relay-node-options'];
const BASELINE_ROOT = values['baseline-root'];
const RELAY_BUN_FLAGS = values['relay-bun-flags'].split(' ').filter(Boolean);
const RELAY_DENO_FLAGS = values['relay-deno-flags'].split(' ').filter(Boolean);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const cpuOf = (pid: number) => sampleProc(pid)?.cpuSeconds ?? 0;
/** The local stack's processes (their pid files), for the machine's CPU account. */
const stackPid = (name: string): number | undefined => {
  try {
    return Number(readFileSync(pidFile(name), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
};
const startMock = (server: Server) =>
  spawnMockApi(['--no-record-bodies'], { runtime: server === 'bun' ? 'bun' : 'node' });

const run = `bench-${Date.now()}`;
const producer = createTopicProducer();
const topics: string[] = [];
console.log(
  `setup: node ${process.version}, ${RECORDS} records of ~${VALUE_BYTES} B per relay runtime (fresh 12-partition topic each), ` +
    `${KEYS} keys, dedupe: Redis (onUnavailable=block), sink: 1 POST per record over keep-alive ` +
    `(maxInFlight ${MAX_IN_FLIGHT}; Node relay: undici, Bun/Deno relay: fetch), relay as a child process ` +
    `(runtimes ${RUNTIMES.join(', ')}; Node relay NODE_OPTIONS='${RELAY_NODE_OPTIONS}', Bun relay flags '${RELAY_BUN_FLAGS.join(' ')}', Deno relay flags '${RELAY_DENO_FLAGS.join(' ')}'` +
    `${BASELINE_ROOT === undefined ? '' : `; each preceded by the relay of ${BASELINE_ROOT} as <runtime>@base`}), mock API in its own process ` +
    `(server for the relay phases: ${MOCK}); Kafka, Redis, mock API, producer and relay share the same 2 cores; ` +
    `load average ${load()}`,
);

async function backlog(): Promise<string> {
  const topic = await createTopic('bench', 12);
  topics.push(topic);
  const t = Date.now();
  await producer.produce(topic, 0, RECORDS, { keys: KEYS, run, valueBytes: VALUE_BYTES });
  console.log(
    `produced backlog: ${RECORDS} records into ${topic} in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  return topic;
}

interface Ceiling {
  readonly rps: number;
  readonly serverUs: number;
  readonly clientUs: number;
}

/** undici -> mock API, 1 KB POSTs, same concurrency as the relay, no relay. */
async function ceiling(server: Server): Promise<Ceiling> {
  const api = await startMock(server);
  try {
    const sender = createUndiciSender({ connections: MAX_IN_FLIGHT });
    const body = new TextEncoder().encode(
      JSON.stringify({ key: 'k', seq: 0, producedAt: Date.now(), pad: 'x'.repeat(VALUE_BYTES - 60) }),
    );
    let ok = 0;
    let n = 0;
    const serverCpu0 = cpuOf(api.child.pid!);
    const clientCpu0 = process.cpuUsage();
    const t0 = Date.now();
    const end = t0 + CEILING_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: MAX_IN_FLIGHT }, async () => {
        while (Date.now() < end) {
          const r = await sender.send({
            url: `${api.url}/ceiling`,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': `c${n++}` },
            body,
            timeoutMs: 5_000,
          });
          if (r.kind === 'response' && r.status === 200) ok++;
        }
      }),
    );
    const secs = (Date.now() - t0) / 1000;
    const serverUs = ((cpuOf(api.child.pid!) - serverCpu0) * 1e6) / Math.max(1, ok);
    const client = process.cpuUsage(clientCpu0);
    const clientUs = (client.user + client.system) / Math.max(1, ok);
    await sender.close();
    const rps = Math.round(ok / secs);
    console.log(
      `ceiling, mock API on ${server}: ${rps} requests/s (undici -> mock API, no relay, ${MAX_IN_FLIGHT} concurrent, ${secs.toFixed(1)} s); ` +
        `CPU per request: server ${serverUs.toFixed(0)} µs, undici client ${clientUs.toFixed(0)} µs; load average ${load()}`,
    );
    return { rps, serverUs, clientUs };
  } finally {
    await api.stop();
  }
}

async function consumeOnly(topic: string): Promise<void> {
  let seen = 0;
  let first = 0;
  let last = 0;
  const source = createKafkaSource({
    brokers: [KAFKA_BOOTSTRAP],
    groupId: `consume-only-${topic}`,
    topics: [topic],
  });
  await source.start({
    onRecords(records) {
      if (first === 0) first = Date.now();
      seen += records.length;
      last = Date.now();
    },
    onRevoked: async () => {},
    onAssigned: () => {},
  });
  const t = Date.now();
  while (seen < RECORDS && Date.now() - t < 120_000) await sleep(20);
  await source.stop();
  const secs = (last - first) / 1000;
  console.log(
    `consume-only (Kafka source, no sink): ${Math.round(seen / secs)} records/s (${seen} in ${secs.toFixed(2)} s); load average ${load()}`,
  );
}

interface RuntimeResult {
  readonly runtime: string;
  readonly delivered: number;
  readonly cores: number;
  readonly usPerRecord: number;
  readonly mockUs: number;
  /** The machine's CPU over the drain: per process and in all. */
  readonly account: CpuAccount;
  readonly drained: number;
  readonly rss: number;
  readonly p50: number;
  readonly p99: number;
  readonly steadyCores: number;
  readonly steadyRss: number;
  readonly load: string;
}

async function waitApplied(client: MockApiClient, endpoint: string, target: number, timeoutMs: number) {
  const t = Date.now();
  let applied = 0;
  while (Date.now() - t < timeoutMs) {
    applied = (await client.progress(endpoint)).applied;
    if (applied >= target) break;
    await sleep(20);
  }
  return applied;
}

async function relayRun(
  runtime: Runtime,
  topic: string,
  api: MockApiProcess,
  root: string | undefined,
  round: number,
): Promise<RuntimeResult> {
  const client = createMockApiClient(api.url);
  const label = root === undefined ? runtime : `${runtime}@base`;
  // A runtime listed twice (interleaved A/B rounds) gets a fresh endpoint each time: the mock API's
  // counts are per endpoint.
  const endpoint = `bench-${runtime}${root === undefined ? '' : '-base'}${round === 0 ? '' : `-${round}`}`;
  await client.configure(endpoint, { latencyField: 'producedAt' });
  const config = writeRelayConfig(
    relayConfig({
      instanceId: endpoint,
      groupId: `relay-${topic}`,
      topic,
      dlqTopic: `dlq-${topic}`,
      commitInterval: '1s',
      sinks: [
        {
          id: endpoint,
          url: `${api.url}/${endpoint}`,
          timeout: '5s',
          bulkhead: { maxInFlight: MAX_IN_FLIGHT, buffer: 2000 }, // the default buffer
          dedupe: { store: 'redis', ttl: '1h', lease: '30s', onUnavailable: 'block' },
        },
      ],
    }),
  );
  const relay = await spawnRelay({
    configPath: config,
    runtime,
    env: runtime === 'node' ? { NODE_OPTIONS: RELAY_NODE_OPTIONS } : {},
    ...(root === undefined ? {} : { root }),
    ...(runtime === 'bun' ? { runtimeArgs: RELAY_BUN_FLAGS } : {}),
    ...(runtime === 'deno' ? { runtimeArgs: RELAY_DENO_FLAGS } : {}),
  });
  try {
    // 2. Throughput: the relay drains the backlog.
    let proc = watchProc(relay.pid);
    await waitApplied(client, endpoint, 1, 30_000);
    const machine = accountCpu(
      new Map([
        ['relay', relay.pid],
        ['mock API', api.child.pid],
        ['Kafka', stackPid('kafka')],
        ['Connect', stackPid('connect')],
        ['Redis', stackPid('redis')],
        ['PostgreSQL', stackPid('postgres')],
        ['bench', process.pid],
      ]),
    );
    const start = Date.now();
    const applied0 = (await client.progress(endpoint)).applied;
    await waitApplied(client, endpoint, RECORDS, 300_000);
    const secs = (Date.now() - start) / 1000;
    let stats = proc.stop();
    const account = machine.stop();
    const report = await client.report(endpoint);
    const drained = report.applied - applied0;
    const delivered = Math.round(drained / secs);
    const usPerRecord = (stats.cpuCores * secs * 1e6) / Math.max(1, drained);
    const mockUs = ((account.byName.get('mock API') ?? 0) * 1e6) / Math.max(1, drained);
    const throughputLoad = load();
    console.log(
      `[${label}] throughput: ${delivered} delivered records/s (${report.applied} in ${secs.toFixed(2)} s), ` +
        `relay CPU ${stats.cpuCores.toFixed(2)} cores (${usPerRecord.toFixed(0)} µs CPU per record), peak RSS ${mb(stats.peakRssBytes)}; ` +
        `mock API ${mockUs.toFixed(0)} µs CPU per request; replays ${report.replays}, order violations ${report.orderViolations}, ` +
        `duplicate applications ${report.duplicateApplications}; load average ${throughputLoad}`,
    );
    console.log(
      `[${label}] CPU per delivered record over the drain, µs: ${describeAccount(account, drained)}`,
    );
    const rss = stats.peakRssBytes;
    const cores = stats.cpuCores;

    // 3. Latency at a steady rate.
    await sleep(1500);
    await client.clearLatencies(endpoint);
    proc = watchProc(relay.pid);
    const tick = 50;
    const perTick = Math.round((RATE * tick) / 1000);
    let produced = RECORDS;
    const steadyEnd = Date.now() + STEADY_SECONDS * 1000;
    let next = Date.now();
    while (Date.now() < steadyEnd) {
      await producer.produce(topic, produced, perTick, { keys: KEYS, run, valueBytes: VALUE_BYTES });
      produced += perTick;
      next += tick;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
    }
    await waitApplied(client, endpoint, produced, 60_000);
    stats = proc.stop();
    const lat = (await client.latencies(endpoint)).sort((a, b) => a - b);
    const actualRate = (produced - RECORDS) / STEADY_SECONDS;
    const p50 = pct(lat, 50);
    const p99 = pct(lat, 99);
    console.log(
      `[${label}] latency at a steady ${Math.round(actualRate)} records/s for ${STEADY_SECONDS} s (${lat.length} records): ` +
        `produce-to-API p50 ${p50} ms, p99 ${p99} ms, max ${lat.at(-1)} ms; ` +
        `relay CPU ${stats.cpuCores.toFixed(2)} cores, peak RSS ${mb(stats.peakRssBytes)}; load average ${load()}`,
    );
    return {
      runtime: label,
      delivered,
      cores,
      usPerRecord,
      mockUs,
      account,
      drained,
      rss: Math.max(rss, stats.peakRssBytes),
      p50,
      p99,
      steadyCores: stats.cpuCores,
      steadyRss: stats.peakRssBytes,
      load: throughputLoad,
    };
  } finally {
    await relay.stop();
  }
}

const ceilings = new Map<Server, Ceiling>();
const results: RuntimeResult[] = [];
try {
  for (const server of CEILING_SERVERS) ceilings.set(server, await ceiling(server));
  const first = await backlog();
  await consumeOnly(first);
  const api = await startMock(MOCK);
  try {
    let fresh: string | undefined = first;
    const rounds = new Map<Runtime, number>();
    for (const runtime of RUNTIMES) {
      const round = rounds.get(runtime) ?? 0;
      rounds.set(runtime, round + 1);
      for (const root of BASELINE_ROOT === undefined ? [undefined] : [BASELINE_ROOT, undefined]) {
        const topic = fresh ?? (await backlog());
        fresh = undefined;
        results.push(await relayRun(runtime, topic, api, root, round));
      }
    }
  } finally {
    await api.stop();
  }
} finally {
  await producer.close();
  await deleteTopics(...topics);
}

const ref = ceilings.get(MOCK);
console.log(
  `\nsummary (mock API on ${MOCK}${ref ? `, its ceiling ${ref.rps} req/s` : ''}; ` +
    `ceilings: ${[...ceilings].map(([s, c]) => `${s} ${c.rps} req/s (server ${c.serverUs.toFixed(0)} µs/req)`).join(', ')})`,
);
console.log(
  'runtime   delivered/s  vs ceiling  relay cores  µs CPU/record  mock µs/req  peak RSS  p50@steady  p99@steady  load average',
);
for (const r of results) {
  console.log(
    `${r.runtime.padEnd(9)} ${String(r.delivered).padStart(11)}  ${ref ? `${((100 * r.delivered) / ref.rps).toFixed(0)}%`.padStart(10) : '         -'}  ` +
      `${r.cores.toFixed(2).padStart(11)}  ${r.usPerRecord.toFixed(0).padStart(13)}  ${r.mockUs.toFixed(0).padStart(11)}  ` +
      `${mb(r.rss).padStart(8)}  ${`${r.p50} ms`.padStart(10)}  ${`${r.p99} ms`.padStart(10)}  ${r.load}`,
  );
}

// The machine's budget: at TARGET records/s, `cores` cores give cores * 1e6 / TARGET µs of CPU per record
// to everything (relay, mock API, Kafka, Redis, ...). What the relay's neighbours used per record, plus
// the bare HTTP client of the ceiling phase, bounds what any relay could deliver here.
const TARGET = 20_000;
const clientUs = ref?.clientUs;
for (const r of results) {
  const { account } = r;
  const per = (s: number) => (s * 1e6) / Math.max(1, r.drained);
  const relayUs = per(account.byName.get('relay') ?? 0);
  // Only the stack and the mock API: this bench process and unattributed time (other work on a shared
  // machine, interrupts) are left out, so the bound errs in the relay's favour.
  const outsideUs = [...account.byName]
    .filter(([name]) => name !== 'relay' && name !== 'bench')
    .reduce((sum, [, s]) => sum + per(s), 0);
  const budgetUs = (account.cores * 1e6) / TARGET;
  const bound =
    clientUs === undefined
      ? ''
      : `; a relay costing no more than the bare undici client (${clientUs.toFixed(0)} µs/request) would top out near ` +
        `${Math.round((account.cores * 1e6) / (outsideUs + clientUs))} records/s`;
  console.log(
    `budget ${r.runtime}: at ${TARGET} records/s the ${account.cores} cores give ${budgetUs.toFixed(0)} µs of CPU per record to everything; ` +
      `the mock API and the stack used ${outsideUs.toFixed(0)} µs per delivered record, the relay ${relayUs.toFixed(0)} µs${bound}`,
  );
}
