// The relay wired with the Upstash (HTTP) dedupe store, as an edge deployment would run it, through the
// Upstash-protocol gateway in front of the local Redis: every record delivered once, and a second relay
// on the same group after a reset finds them all `done`.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type MockApi, startMockApi } from '../support/mock-api/index.ts';
import { createTopic, createTopicProducer, deleteTopics } from '../support/relay-kafka.ts';
import { lagIsZero, relayDocument, startTestRelay } from '../support/relay-run.ts';
import { REDIS_URL } from '../support/stack-env.ts';
import { startUpstashGateway, type UpstashGateway } from '../support/upstash-gateway.ts';
import { waitUntil } from '../support/wait.ts';

describe('relay with the Upstash dedupe store', () => {
  const topics: string[] = [];
  let api: MockApi | undefined;
  let gateway: UpstashGateway | undefined;
  const producer = createTopicProducer();
  afterAll(async () => {
    await producer.close();
    await api?.stop();
    await gateway?.close();
    await deleteTopics(...topics);
  });

  it('delivers once through the HTTP dedupe store and deduplicates a re-read of the topic', async () => {
    const RECORDS = 400;
    const topic = await createTopic('relay-upstash', 2);
    topics.push(topic);
    const run = randomUUID().slice(0, 8);
    api = await startMockApi({ endpoints: ['edge'] });
    gateway = await startUpstashGateway({ redisUrl: REDIS_URL, token: 'upstash-test-token' });
    await producer.produce(topic, 0, RECORDS, { keys: 40, run });
    const sinkId = `edge-${run}`;
    const doc = (groupId: string) =>
      relayDocument({
        groupId,
        routes: [
          {
            topics: topic,
            sinks: [{ id: sinkId, url: `${api?.url}/edge/{key}`, dedupe: { store: 'upstash' } }],
          },
        ],
        extra: { upstash: { url: gateway?.url, token: gateway?.token } },
      });

    const first = await startTestRelay(doc(`g1-${topic}`), `up1-${run}`);
    try {
      await waitUntil(() => lagIsZero(first.runtime, topic, 2), {
        timeoutMs: 60_000,
        message: 'first pass committed',
      });
      expect(api.report('edge').applied).toBe(RECORDS);
      expect(gateway.requests.some((r) => r.path.includes('pipeline'))).toBe(true);
    } finally {
      await first.stop();
    }

    // A different consumer group reads the same records again: the store already says `done`.
    const second = await startTestRelay(doc(`g2-${topic}`), `up2-${run}`);
    try {
      await waitUntil(() => lagIsZero(second.runtime, topic, 2), {
        timeoutMs: 60_000,
        message: 'second pass committed',
      });
      expect(second.runtime.metrics.value('ferry_records_deduplicated_total', { sink: sinkId })).toBe(
        RECORDS,
      );
      const report = api.report('edge');
      expect(report.received).toBe(RECORDS);
      expect(report.duplicateApplications).toBe(0);
    } finally {
      await second.stop();
    }
  });
});
