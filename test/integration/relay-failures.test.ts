// Failure handling on the real stack (Kafka, Redis) against the mock API:
// - a sink answering 503 for a while: retries, the breaker opens, its partitions pause and resume after
//   a half-open success; nothing lost, the other sink unaffected;
// - a 400 sends the record to dlq.relay with its headers, and a replay after the fix delivers it once;
// - malformed records go to the DLQ at once and the relay commits past them.
import { randomUUID } from 'node:crypto';
import { Producer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { endOffsets, readTopic } from '../support/kafka.ts';
import { lagIsZero, startTestRelay, topicRelayDocument } from '../support/relay-run.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

const ADMIN = { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' };

describe('relay failure handling', () => {
  const bed = useRelayTestbed();
  const { producer } = bed;

  it('rides out a sink answering 503: retries, breaker opens, partitions pause and resume; nothing lost, other sink unaffected', async () => {
    const PARTITIONS = 3;
    const RECORDS = 1500;
    const topic = await bed.topic('relay-503', PARTITIONS);
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: ['flaky', 'healthy'] });
    // 503 until the test recovers the sink below (no time window: a slow machine must not see it end early).
    api.setFaults('flaky', { fixed: { status: 503 } });

    const relay = await startTestRelay(
      topicRelayDocument(topic, [
        {
          id: `flaky-${run}`,
          url: `${api.url}/flaky/{key}`,
          timeout: '2s',
          retry: { attempts: 4, backoffBase: '20ms', backoffCap: '200ms' },
          breaker: { threshold: 5, halfOpenAfter: '300ms' },
          bulkhead: { maxInFlight: 16, buffer: 200 },
          onExhausted: 'block',
          parkFor: '300ms',
          dedupe: { store: 'redis' },
        },
        { id: `healthy-${run}`, url: `${api.url}/healthy/{key}`, dedupe: { store: 'redis' } },
      ]),
      `r503-${run}`,
    );
    try {
      await producer.produce(topic, 0, RECORDS, { keys: 100, run });
      const flakyId = `flaky-${run}`;
      await waitUntil(
        () => relay.runtime.relay.state().sinks.find((s) => s.id === flakyId)?.mode === 'open',
        {
          timeoutMs: 30_000,
          message: 'breaker open',
        },
      );
      await waitUntil(() => relay.runtime.relay.state().partitions.some((p) => p.paused), {
        timeoutMs: 30_000,
        message: 'partitions paused',
      });
      // The healthy sink keeps taking every record the relay fetched while the flaky one is failing.
      const healthyDuringOutage = await waitUntil(
        () => {
          const n = api.report('healthy').applied;
          return n >= 200 ? n : false;
        },
        { timeoutMs: 30_000, message: 'healthy sink flowing during the outage' },
      );
      expect(api.report('flaky').applied).toBe(0);

      api.setFaults('flaky', {}); // recover
      await waitUntil(
        () => api.report('flaky').applied === RECORDS && api.report('healthy').applied === RECORDS,
        {
          timeoutMs: 120_000,
          message: 'everything applied after recovery',
        },
      );
      await waitUntil(() => lagIsZero(relay.runtime, topic, PARTITIONS), {
        timeoutMs: 30_000,
        message: 'committed to the end',
      });

      const m = relay.runtime.metrics;
      expect(m.value('ferry_retries_total', { sink: flakyId })).toBeGreaterThan(0);
      expect(m.value('ferry_breaker_opened_total', { sink: flakyId })).toBeGreaterThan(0);
      expect(m.value('ferry_records_delivered_total', { sink: flakyId })).toBe(RECORDS);
      expect(
        m.value('ferry_records_deadlettered_total', { sink: flakyId, code: 'FERRY_RETRIES_EXHAUSTED' }),
      ).toBeUndefined();
      expect(relay.logs.some((l) => l.message === 'pausing partitions')).toBe(true);
      expect(
        relay.logs.some((l) => l.message === 'breaker closed after a half-open success, sink resumed'),
      ).toBe(true);
      expect(relay.logs.some((l) => l.message === 'resuming partitions')).toBe(true);
      expect(relay.runtime.relay.state().partitions.every((p) => !p.paused)).toBe(true);
      for (const e of ['flaky', 'healthy']) {
        const r = api.report(e);
        expect(r.duplicateApplications).toBe(0);
        expect(r.orderViolations).toBe(0);
      }
      console.log('503 run:', {
        healthyAppliedDuringOutage: healthyDuringOutage,
        flakyRequests: api.report('flaky').received,
        retries: m.value('ferry_retries_total', { sink: flakyId }),
        breakerOpened: m.value('ferry_breaker_opened_total', { sink: flakyId }),
      });
    } finally {
      await relay.stop();
    }
  });

  it('dead-letters a 400 with its headers; a replay after the fix delivers it exactly once', async () => {
    const RECORDS = 200;
    const topic = await bed.topic('relay-400', 2);
    const run = randomUUID().slice(0, 8);
    const sinkId = `orders-${run}`;
    const api = await bed.startApi({ endpoints: ['orders'] });
    api.setFaults('orders', { fixed: { status: 400, count: 3 } });
    const dlqStart = await endOffsets('dlq.relay').catch(() => new Map<number, bigint>());

    const relay = await startTestRelay(
      topicRelayDocument(topic, [
        {
          id: sinkId,
          url: `${api.url}/orders/{key}`,
          bulkhead: { maxInFlight: 4 },
          dedupe: { store: 'redis' },
        },
      ]),
      `r400-${run}`,
    );
    try {
      await producer.produce(topic, 0, RECORDS, { keys: 20, run });
      await waitUntil(() => lagIsZero(relay.runtime, topic, 2), {
        timeoutMs: 60_000,
        message: 'committed past the rejected records',
      });
      expect(api.report('orders').applied).toBe(RECORDS - 3);

      const dead = (
        await readTopic('dlq.relay', {
          from: dlqStart,
          until: (rs) => rs.filter((r) => r.headers.get('ferry-error-sink') === sinkId).length >= 3,
        })
      ).filter((r) => r.headers.get('ferry-error-sink') === sinkId);
      expect(dead).toHaveLength(3);
      for (const r of dead) {
        expect(r.headers.get('ferry-error-stage')).toBe('deliver');
        expect(r.headers.get('ferry-error-code')).toBe('FERRY_SINK_REJECTED');
        expect(r.headers.get('ferry-error-message')).toContain('400');
        expect(r.headers.get('ferry-error-attempts')).toBe('1');
        expect(r.headers.get('ferry-error-source-topic')).toBe(topic);
        expect(r.headers.get('ferry-error-source-offset')).toMatch(/^\d+$/);
        expect(r.headers.get('ferry-error-first-failure-at')).toMatch(/^\d{4}-/);
        expect(r.headers.get('ferry-event-id')).toMatch(new RegExp(`^${run}-\\d+$`));
        expect(JSON.parse(r.value ?? '{}')).toMatchObject({ run });
        expect(r.key).toMatch(/^k\d+$/);
      }

      const replay = async (body: Record<string, unknown>) => {
        const res = await relay.runtime.app.request('/v1/dlq/replay', {
          method: 'POST',
          headers: ADMIN,
          body: JSON.stringify({ sink: sinkId, ...body }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as {
          matched: number;
          sent: number;
          outcomes: Record<string, number>;
          items: Array<{ eventId: string }>;
        };
      };
      const dry = await replay({ dryRun: true });
      expect(dry).toMatchObject({ matched: 3, sent: 0 });
      expect(dry.items.map((i) => i.eventId).sort()).toEqual(
        dead.map((r) => r.headers.get('ferry-event-id')).sort(),
      );
      expect(api.report('orders').applied).toBe(RECORDS - 3);

      api.setFaults('orders', {}); // the sink is fixed
      const first = await replay({});
      expect(first.outcomes).toEqual({ delivered: 3 });
      const second = await replay({});
      expect(second.outcomes).toEqual({ deduplicated: 3 });
      const report = api.report('orders');
      expect(report.applied).toBe(RECORDS);
      expect(report.replays).toBe(0);
      expect(report.duplicateApplications).toBe(0);
    } finally {
      await relay.stop();
    }
  });

  it('sends malformed records to the DLQ at once and commits past them', async () => {
    const topic = await bed.topic('relay-malformed', 1);
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: ['sink'] });
    const dlqStart = await endOffsets('dlq.relay').catch(() => new Map<number, bigint>());
    // Idempotent: a retried send must not write a record twice (the offsets below are exact).
    const raw = new Producer({
      clientId: 'ferry-test-malformed',
      bootstrapBrokers: [KAFKA_BOOTSTRAP],
      idempotent: true,
      acks: -1,
    });
    const messages = [
      { topic, key: Buffer.from('k1'), value: Buffer.from(JSON.stringify({ key: 'k1', seq: 0, run })) },
      { topic, key: Buffer.from('k2'), value: Buffer.from('{"truncated": ') },
      { topic, key: Buffer.from('k3'), value: Buffer.from([0xff, 0xfe, 0x00]) },
      { topic, key: Buffer.from('k1'), value: Buffer.from(JSON.stringify({ key: 'k1', seq: 1, run })) },
    ];
    await raw.send({ messages });
    await raw.close();
    const relay = await startTestRelay(
      topicRelayDocument(topic, [{ id: `s-${run}`, url: `${api.url}/sink`, dedupe: { store: 'redis' } }]),
      `rmal-${run}`,
    );
    try {
      await waitUntil(() => lagIsZero(relay.runtime, topic, 1), {
        timeoutMs: 60_000,
        message: 'committed past malformed records',
      });
      expect(api.report('sink').applied).toBe(2);
      const dead = (
        await readTopic('dlq.relay', {
          from: dlqStart,
          until: (rs) => rs.filter((r) => r.headers.get('ferry-error-source-topic') === topic).length >= 2,
        })
      ).filter((r) => r.headers.get('ferry-error-source-topic') === topic);
      expect(dead.map((r) => r.headers.get('ferry-error-source-offset')).sort()).toEqual(['1', '2']);
      for (const r of dead) {
        expect(r.headers.get('ferry-error-stage')).toBe('parse');
        expect(r.headers.get('ferry-error-code')).toBe('FERRY_RECORD_UNPARSEABLE');
      }
      expect(relay.runtime.metrics.value('ferry_records_unparseable_total', { topic })).toBe(2);
    } finally {
      await relay.stop();
    }
  });
});
