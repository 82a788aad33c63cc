// A relay process's start and stop as an orchestrator sees them. /readyz answers 503 until the Kafka
// source has its group assignment (held back here by a stopped group member the broker waits for)
// and 200 once it has; SIGTERM with deliveries in flight lets them finish, commits exactly what is
// done and exits 0 within shutdownTimeout.
import { type ChildProcess, spawn } from 'node:child_process';
import { Admin } from '@platformatic/kafka';
import { afterAll, expect, it } from 'vitest';
import { KAFKA_BOOTSTRAP } from '../../deploy/local/config.ts';
import { freePort } from '../support/ports.ts';
import { mockApiSink, relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { waitFor, waitUntil } from '../support/wait.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;
const COMMIT_AND_LEAVE_MS = 2_000;
const bed = useRelayTestbed({ api: { recordBodies: false } });
const members: ChildProcess[] = [];
afterAll(() => {
  for (const m of members) if (m.exitCode === null && m.signalCode === null) m.kill('SIGKILL');
});

/** Another member of `groupId`, in its own process (so it can be SIGSTOPped), with long timeouts. */
async function groupMember(groupId: string, topic: string): Promise<ChildProcess> {
  const script = `
    import { Consumer } from '@platformatic/kafka';
    const consumer = new Consumer({ clientId: 'ferry-test-member', groupId: ${JSON.stringify(groupId)},
      bootstrapBrokers: [${JSON.stringify(KAFKA_BOOTSTRAP)}], autocommit: false,
      sessionTimeout: 30000, rebalanceTimeout: 30000, heartbeatInterval: 500 });
    consumer.on('error', () => {});
    consumer.topics.trackAll(${JSON.stringify(topic)});
    await consumer.joinGroup({ sessionTimeout: 30000, rebalanceTimeout: 30000, heartbeatInterval: 500 });
    console.log('joined');
    process.on('SIGTERM', async () => { await consumer.close(true); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  members.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('joined'), 30_000, 'the group member to join');
  return child;
}

async function committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'ferry-test-committed', bootstrapBrokers: [KAFKA_BOOTSTRAP] });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const parts = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
    return new Map(parts.map((p) => [p.partitionIndex, p.committedOffset]));
  } finally {
    await admin.close();
  }
}

it('/readyz answers 503 until the source has its assignment, then 200', async () => {
  const topic = await bed.topic('ready', 2);
  const groupId = `g-${topic}`;
  const member = await groupMember(groupId, topic);
  // Stopped, it neither heartbeats nor rejoins: the broker holds the relay's join until it does.
  process.kill(member.pid!, 'SIGSTOP');
  const port = await freePort();
  const configPath = writeRelayConfig({
    ...relayConfig({ instanceId: 'ready-1', topic, groupId, sinks: [mockApiSink(bed.api.url, 'ready')] }),
    listen: { port, host: '127.0.0.1' },
  });
  const relayStarted = spawnRelay({ configPath });
  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: res.status, body: (await res.json()) as { reason?: string; source?: boolean } };
  };
  const first = await waitUntil(() => readyz().catch(() => undefined), {
    timeoutMs: 30_000,
    message: 'the relay listening',
  });
  expect(first.status).toBe(503);
  expect(first.body.source).toBe(false);
  expect(first.body.reason).toBe('source not connected');
  // Still not ready a while later: the join is pending, not merely slow to report.
  await new Promise((r) => setTimeout(r, 1_500));
  expect((await readyz()).status).toBe(503);

  process.kill(member.pid!, 'SIGCONT');
  const relay = await relayStarted;
  try {
    const ready = await waitUntil(async () => ((await readyz()).status === 200 ? true : undefined), {
      timeoutMs: 30_000,
      message: '/readyz 200 after the assignment',
    });
    expect(ready).toBe(true);
    const body = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json();
    expect(body).toMatchObject({ ready: true, source: true, dedupe: { redis: true } });
  } finally {
    member.kill('SIGTERM');
    expect(await relay.stop()).toBe(0);
  }
});

it('SIGTERM with deliveries in flight: drained until shutdownTimeout, what is done committed, exit 0', async () => {
  const records = 2_000;
  const keys = 40;
  const run = `stop-${Date.now()}`;
  const topic = await bed.topic('stop', 3);
  const groupId = `g-${topic}`;
  const endpoint = `stop${Date.now()}`;
  bed.api.setFaults(endpoint, { latency: { kind: 'fixed', ms: 1_000 } });
  await bed.producer.produce(topic, 0, records, { keys, run, valueBytes: 200 });
  // No periodic commits and no dedupe: what the stop commits is all that keeps a restarted relay
  // from sending a record again, so every uncommitted done record shows up as a replay.
  const configPath = writeRelayConfig({
    ...relayConfig({
      instanceId: 'stop-1',
      topic,
      groupId,
      sinks: [mockApiSink(bed.api.url, endpoint, { dedupe: false })],
      commitInterval: '1h',
    }),
    shutdownTimeout: `${SHUTDOWN_TIMEOUT_MS / 1000}s`,
  });
  const relay = await spawnRelay({ configPath });
  // A second round of requests is in flight once the first one has been answered.
  await waitFor(() => bed.api.report(endpoint).applied >= keys, 30_000, 'the first deliveries');
  const appliedAtStop = bed.api.report(endpoint).applied;
  const stoppedAt = Date.now();
  const code = await relay.stop(SHUTDOWN_TIMEOUT_MS * 2);
  const took = Date.now() - stoppedAt;
  expect(code).toBe(0);
  // The drain is bounded by shutdownTimeout; the final commit and leaving the group come after it.
  expect(took).toBeLessThan(SHUTDOWN_TIMEOUT_MS + COMMIT_AND_LEAVE_MS);
  expect(relay.events()).toContain('stopped');
  const atExit = bed.api.report(endpoint);
  // Deliveries went on after SIGTERM until the deadline cut the drain short.
  expect(atExit.applied).toBeGreaterThan(appliedAtStop);
  expect(atExit.applied).toBeLessThan(records);
  const committed = [...(await committedOffsets(groupId, topic)).values()].reduce((s, c) => s + c, 0n);
  expect(committed).toBeGreaterThan(BigInt(appliedAtStop));

  // A new relay in the group starts from the committed offsets: everything arrives, and the only
  // records sent twice are those the deadline aborted (at most one in flight per key).
  bed.api.setFaults(endpoint, {});
  const second = await spawnRelay({ configPath });
  try {
    await waitFor(() => bed.api.report(endpoint).applied >= records, 120_000, `all ${records} applied`);
  } finally {
    expect(await second.stop(SHUTDOWN_TIMEOUT_MS * 2)).toBe(0);
  }
  const report = bed.api.report(endpoint);
  console.log(
    `SIGTERM: ${appliedAtStop} applied at the signal, ${atExit.applied} at exit ${took} ms later; ` +
      `${committed} committed; sent again after the restart: ${report.replays}`,
  );
  expect(notApplied(bed.api, endpoint, run, records)).toEqual([]);
  expect(report.replays).toBeLessThanOrEqual(keys);
  expect(report.orderViolations).toBe(0);
});
