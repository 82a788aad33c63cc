// `ferry push` end to end: records produced to the real Kafka, forwarded by the CLI (a child process)
// to a real Node relay running `source: push` with a Standard Webhooks secret, delivered through the
// real Redis dedupe to the mock API. Every test accounts for each record: applied exactly once, and the
// forwarder's group committed up to the end of the topic only for what the relay committed.
import { randomBytes, randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { createWebhookSigner } from '../../relay/core/webhook-signing.ts';
import { sampleProc } from '../bench/proc-stats.ts';
import { endOffsets, KAFKA_BOOTSTRAP } from '../support/kafka.ts';
import type { MockApi } from '../support/mock-api/index.ts';
import { freePort } from '../support/ports.ts';
import { spawnForwarder } from '../support/push-forwarder.ts';
import { mockApiSink, type RelayProcess, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { relayDocument } from '../support/relay-run.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

const TOKEN = 'push-forwarder-token-0123456789';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const bed = useRelayTestbed();

/** A Node relay fed only by pushes, signed with SECRET, on `port` (fixed, so it can be restarted there). */
function startEdgeRelay(
  api: MockApi,
  topic: string,
  run: string,
  port: number,
  pushTimeout = '30s',
): Promise<RelayProcess> {
  return spawnRelay({
    configPath: writeRelayConfig(
      relayDocument({
        groupId: `g-relay-${run}`,
        routes: [
          {
            topics: topic,
            sinks: [
              mockApiSink(api.url, 'edge', {
                retry: { attempts: 50, backoffBase: '50ms', backoffCap: '500ms' },
                breaker: { threshold: 0.9, halfOpenAfter: '500ms' },
              }),
            ],
          },
        ],
        extra: {
          listen: { port, host: '127.0.0.1' },
          source: 'push',
          push: { token: TOKEN, signingSecret: `\${FERRY_PUSH_SIGNING_SECRET}`, timeout: pushTimeout },
        },
      }),
    ),
    env: { FERRY_PUSH_SIGNING_SECRET: SECRET },
  });
}

async function committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'ferry-test-push-committed', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const parts = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
    return new Map(
      parts.filter((p) => p.committedOffset >= 0n).map((p) => [p.partitionIndex, p.committedOffset]),
    );
  } finally {
    await admin.close();
  }
}

/** True once the group has committed every partition up to its end offset. */
async function committedToEnd(groupId: string, topic: string): Promise<boolean> {
  const [ends, committed] = await Promise.all([endOffsets(topic), committedOffsets(groupId, topic)]);
  return [...ends].every(([p, end]) => committed.get(p) === end);
}

