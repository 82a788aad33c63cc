// Rough core-only throughput: in-memory source, instant sender, memory dedupe. Not a test; prints figures.
// Usage: node relay/testing/core-throughput.ts [records] [keys]
import { createMemoryDedupeStore } from '../adapters/dedupe-memory.ts';
import { createRelay } from '../core/relay.ts';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from './config.ts';
import { createMemoryDlq, createScriptedSender, waitUntil } from './fakes.ts';
import { createMemorySource, json, text } from './memory-source.ts';

const n = Number(process.argv[2] ?? 100_000);
const keys = Number(process.argv[3] ?? 1000);
const source = createMemorySource({ batchSize: 500 });
const pad = 'x'.repeat(900);
for (let p = 0; p < 12; p++) {
  source.produce(
    'bench',
    p,
    Array.from({ length: n / 12 }, (_, i) => ({
      key: text(`k${(i * 12 + p) % keys}`),
      value: json({ i, p, pad }),
    })),
  );
}
const relay = createRelay({
  config: testConfig({
    commitInterval: '200ms',
    routes: [
      { topics: 'bench', sinks: [testSink('api', { bulkhead: { maxInFlight: 256, buffer: 20000 } })] },
    ],
  }).relay,
  source,
  senders: { api: createScriptedSender(() => ({ kind: 'response', status: 200 })) },
  dedupe: { memory: createMemoryDedupeStore({ instanceId: 'b' }) },
  dlq: createMemoryDlq(),
  metrics: createRegistry(),
  instanceId: 'b',
});
const started = performance.now();
await relay.start();
await waitUntil(
  () => [...source.committed.values()].reduce((a, b) => a + b, 0n) === BigInt(n),
  600_000,
  'all committed',
);
const secs = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    records: n,
    keys,
    seconds: Number(secs.toFixed(2)),
    recordsPerSecond: Math.round(n / secs),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  }),
);
await relay.stop({ deadlineMs: 100 });
