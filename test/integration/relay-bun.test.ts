// The integration smoke under Bun: relay/entry/bun.ts (fetch senders, Bun.serve) with the project's
// Bun, real Kafka and Redis, a few hundred records delivered end to end, then a graceful SIGTERM.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type MockApi, startMockApi } from '../support/mock-api/index.ts';
import { createTopic, createTopicProducer, deleteTopics } from '../support/relay-kafka.ts';
import { metricTotal, relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';

let api: MockApi;
const producer = createTopicProducer();
const topics: string[] = [];
beforeAll(async () => {
  api = await startMockApi({ recordBodies: true });
});
afterAll(async () => {
  await producer.close();
  await api.stop();
  await deleteTopics(...topics);
});

it('delivers a few hundred records end to end under Bun', async () => {
  const run = `bun-${Date.now()}`;
  const topic = await createTopic('bun', 3);
  topics.push(topic);
  const config = writeRelayConfig(
    relayConfig({
      instanceId: 'bun-1',
      groupId: `g-${topic}`,
      topic,
      dlqTopic: `dlq-${topic}`,
      sinks: [
        {
          id: 'bun-sink',
          url: `${api.url}/bun-sink/{key}`,
          timeout: '5s',
          dedupe: { store: 'redis', lease: '10s' },
        },
      ],
    }),
  );
  const relay = await spawnRelay({ configPath: config, runtime: 'bun' });
  let exitCode: number | null = null;
  try {
    await producer.produce(topic, 0, 300, { keys: 30, run });
    const end = Date.now() + 60_000;
    while (api.report('bun-sink').applied < 300 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    const report = api.report('bun-sink');
    expect(report.applied).toBe(300);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    expect(api.ledger('bun-sink').requests[0]?.idempotencyKey).toMatch(new RegExp(`^${run}-`));
    expect(await metricTotal(relay.port, 'ferry_records_delivered_total')).toBe(300);
  } finally {
    exitCode = await relay.stop();
  }
  expect(exitCode).toBe(0);
  expect(relay.events()).toContain('stopped');
});
