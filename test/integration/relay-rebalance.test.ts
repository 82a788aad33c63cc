// Two relay instances in one consumer group: a second instance joins mid-run, then the first one
// leaves (SIGTERM). Zero lost, zero duplicate applications at the mock API, per-key order kept.
import { expect, it } from 'vitest';
import {
  metricTotal,
  mockApiSink,
  type RelayProcess,
  relayConfig,
  spawnRelay,
  writeRelayConfig,
} from '../support/relay-process.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { waitFor, waitUntil } from '../support/wait.ts';

const RECORDS = 20_000;
const bed = useRelayTestbed({ api: { recordBodies: false } });

it('a second instance joins mid-run and the first leaves: zero lost, zero duplicates', async () => {
  const run = `reb-${Date.now()}`;
  const topic = await bed.topic('reb', 12);
  const { api, producer } = bed;
  const endpoint = 'rebalance';
  const sink = mockApiSink(api.url, endpoint, { bulkhead: { maxInFlight: 64, buffer: 2000 } });
  const config = (instanceId: string) => writeRelayConfig(relayConfig({ instanceId, topic, sinks: [sink] }));
  await producer.produce(topic, 0, RECORDS / 2, { keys: 400, run, valueBytes: 1000 });
  const a = await spawnRelay({ configPath: config('reb-a') });
  await waitFor(() => api.report(endpoint).applied >= RECORDS / 5, 120_000, 'a quarter applied');
  // Keep producing, paced, while the group changes, and go on until B has delivered records of its own:
  // A alone could otherwise drain everything before B is assigned a partition (seen in CI), and the test
  // would prove nothing about the rebalance. So the total is at least RECORDS, more on a slow machine.
  let bPort: number | undefined;
  let bDelivering = false;
  let produced = RECORDS / 2;
  let abandoned = false;
  const producing = (async () => {
    const chunk = 250;
    const deadline = Date.now() + 120_000;
    while ((produced < RECORDS || !bDelivering) && !abandoned) {
      if (Date.now() > deadline) throw new Error(`b delivered nothing after ${produced} records`);
      await producer.produce(topic, produced, chunk, { keys: 400, run, valueBytes: 1000 });
      produced += chunk;
      if (bPort !== undefined && !bDelivering)
        bDelivering = (await metricTotal(bPort, 'ferry_records_delivered_total')) > 0;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  producing.catch(() => {}); // awaited below; a failure must not surface as an unhandled rejection first
  let b: RelayProcess;
  let deliveredByA: number;
  try {
    b = await spawnRelay({ configPath: config('reb-b') });
    bPort = b.port;
    // Both members work while both are in the group.
    await waitUntil(async () => (await metricTotal(b.port, 'ferry_records_delivered_total')) > 0, {
      timeoutMs: 120_000,
      message: 'b delivered records while a is still in the group',
    });
    deliveredByA = await metricTotal(a.port, 'ferry_records_delivered_total');
    expect(deliveredByA).toBeGreaterThan(0);
    expect(await a.stop()).toBe(0);
    await producing;
  } finally {
    abandoned = true; // on failure: stop producing (on success the loop has already ended)
  }
  const total = produced;
  await waitFor(() => api.report(endpoint).applied >= total, 150_000, `all ${total} applied`);
  await new Promise((r) => setTimeout(r, 1000));
  const deliveredByB = await metricTotal(b.port, 'ferry_records_delivered_total');
  expect(deliveredByB).toBeGreaterThan(0);
  console.log(`rebalance: a delivered ${deliveredByA} before leaving, b delivered ${deliveredByB}`);
  expect(await b.stop()).toBe(0);

  const report = api.report(endpoint);
  const lost = notApplied(api, endpoint, run, total);
  console.log(
    `rebalance: applied=${report.applied} wire duplicates (replays)=${report.replays} ` +
      `order violations=${report.orderViolations}`,
  );
  expect(lost).toEqual([]);
  expect(report.applied).toBe(total);
  expect(report.duplicateApplications).toBe(0);
  expect(report.orderViolations).toBe(0);
});
