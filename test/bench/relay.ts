// Relay benchmark on the real stack (not a test: it prints figures, it asserts nothing).
//   npm run bench:relay [-- --records 100000 --steady-seconds 15 --rate 2000]
// Setup: a fresh 12-partition topic of ~1 KB JSON records, the relay as a child process
// (relay/entry/node.ts: undici sender, Redis dedupe on), one POST per record to the mock API over
// keep-alive (mock API in this process). Phases:
//   0. ceiling: the undici sender straight into the mock API (what DESIGN.md measures the relay against);
//   1. consume-only: the same Kafka client (our Kafka source) reading the backlog with no sink;
//   2. throughput: the relay drains the same backlog into the mock API -> delivered records/s,
//      relay CPU and RSS;
//   3. latency: records produced at a steady rate, produce-to-API latency p50/p99, relay RSS/CPU.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { createUndiciSender } from '../../relay/adapters/http-undici.ts';
import { createKafkaSource } from '../../relay/adapters/kafka-source.ts';
import { startMockApi } from '../support/mock-api/index.ts';
import { createTopic, createTopicProducer, deleteTopics } from '../support/relay-kafka.ts';
import { relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { watchProc } from './proc-stats.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    'steady-seconds': { type: 'string', default: '15' },
    rate: { type: 'string', default: '2000' },
    'max-in-flight': { type: 'string', default: '128' },
    keys: { type: 'string', default: '10000' },
    'relay-node-options': { type: 'string', default: '' },
  },
});
const RECORDS = Number(values.records);
const STEADY_SECONDS = Number(values['steady-seconds']);
const RATE = Number(values.rate);
const MAX_IN_FLIGHT = Number(values['max-in-flight']);
const KEYS = Number(values.keys);
const VALUE_BYTES = 1000;
const RELAY_NODE_OPTIONS = values['relay-node-options'];

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const run = `bench-${Date.now()}`;
const topic = await createTopic('bench', 12);
const producer = createTopicProducer();
const api = await startMockApi({ recordBodies: false });
const endpoint = 'bench';
api.configure(endpoint, { latencyField: 'producedAt' });
console.log(
  `setup: node ${process.version}, ${RECORDS} records of ~${VALUE_BYTES} B, topic ${topic} (12 partitions), ` +
    `${KEYS} keys, dedupe: Redis (onUnavailable=block), sink: 1 POST per record to the mock API over keep-alive ` +
    `(undici, maxInFlight ${MAX_IN_FLIGHT}), relay as a child process (NODE_OPTIONS='${RELAY_NODE_OPTIONS}'); ` +
    `Kafka, Redis, mock API and producer share the same 2 cores; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);

try {
  // Backlog.
  let t = Date.now();
  await producer.produce(topic, 0, RECORDS, { keys: KEYS, run, valueBytes: VALUE_BYTES });
  console.log(`produced backlog: ${RECORDS} records in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // 0. The ceiling the relay is measured against: undici -> mock API, 1 KB POSTs, same concurrency, no relay.
  {
    const sender = createUndiciSender({ connections: MAX_IN_FLIGHT });
    const body = new TextEncoder().encode(JSON.stringify({ key: 'k', pad: 'x'.repeat(VALUE_BYTES - 20) }));
    let ok = 0;
    let n = 0;
    const end = Date.now() + 5_000;
    const t0 = Date.now();
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
    await sender.close();
    console.log(
      `ceiling (undici -> mock API, no relay, ${MAX_IN_FLIGHT} concurrent): ${Math.round(ok / ((Date.now() - t0) / 1000))} requests/s; load average ${load()}`,
    );
  }

  // 1. Consume-only, same client, no sink.
  {
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
    t = Date.now();
    while (seen < RECORDS && Date.now() - t < 120_000) await sleep(20);
    await source.stop();
    const secs = (last - first) / 1000;
    console.log(
      `consume-only (Kafka source, no sink): ${Math.round(seen / secs)} records/s (${seen} in ${secs.toFixed(2)} s)`,
    );
  }

  // 2. Throughput: the relay drains the backlog.
  const config = writeRelayConfig(
    relayConfig({
      instanceId: 'bench-1',
      groupId: `relay-${topic}`,
      topic,
      dlqTopic: `dlq-${topic}`,
      commitInterval: '1s',
      sinks: [
        {
          id: endpoint,
          url: `${api.url}/${endpoint}`,
          timeout: '5s',
          bulkhead: { maxInFlight: MAX_IN_FLIGHT, buffer: 4000 },
          dedupe: { store: 'redis', ttl: '1h', lease: '30s', onUnavailable: 'block' },
        },
      ],
    }),
  );
  const relay = await spawnRelay({ configPath: config, env: { NODE_OPTIONS: RELAY_NODE_OPTIONS } });
  try {
    const ledger = api.ledger(endpoint);
    let proc = watchProc(relay.pid);
    t = Date.now();
    while (ledger.appliedKeys.length === 0 && Date.now() - t < 30_000) await sleep(5);
    const start = Date.now();
    while (ledger.appliedKeys.length < RECORDS && Date.now() - start < 300_000) await sleep(20);
    const secs = (Date.now() - start) / 1000;
    let stats = proc.stop();
    const report = api.report(endpoint);
    console.log(
      `throughput: ${Math.round(report.applied / secs)} delivered records/s (${report.applied} in ${secs.toFixed(2)} s), ` +
        `relay CPU ${stats.cpuCores.toFixed(2)} cores (${Math.round((stats.cpuCores * secs * 1e6) / Math.max(1, report.applied))} µs CPU per record), ` +
        `peak RSS ${mb(stats.peakRssBytes)}; replays ${report.replays}, order violations ${report.orderViolations}; load average ${load()}`,
    );

    // 3. Latency at a steady rate.
    ledger.latencies.length = 0;
    await sleep(1500);
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
    const target = produced;
    t = Date.now();
    while (ledger.appliedKeys.length < target && Date.now() - t < 60_000) await sleep(20);
    stats = proc.stop();
    const lat = [...ledger.latencies].sort((a, b) => a - b);
    const actualRate = (produced - RECORDS) / STEADY_SECONDS;
    console.log(
      `latency at a steady ${Math.round(actualRate)} records/s for ${STEADY_SECONDS} s (${lat.length} records): ` +
        `produce-to-API p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${lat.at(-1)} ms; ` +
        `relay CPU ${stats.cpuCores.toFixed(2)} cores, peak RSS ${mb(stats.peakRssBytes)}; load average ${load()}`,
    );
  } finally {
    await relay.stop();
  }
} finally {
  await producer.close();
  await api.stop();
  await deleteTopics(topic);
}
