// Fan-out on the real stack: one topic with 4 partitions, three sinks at the mock API. Every record
// reaches every sink once, per-key order holds at the API, and more requests are in flight per sink
// than there are partitions.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { lagIsZero, startTestRelay, topicRelayDocument } from '../support/relay-run.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

const PARTITIONS = 4;
const RECORDS = 3000;

describe('relay fan-out (Kafka -> 3 sinks)', () => {
  const bed = useRelayTestbed();
  const { producer } = bed;

  it('delivers every record to every sink once, in per-key order, with concurrency beyond the partition count', async () => {
    const topic = await bed.topic('relay-fanout', PARTITIONS);
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: ['billing', 'warehouse', 'analytics'] });
    for (const e of ['billing', 'warehouse', 'analytics'])
      api.setFaults(e, { latency: { kind: 'uniform', minMs: 2, maxMs: 10 } });
    await producer.produce(topic, 0, RECORDS, { keys: 300, run });

    const sink = (id: string, path: string) => ({
      id: `${id}-${run}`,
      url: `${api.url}/${path}/{key}`,
      timeout: '5s',
      bulkhead: { maxInFlight: 32 },
      dedupe: { store: 'redis', lease: '30s' },
    });
    const relay = await startTestRelay(
      topicRelayDocument(topic, [
        sink('billing', 'billing'),
        sink('warehouse', 'warehouse'),
        sink('analytics', 'analytics'),
      ]),
      `fanout-${run}`,
    );
    try {
      await waitUntil(
        () => ['billing', 'warehouse', 'analytics'].every((e) => api.report(e).applied === RECORDS),
        {
          timeoutMs: 120_000,
          message: 'all records applied at all three endpoints',
        },
      );
      await waitUntil(() => lagIsZero(relay.runtime, topic, PARTITIONS), {
        timeoutMs: 30_000,
        message: 'committed to the end',
      });
      for (const e of ['billing', 'warehouse', 'analytics']) {
        const report = api.report(e);
        expect(report.applied).toBe(RECORDS);
        expect(report.orderViolations).toBe(0);
        expect(report.duplicateApplications).toBe(0);
        expect(report.replays).toBe(0);
        // Concurrency across keys beyond the partition count.
        expect(relay.maxInFlight.get(`${e}-${run}`) ?? 0).toBeGreaterThan(PARTITIONS);
      }
      console.log(
        'max in flight per sink:',
        Object.fromEntries(relay.maxInFlight),
        'partitions:',
        PARTITIONS,
      );
      const delivered = relay.runtime.metrics.value('ferry_records_delivered_total', {
        sink: `billing-${run}`,
      });
      expect(delivered).toBe(RECORDS);
    } finally {
      await relay.stop();
    }
  });
});
