// The HTTP push source wired by config (`source: push`), as an edge deployment feeds the relay: batches
// POSTed to /push/batches are delivered through the real Redis dedupe and the Kafka DLQ writer, and each
// answer comes once every record of the batch is terminal.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { endOffsets, readTopic } from '../support/kafka.ts';
import { type MockApi, startMockApi } from '../support/mock-api/index.ts';
import { relayDocument, startTestRelay } from '../support/relay-run.ts';

const PUSH_TOKEN = 'push-token-for-the-test-0123';

describe('relay fed by the HTTP push source', () => {
  let api: MockApi | undefined;
  afterAll(async () => {
    await api?.stop();
  });

  it('delivers pushed batches, dead-letters a malformed record, and acknowledges a re-push without re-delivery', async () => {
    const run = randomUUID().slice(0, 8);
    const topic = `push.${run}`;
    api = await startMockApi({ endpoints: ['edge'] });
    const dlqStart = await endOffsets('dlq.relay').catch(() => new Map<number, bigint>());
    const relay = await startTestRelay(
      relayDocument({
        groupId: `g-${run}`,
        routes: [
          {
            topics: topic,
            sinks: [{ id: `edge-${run}`, url: `${api.url}/edge/{key}`, dedupe: { store: 'redis' } }],
          },
        ],
        extra: { source: 'push', push: { token: PUSH_TOKEN } },
      }),
      `push-${run}`,
    );
    const push = (records: unknown[]) =>
      relay.runtime.app.request('/push/batches', {
        method: 'POST',
        headers: { authorization: `Bearer ${PUSH_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
      });
    try {
      const batch: Array<Record<string, unknown>> = Array.from({ length: 50 }, (_, i) => ({
        topic,
        partition: i % 2,
        offset: Math.floor(i / 2),
        key: `k${i % 5}`,
        value: { key: `k${i % 5}`, seq: Math.floor(i / 5), run },
        headers: { 'ferry-event-id': `${run}-${i}` },
      }));
      const { value: _dropped, ...seventh } = batch[7] as Record<string, unknown>;
      batch[7] = { ...seventh, valueText: '{"broken":' };
      const res = await push(batch);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'committed', accepted: 50, alreadyDone: 0 });
      expect(api.report('edge').applied).toBe(49);

      const again = await push(batch);
      expect(await again.json()).toMatchObject({ status: 'committed', alreadyDone: 50 });
      expect(api.report('edge').received).toBe(49);

      const dead = (
        await readTopic('dlq.relay', {
          from: dlqStart,
          until: (rs) => rs.some((r) => r.headers.get('ferry-error-source-topic') === topic),
        })
      ).filter((r) => r.headers.get('ferry-error-source-topic') === topic);
      expect(dead).toHaveLength(1);
      expect(dead[0]?.headers.get('ferry-error-code')).toBe('FERRY_RECORD_UNPARSEABLE');
      expect(dead[0]?.headers.get('ferry-event-id')).toBe(`${run}-7`);
      expect((await relay.runtime.app.request('/readyz')).status).toBe(200);
    } finally {
      await relay.stop();
    }
  });
});
