// The edge relay measured against the long-lived one, in the same run on the same machine: bundle
// sizes, cold start of the bundled Worker on workerd (spawn to the first 200 on /healthz, and that
// first request's own time), and a push drain of the same records into each: the Worker on workerd
// and the Node relay's push source, same config (memory dedupe, DLQ URL), same mock API. Reports
// records/s and the relay process's CPU per record (/proc). Usage: node test/bench/edge.ts [records]
import { BUNDLE_BUDGET_BYTES, buildEdge } from '../../deploy/edge/build.ts';
import { partitionBatches, pushUntilCommitted } from '../support/edge-push.ts';
import { startEdgeWorker } from '../support/edge-worker.ts';
import { startMockApi } from '../support/mock-api/index.ts';
import { numberedValue } from '../support/relay-kafka.ts';
import { spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { sampleProc } from './proc-stats.ts';

const RECORDS = Number(process.argv[2] ?? 5000);
const PARTITIONS = 4;
const BATCH = 500;
const TOKEN = 'bench-push-token-0123456789';

const bundles = await buildEdge();
for (const b of bundles)
  console.log(
    `bundle ${b.target}: ${(b.bytes / 1024).toFixed(1)} KiB minified (budget ${BUNDLE_BUDGET_BYTES / 1024} KiB)`,
  );

const api = await startMockApi({ endpoints: [] });
const config = (run: string) => ({
  listen: { port: 0, host: '127.0.0.1' },
  source: 'push',
  push: { token: TOKEN, unsigned: true, timeout: '60s' },
  dlq: { to: 'url', url: `${api.url}/dlq-${run}` },
  commitInterval: '20ms',
  routes: [
    {
      topics: `bench.${run}`,
      sinks: [{ id: run, url: `${api.url}/${run}`, dedupe: { store: 'memory' } }],
    },
  ],
});
const records = (run: string) =>
  Array.from({ length: RECORDS }, (_, i) => {
    const { key, value } = numberedValue(run, i, 100, 200);
    return {
      topic: `bench.${run}`,
      partition: i % PARTITIONS,
      offset: Math.floor(i / PARTITIONS),
      key,
      valueText: value,
      headers: { 'ferry-event-id': `${run}-${i}` },
    };
  });

async function drain(name: string, url: string, pid: number, run: string) {
  const batches = partitionBatches(records(run), BATCH);
  const byPartition = new Map<number, typeof batches>();
  for (const b of batches) byPartition.set(b[0]!.partition, [...(byPartition.get(b[0]!.partition) ?? []), b]);
  const before = sampleProc(pid);
  const t0 = performance.now();
  await Promise.all(
    [...byPartition.values()].map(async (list) => {
      for (const batch of list) await pushUntilCommitted(() => url, TOKEN, batch, { timeoutMs: 120_000 });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const after = sampleProc(pid);
  const applied = api.report(run).applied;
  const cpu = (after?.cpuSeconds ?? 0) - (before?.cpuSeconds ?? 0);
  console.log(
    `${name.padEnd(8)} ${applied}/${RECORDS} applied in ${seconds.toFixed(2)} s: ${(RECORDS / seconds).toFixed(0)} records/s, ` +
      `relay CPU ${cpu.toFixed(2)} s = ${((cpu / RECORDS) * 1e6).toFixed(0)} µs/record, RSS ${((after?.rssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
  );
  if (applied !== RECORDS) throw new Error(`${name}: ${applied} of ${RECORDS} applied`);
}

const colds: string[] = [];
for (let i = 0; i < 3; i++) {
  const w = await startEdgeWorker({
    bindings: { FERRY_CONFIG: JSON.stringify(config(`cold${i}`)), FERRY_LOG: 'quiet' },
  });
  colds.push(`${w.coldStartMs.toFixed(0)} ms (first request ${w.firstRequestMs.toFixed(0)} ms)`);
  await w.kill9();
}
console.log(`workerd cold start, spawn to first 200 on /healthz: ${colds.join(', ')}`);

for (let round = 1; round <= 2; round++) {
  const w = await startEdgeWorker({
    bindings: { FERRY_CONFIG: JSON.stringify(config(`w${round}`)), FERRY_LOG: 'quiet' },
  });
  await drain('workerd', w.url, w.pid, `w${round}`);
  await w.kill9();
  const node = await spawnRelay({ configPath: writeRelayConfig(config(`n${round}`)), runtime: 'node' });
  await drain('node', `http://127.0.0.1:${node.port}`, node.pid, `n${round}`);
  await node.stop();
}
await api.stop();
