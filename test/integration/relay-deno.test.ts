// The integration smoke under Deno: relay/entry/deno.ts (fetch senders, Deno.serve) run with the
// project's Deno, real Kafka and Redis, a few hundred records delivered end to end.
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

it('delivers a few hundred records end to end under Deno', async () => {
  const run = `deno-${Date.now()}`;
  const topic = await createTopic('deno', 3);
  topics.push(topic);
  const config = writeRelayConfig(
    relayConfig({
      instanceId: 'deno-1',
      groupId: `g-${topic}`,
      topic,
      dlqTopic: `dlq-${topic}`,
      sinks: [
        {
          id: 'deno-sink',
          url: `${api.url}/deno-sink`,
          timeout: '5s',
          dedupe: { store: 'redis', ttl: '1h', lease: '5s', onUnavailable: 'block' },
        },
      ],
    }),
  );
  const relay = await spawnRelay({ configPath: config, runtime: 'deno', startTimeoutMs: 90_000 });
  try {
    await producer.produce(topic, 0, 300, { keys: 30, run });
    const end = Date.now() + 60_000;
    while (api.report('deno-sink').applied < 300 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    const report = api.report('deno-sink');
    expect(report.applied).toBe(300);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    const first = api.ledger('deno-sink').requests[0]!;
    expect(first.method).toBe('POST');
    expect(first.idempotencyKey).toMatch(new RegExp(`^${run}-`));
    expect(JSON.parse(first.body!)).toMatchObject({ run });
    expect(await metricTotal(relay.port, 'ferry_records_delivered_total')).toBe(300);
  } finally {
    expect(await relay.stop()).toBe(0);
  }
});
