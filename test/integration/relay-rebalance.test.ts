// Two relay instances in one consumer group: a second instance joins mid-run, then the first one
// leaves (SIGTERM). Zero lost, zero duplicate applications at the mock API, per-key order kept.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type MockApi, startMockApi } from '../support/mock-api/index.ts';
import { createTopic, createTopicProducer, deleteTopics } from '../support/relay-kafka.ts';
import { metricTotal, relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { waitFor, waitUntil } from '../support/wait.ts';

const RECORDS = 20_000;
let api: MockApi;
const producer = createTopicProducer();
const topics: string[] = [];
beforeAll(async () => {
  api = await startMockApi({ recordBodies: false });
});
afterAll(async () => {
  await producer.close();
  await api.stop();
  await deleteTopics(...topics);
});

it('a second instance joins mid-run and the first leaves: zero lost, zero duplicates', async () => {
  const run = `reb-${Date.now()}`;
  const topic = await createTopic('reb', 12);
  topics.push(topic);
  const endpoint = 'rebalance';
  const config = (instanceId: string) =>
    writeRelayConfig(
      relayConfig({
        instanceId,
        groupId: `g-${topic}`,
        topic,
        dlqTopic: `dlq-${topic}`,
        sinks: [
          {
            id: endpoint,
            url: `${api.url}/${endpoint}`,
            timeout: '5s',
            bulkhead: { maxInFlight: 64, buffer: 2000 },
            dedupe: { store: 'redis', ttl: '1h', lease: '5s', onUnavailable: 'block' },
          },
        ],
      }),
    );
  await producer.produce(topic, 0, RECORDS / 2, { keys: 400, run, valueBytes: 1000 });
  const a = await spawnRelay({ configPath: config('reb-a') });
  await waitFor(() => api.report(endpoint).applied >= RECORDS / 5, 120_000, 'a quarter applied');
  // Keep producing, paced, while the group changes: A alone could otherwise drain everything before B
  // is assigned a partition (seen in CI), and the test would prove nothing about the rebalance.
  const producing = (async () => {
    const chunk = 250;
    for (let from = RECORDS / 2; from < RECORDS; from += chunk) {
      await producer.produce(topic, from, chunk, { keys: 400, run, valueBytes: 1000 });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const b = await spawnRelay({ configPath: config('reb-b') });
  // Both members work while both are in the group.
  await waitUntil(async () => (await metricTotal(b.port, 'ferry_records_delivered_total')) > 0, {
    timeoutMs: 60_000,
    message: 'b delivered records while a is still in the group',
  });
  const deliveredByA = await metricTotal(a.port, 'ferry_records_delivered_total');
  expect(deliveredByA).toBeGreaterThan(0);
  expect(await a.stop()).toBe(0);
  await producing;
  await waitFor(() => api.report(endpoint).applied >= RECORDS, 150_000, `all ${RECORDS} applied`);
  await new Promise((r) => setTimeout(r, 1000));
  const deliveredByB = await metricTotal(b.port, 'ferry_records_delivered_total');
  expect(deliveredByB).toBeGreaterThan(0);
  console.log(`rebalance: a delivered ${deliveredByA} before leaving, b delivered ${deliveredByB}`);
  expect(await b.stop()).toBe(0);

  const report = api.report(endpoint);
  const applied = new Set(api.ledger(endpoint).appliedKeys);
  const lost = Array.from({ length: RECORDS }, (_, i) => `${run}-${i}`).filter((id) => !applied.has(id));
  console.log(
    `rebalance: applied=${report.applied} wire duplicates (replays)=${report.replays} ` +
      `order violations=${report.orderViolations}`,
  );
  expect(lost).toEqual([]);
  expect(report.applied).toBe(RECORDS);
  expect(report.duplicateApplications).toBe(0);
  expect(report.orderViolations).toBe(0);
});