describe('ferry push to a relay with source: push', () => {
  it('forwards every record, signed, in order per key, applied once each, and commits up to the end', async () => {
    const run = randomUUID().slice(0, 8);
    const N = 3000;
    const topic = await bed.topic('push-fwd', 3);
    const api = await bed.startApi({ endpoints: ['edge'] });
    const relay = await startEdgeRelay(api, topic, run, await freePort());
    const group = `g-${topic}`;
    const forwarder = spawnForwarder({
      topics: [topic],
      group,
      url: `http://127.0.0.1:${relay.port}`,
      token: TOKEN,
      secret: SECRET,
      args: ['--batch-size', '200', '--linger', '20ms', '--progress', '1s'],
    });
    try {
      // Records produced while the forwarder is running (the other tests start it on a backlog).
      await waitUntil(() => forwarder.stderr().includes('signed with 1 secret'), {
        timeoutMs: 60_000,
        message: 'the forwarder running',
      });
      const cpuBefore = [sampleProc(forwarder.child.pid!), sampleProc(relay.pid)];
      const started = Date.now();
      await bed.producer.produce(topic, 0, N, { keys: 30, run });
      await waitUntil(() => api.report('edge').applied >= N, {
        timeoutMs: 120_000,
        message: 'every record applied',
      });
      const seconds = (Date.now() - started) / 1000;
      const cpuAfter = [sampleProc(forwarder.child.pid!), sampleProc(relay.pid)];
      await waitUntil(() => committedToEnd(group, topic), {
        timeoutMs: 30_000,
        message: 'the group at the end',
      });
      expect(await forwarder.stop()).toBe(0);
      const report = api.report('edge');
      expect(notApplied(api, 'edge', run, N)).toEqual([]);
      expect(report.applied).toBe(N);
      expect(report.duplicateApplications).toBe(0);
      expect(report.orderViolations).toBe(0);
      expect(report.orderKeys).toBe(30);
      expect(forwarder.summary()).toMatchObject({ pushed: N, committed: N });
      const stderr = forwarder.stderr();
      expect(stderr).toMatch(/pushed \d+ \(\d+\/s\), committed \d+ \(\d+\/s\)/);
      expect(stderr).not.toContain(SECRET.slice('whsec_'.length));
      expect(stderr).not.toContain(TOKEN);
      const cpuMsPerK = (i: number) =>
        (((cpuAfter[i]?.cpuSeconds ?? 0) - (cpuBefore[i]?.cpuSeconds ?? 0)) * 1e6) / N;
      console.log(
        `ferry push: ${N} records produced, forwarded and applied in ${seconds.toFixed(1)} s ` +
          `(${Math.round(N / seconds)}/s); CPU per 1000 records: forwarder ${cpuMsPerK(0).toFixed(0)} ms, ` +
          `relay ${cpuMsPerK(1).toFixed(0)} ms`,
      );
      expect(await relay.stop()).toBe(0);
    } finally {
      await forwarder.kill9();
      await relay.kill9();
    }
  });

  it('keeps pushing through a failing API (202: pushed again) and a relay killed and restarted (network errors: backoff), losing nothing', async () => {
    const run = randomUUID().slice(0, 8);
    const N = 1500;
    const topic = await bed.topic('push-faults', 2);
    const api = await bed.startApi({ endpoints: ['edge'] });
    await bed.producer.produce(topic, 0, N, { keys: 20, run });
    const port = await freePort();
    let relay = await startEdgeRelay(api, topic, run, port, '1s');
    const group = `g-${topic}`;
    // The API answers 503 for 4 s: the relay retries, each push outlasts push.timeout (1 s) and is
    // answered 202, and the forwarder pushes the same batch again.
    api.setFaults('edge', { fixed: { status: 503, forMs: 4000 } });
    const forwarder = spawnForwarder({
      topics: [topic],
      group,
      url: `http://127.0.0.1:${port}`,
      token: TOKEN,
      secret: SECRET,
      args: ['--batch-size', '100', '--linger', '10ms', '--progress', '500ms'],
    });
    try {
      await waitUntil(() => api.report('edge').applied >= N / 3, {
        timeoutMs: 60_000,
        message: 'a third applied',
      });
      // The relay dies mid-run: pushes fail on the network until it is back on the same port.
      await relay.kill9();
      await waitUntil(() => /network/.test(forwarder.stderr()), {
        timeoutMs: 30_000,
        message: 'a network retry',
      });
      expect(api.report('edge').applied).toBeLessThan(N);
      relay = await startEdgeRelay(api, topic, run, port, '1s');
      await waitUntil(() => api.report('edge').applied >= N, {
        timeoutMs: 120_000,
        message: 'every record applied',
      });
      await waitUntil(() => committedToEnd(group, topic), {
        timeoutMs: 30_000,
        message: 'the group at the end',
      });
      expect(await forwarder.stop()).toBe(0);
      const report = api.report('edge');
      expect(notApplied(api, 'edge', run, N)).toEqual([]);
      expect(report.applied).toBe(N);
      expect(report.duplicateApplications).toBe(0);
      const summary = forwarder.summary();
      expect(summary?.committed).toBe(N);
      expect(summary?.repushes).toBeGreaterThan(0);
      expect(summary?.retries).toBeGreaterThan(0);
      console.log(
        `ferry push under faults: ${JSON.stringify(summary)}; API received ${report.received}, replays ${report.replays}`,
      );
    } finally {
      await forwarder.kill9();
      await relay.kill9();
    }
  });

  it('killed with -9 mid-run and started again: nothing lost, nothing applied twice', async () => {
    const run = randomUUID().slice(0, 8);
    const N = 3000;
    const topic = await bed.topic('push-kill', 3);
    const api = await bed.startApi({ endpoints: ['edge'] });
    api.setFaults('edge', { latency: { kind: 'fixed', ms: 2 } });
    await bed.producer.produce(topic, 0, N, { keys: 30, run });
    const relay = await startEdgeRelay(api, topic, run, await freePort());
    const group = `g-${topic}`;
    const start = () =>
      spawnForwarder({
        topics: [topic],
        group,
        url: `http://127.0.0.1:${relay.port}`,
        token: TOKEN,
        secret: SECRET,
        args: ['--batch-size', '50', '--linger', '10ms'],
      });
    let forwarder = start();
    try {
      await waitUntil(() => api.report('edge').applied >= 600, { timeoutMs: 90_000, message: '600 applied' });
      await forwarder.kill9();
      const atKill = api.report('edge').applied;
      expect(atKill).toBeLessThan(N);
      forwarder = start();
      await waitUntil(() => api.report('edge').applied >= N, {
        timeoutMs: 120_000,
        message: 'every record applied',
      });
      await waitUntil(() => committedToEnd(group, topic), {
        timeoutMs: 30_000,
        message: 'the group at the end',
      });
      expect(await forwarder.stop()).toBe(0);
      const report = api.report('edge');
      expect(notApplied(api, 'edge', run, N)).toEqual([]);
      expect(report.applied).toBe(N);
      expect(report.duplicateApplications).toBe(0);
      // The second run started from the last committed offsets: what the first had in flight was pushed
      // again, and the relay answered what it had already committed by position (alreadyDone).
      const second = forwarder.summary();
      expect(second?.committed).toBe(second?.pushed);
      expect(second?.pushed).toBeGreaterThanOrEqual(N - atKill);
      expect(second?.pushed).toBeLessThan(N);
      console.log(
        `ferry push kill -9: ${atKill} applied at the kill; second run ${JSON.stringify(second)}; API received ${report.received}, replays ${report.replays}`,
      );
    } finally {
      await forwarder.kill9();
      await relay.kill9();
    }
  });

  it('shares the topic between two forwarders in one group through rebalances: nothing lost or applied twice', async () => {
    const run = randomUUID().slice(0, 8);
    const N = 3000;
    const topic = await bed.topic('push-group', 4);
    const api = await bed.startApi({ endpoints: ['edge'] });
    api.setFaults('edge', { latency: { kind: 'fixed', ms: 2 } });
    await bed.producer.produce(topic, 0, N, { keys: 40, run });
    const relay = await startEdgeRelay(api, topic, run, await freePort());
    const group = `g-${topic}`;
    const start = () =>
      spawnForwarder({
        topics: [topic],
        group,
        url: `http://127.0.0.1:${relay.port}`,
        token: TOKEN,
        secret: SECRET,
        args: ['--batch-size', '50', '--linger', '10ms'],
      });
    const first = start();
    const second = start();
    try {
      await waitUntil(() => api.report('edge').applied >= N / 3, {
        timeoutMs: 90_000,
        message: 'a third applied',
      });
      // The first leaves (SIGTERM): its partitions move to the second, which goes on from their commits.
      expect(await first.stop()).toBe(0);
      expect(api.report('edge').applied).toBeLessThan(N);
      await waitUntil(() => api.report('edge').applied >= N, {
        timeoutMs: 120_000,
        message: 'every record applied',
      });
      await waitUntil(() => committedToEnd(group, topic), {
        timeoutMs: 30_000,
        message: 'the group at the end',
      });
      expect(await second.stop()).toBe(0);
      const report = api.report('edge');
      expect(notApplied(api, 'edge', run, N)).toEqual([]);
      expect(report.applied).toBe(N);
      expect(report.duplicateApplications).toBe(0);
      const [a, b] = [first.summary(), second.summary()];
      expect((a?.committed ?? 0) + (b?.committed ?? 0)).toBeGreaterThanOrEqual(N);
      expect(a?.committed).toBeGreaterThan(0);
      expect(b?.committed).toBeGreaterThan(0);
      console.log(`ferry push, two in a group: ${JSON.stringify({ a, b })}; API received ${report.received}`);
    } finally {
      await first.kill9();
      await second.kill9();
      await relay.kill9();
    }
  });

  it('stops with a clear error on a wrong secret or token (401), commits nothing; a tampered body is refused', async () => {
    const run = randomUUID().slice(0, 8);
    const topic = await bed.topic('push-auth', 1);
    const api = await bed.startApi({ endpoints: ['edge'] });
    await bed.producer.produce(topic, 0, 20, { keys: 4, run });
    const relay = await startEdgeRelay(api, topic, run, await freePort());
    const url = `http://127.0.0.1:${relay.port}`;
    const group = `g-${topic}`;
    const wrongSecret = `whsec_${randomBytes(32).toString('base64')}`;
    try {
      for (const [token, secret] of [
        [TOKEN, wrongSecret],
        ['not-the-push-token-0123456789', SECRET],
      ] as const) {
        const forwarder = spawnForwarder({ topics: [topic], group, url, token, secret });
        expect(await forwarder.exited).toBe(1);
        const stderr = forwarder.stderr();
        expect(stderr).toMatch(
          /refused the push \(401: .*\): check FERRY_PUSH_TOKEN and FERRY_PUSH_SIGNING_SECRET/,
        );
        expect(stderr).toContain('committing nothing more');
        expect(stderr).not.toContain(secret.slice('whsec_'.length));
        expect(stderr).not.toContain(token);
      }
      expect(api.report('edge').received).toBe(0);
      expect((await committedOffsets(group, topic)).size).toBe(0);

      // By hand: a correctly signed batch is taken, its exact replay answered by position, and the same
      // signature over a changed body refused before anything is read.
      const body = JSON.stringify({
        records: [{ topic, partition: 0, offset: 0, key: 'k0', value: { key: 'k0', seq: 0, amount: 10 } }],
      });
      const headers = await createWebhookSigner(SECRET).sign('manual-1', Math.floor(Date.now() / 1000), body);
      const post = (text: string) =>
        fetch(`${url}/push/batches`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
          body: text,
        });
      const tampered = await post(body.replace('"amount":10', '"amount":99'));
      expect(tampered.status).toBe(401);
      expect(await tampered.json()).toMatchObject({ code: 'FERRY_SIGNATURE_INVALID' });
      expect(api.report('edge').received).toBe(0);
      const first = await post(body);
      expect(first.status).toBe(200);
      expect(await first.json()).toMatchObject({ status: 'committed', accepted: 1 });
      const replay = await post(body);
      expect(await replay.json()).toMatchObject({ status: 'committed', alreadyDone: 1 });
      expect(api.report('edge').applied).toBe(1);
      expect(api.report('edge').received).toBe(1);
      expect(await relay.stop()).toBe(0);
    } finally {
      await relay.kill9();
    }
  });
});
