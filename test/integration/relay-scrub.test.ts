// What reaches the operator from outside, on the real stack (Kafka, Redis, a relay process):
// - a sink that echoes the request headers in its 400 body puts no configured secret into dlq.relay,
//   the relay's log or /metrics;
// - a CR/LF event id is dead-lettered as FERRY_EVENT_ID_INVALID at once, even with onExhausted: block:
//   its key is not parked, the breaker does not open, later records of the key are delivered;
// - a 100 KB event id is dead-lettered and every log line about it stays bounded;
// - a routed topic that does not exist keeps the relay up and not ready (/readyz says which topic);
//   once the topic is created the relay subscribes and delivers without a restart.
import { randomUUID } from 'node:crypto';
import { Admin, Producer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { endOffsets, readTopic } from '../support/kafka.ts';
import { deleteTopics } from '../support/relay-kafka.ts';
import { mockApiSink, relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { startTestRelay, topicRelayDocument } from '../support/relay-run.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

/** `${NAME}`: a config value the relay reads from its environment. */
const env = (name: string) => `$\{${name}}`;

async function produceWithIds(
  topic: string,
  records: ReadonlyArray<{ key: string; id: string; value: Record<string, unknown> }>,
): Promise<void> {
  const producer = new Producer({ clientId: 'ferry-test-scrub', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  try {
    await producer.send({
      messages: records.map((r) => ({
        topic,
        key: Buffer.from(r.key),
        value: Buffer.from(JSON.stringify(r.value)),
        headers: new Map([[Buffer.from('ferry-event-id'), Buffer.from(r.id, 'latin1')]]),
      })),
    });
  } finally {
    await producer.close();
  }
}

describe('relay: outside text, identifiers and missing topics', () => {
  const bed = useRelayTestbed();

  it('keeps configured secrets echoed by a sink out of dlq.relay, the log and /metrics', async () => {
    const topic = await bed.topic('scrub-echo', 1);
    const dlqTopic = `dlq-${topic}`;
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: ['echo'] });
    api.setFaults('echo', { fixed: { status: 400 }, echoHeaders: true });
    const secrets = {
      SCRUB_SINK_TOKEN: `sink-token-${randomUUID()}`,
      SCRUB_API_KEY: `api-key-${randomUUID()}`,
      SCRUB_WEBHOOK_SECRET: `whsec_${Buffer.from(randomUUID()).toString('base64')}`,
    };
    const configPath = writeRelayConfig(
      relayConfig({
        instanceId: `scrub-echo-${run}`,
        topic,
        sinks: [
          mockApiSink(api.url, 'echo', {
            id: `echo-${run}`,
            // Interpolated by the relay from its environment, as an operator would configure them.
            auth: { bearer: env('SCRUB_SINK_TOKEN'), webhookSecret: env('SCRUB_WEBHOOK_SECRET') },
            headers: { 'x-api-key': env('SCRUB_API_KEY') },
          }),
        ],
      }),
    );
    const relay = await spawnRelay({ configPath, env: { ...secrets, FERRY_LOG: 'verbose' } });
    try {
      await bed.producer.produce(topic, 0, 3, { keys: 3, run });
      const dead = await readTopic(dlqTopic, { until: (rs) => rs.length >= 3, timeoutMs: 60_000 });
      // The sink really did echo them: the requests it logged carry every secret.
      const seen = JSON.stringify(api.ledger('echo').requests);
      expect(seen).toContain(secrets.SCRUB_SINK_TOKEN);
      expect(seen).toContain(secrets.SCRUB_API_KEY);

      const metrics = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text();
      const outputs = {
        dlq: JSON.stringify(dead.map((r) => [...r.headers])),
        log: relay.stderr(),
        metrics,
      };
      for (const r of dead) {
        expect(r.headers.get('ferry-error-code')).toBe('FERRY_SINK_REJECTED');
        expect(r.headers.get('ferry-error-message')).toContain('400');
        expect(r.headers.get('ferry-error-message')).toContain('[REDACTED]');
      }
      expect(outputs.log).toContain('record dead-lettered');
      for (const [where, text] of Object.entries(outputs))
        for (const [name, secret] of Object.entries(secrets)) {
          expect(text.includes(secret), `${name} in ${where}`).toBe(false);
          expect(text.includes(secret.slice(0, 16)), `${name} prefix in ${where}`).toBe(false);
        }
    } finally {
      await relay.stop();
      await deleteTopics(dlqTopic);
    }
  });

  it('dead-letters a CR/LF event id at once with onExhausted: block; its key is not parked, the breaker stays closed', async () => {
    const topic = await bed.topic('scrub-crlf', 1);
    const run = randomUUID().slice(0, 8);
    const sinkId = `crlf-${run}`;
    const api = await bed.startApi({ endpoints: ['crlf'] });
    const relay = await startTestRelay(
      topicRelayDocument(topic, [
        {
          id: sinkId,
          url: `${api.url}/crlf`,
          timeout: '2s',
          retry: { attempts: 2, backoffBase: '10ms', backoffCap: '20ms' },
          breaker: { threshold: 2, halfOpenAfter: '60s' },
          onExhausted: 'block',
          parkFor: '10m',
          dedupe: { store: 'redis' },
        },
      ]),
      `scrub-crlf-${run}`,
    );
    try {
      const dlqStart = await endOffsets('dlq.relay').catch(() => new Map<number, bigint>());
      const bad = `${run}-bad\r\nx-injected: 1`;
      await produceWithIds(topic, [
        { key: 'k1', id: bad, value: { key: 'k1', seq: 0 } },
        { key: 'k1', id: `${run}-1`, value: { key: 'k1', seq: 1 } },
        { key: 'k1', id: `${run}-2`, value: { key: 'k1', seq: 2 } },
      ]);
      await waitUntil(() => api.ledger('crlf').appliedKeys.length === 2, {
        timeoutMs: 30_000,
        message: 'the later records of the key delivered',
      });
      expect(api.ledger('crlf').appliedKeys).toEqual([`${run}-1`, `${run}-2`]);
      const mine = (rs: Awaited<ReturnType<typeof readTopic>>) =>
        rs.filter((r) => r.headers.get('ferry-error-sink') === sinkId);
      const dead = mine(
        await readTopic('dlq.relay', {
          from: dlqStart,
          until: (rs) => mine(rs).length >= 1,
          timeoutMs: 30_000,
        }),
      );
      expect(dead).toHaveLength(1);
      expect(dead[0]?.headers.get('ferry-error-code')).toBe('FERRY_EVENT_ID_INVALID');
      expect(dead[0]?.headers.get('ferry-error-message')).toContain('U+000D');
      expect(dead[0]?.headers.get('ferry-error-attempts')).toBe('0');
      const m = relay.runtime.metrics;
      expect(m.value('ferry_breaker_opened_total', { sink: sinkId }) ?? 0).toBe(0);
      expect(m.value('ferry_keys_parked_total', { sink: sinkId }) ?? 0).toBe(0);
      expect(
        m.value('ferry_records_deadlettered_total', { sink: sinkId, code: 'FERRY_EVENT_ID_INVALID' }),
      ).toBe(1);
      expect(relay.runtime.relay.state().sinks.find((s) => s.id === sinkId)?.mode).toBe('running');
      // The mock never saw the bad id: it was refused before any request.
      expect(api.report('crlf').received).toBe(2);
    } finally {
      await relay.stop();
    }
  });

  it('dead-letters a 100 KB event id and keeps every log line bounded', async () => {
    const topic = await bed.topic('scrub-long', 1);
    const dlqTopic = `dlq-${topic}`;
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: ['long'] });
    const configPath = writeRelayConfig(
      relayConfig({
        instanceId: `scrub-long-${run}`,
        topic,
        sinks: [mockApiSink(api.url, 'long', { id: `long-${run}` })],
      }),
    );
    const relay = await spawnRelay({ configPath, env: { FERRY_LOG: 'verbose' } });
    try {
      const longId = `${run}-${'x'.repeat(100 * 1024)}`;
      await produceWithIds(topic, [
        { key: 'k1', id: longId, value: { key: 'k1', seq: 0 } },
        { key: 'k1', id: `${run}-1`, value: { key: 'k1', seq: 1 } },
      ]);
      const dead = await readTopic(dlqTopic, { until: (rs) => rs.length >= 1, timeoutMs: 60_000 });
      expect(dead[0]?.headers.get('ferry-error-code')).toBe('FERRY_EVENT_ID_INVALID');
      await waitUntil(() => api.ledger('long').appliedKeys.includes(`${run}-1`), {
        timeoutMs: 30_000,
        message: 'the next record delivered',
      });
      await waitUntil(() => relay.stderr().includes('record dead-lettered'), {
        timeoutMs: 10_000,
        message: 'the dead-letter log line',
      });
      const lines = relay.stderr().split('\n').filter(Boolean);
      const longest = Math.max(...lines.map((l) => l.length));
      expect(longest).toBeLessThan(4096);
      const logged = lines.find((l) => l.includes('record dead-lettered'));
      expect(logged).toContain(`${longId.length} chars`);
    } finally {
      await relay.stop();
      await deleteTopics(dlqTopic);
    }
  });

  it('stays up and not ready while a routed topic does not exist, then subscribes and delivers', async () => {
    const topic = `scrub-missing-${randomUUID().slice(0, 8)}`;
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: ['late'] });
    const configPath = writeRelayConfig(
      relayConfig({
        instanceId: `scrub-missing-${run}`,
        topic,
        sinks: [mockApiSink(api.url, 'late', { id: `late-${run}` })],
      }),
    );
    const relay = await spawnRelay({ configPath, env: { FERRY_LOG: 'verbose' } });
    try {
      const readyz = async () => {
        const res = await fetch(`http://127.0.0.1:${relay.port}/readyz`);
        return { status: res.status, body: (await res.json()) as { ready: boolean; reason?: string } };
      };
      const before = await readyz();
      expect(before.status).toBe(503);
      expect(before.body.reason).toContain(topic);
      await waitUntil(() => relay.stderr().includes('routed topics do not exist'), {
        timeoutMs: 10_000,
        message: 'the missing-topic log line',
      });
      expect(relay.child.exitCode).toBeNull();

      const admin = new Admin({ clientId: 'ferry-test-admin', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
      try {
        await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
      } finally {
        await admin.close();
      }
      await bed.producer.produce(topic, 0, 20, { keys: 4, run });
      await waitUntil(() => api.report('late').applied === 20, {
        timeoutMs: 90_000,
        message: 'every record delivered after the topic appeared',
      });
      const after = await waitUntil(async () => {
        const r = await readyz();
        return r.status === 200 ? r : false;
      });
      expect(after.body.ready).toBe(true);
      // One line per retry window (capped exponential backoff), not a flood.
      const waits = relay
        .stderr()
        .split('\n')
        .filter((l) => l.includes('routed topics do not exist'));
      expect(waits.length).toBeGreaterThan(0);
      expect(waits.length).toBeLessThan(10);
      expect(relay.child.exitCode).toBeNull();
    } finally {
      await relay.stop();
      await deleteTopics(topic, `dlq-${topic}`);
    }
  });
});
