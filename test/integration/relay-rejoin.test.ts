// After the Kafka client's background group rejoin fails (the broker goes away right as the client
// rejoins, for longer than the client's retries), @platformatic/kafka stops heartbeating and never
// rejoins by itself. The Kafka source's watchdog must notice, rejoin with backoff once the broker is
// back, and lose nothing. The shared broker stays untouched: this file runs its own Kafka (same jars,
// own ports and state dir) and takes that one away.
//
// How the stuck state is produced, deterministically:
// 1. The relay (a child process) is frozen (SIGSTOP) until the private broker has dropped it from the
//    group (DescribeGroups shows no member), so its next heartbeat after SIGCONT gets UNKNOWN_MEMBER_ID
//    and the client starts its background rejoin.
// 2. A preload in the relay (test/support/rejoin-trap.ts) SIGSTOPs the broker at the very start of that
//    JoinGroup; the test then SIGKILLs the broker and keeps it down while the client's retries run
//    out. Records are produced "during" the outage by a producer that keeps retrying.
// 3. The broker restarts on the same ports and data dir; records are produced after it.
// Asserted: the watchdog's rejoin attempts failed while the broker was down and one succeeded after,
// the source is a group member again and /readyz is ready, every record is applied once at the API.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type MockApi, startMockApi } from '../support/mock-api/index.ts';
import { type PrivateKafka, startPrivateKafka } from '../support/private-kafka.ts';
import { createTopic, createTopicProducer, type TopicProducer } from '../support/relay-kafka.ts';
import {
  mockApiSink,
  type RelayProcess,
  relayConfig,
  spawnRelay,
  writeRelayConfig,
} from '../support/relay-process.ts';
import { notApplied } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

const PER_PHASE = 1500;
const TOTAL = 3 * PER_PHASE;
const KEYS = 100;
const TRAP = fileURLToPath(new URL('../support/rejoin-trap.ts', import.meta.url));

let kafka: PrivateKafka | undefined;
let api: MockApi | undefined;
let producer: TopicProducer | undefined;
let relay: RelayProcess | undefined;
let finished = false;
const trapDir = mkdtempSync(join(tmpdir(), 'ferry-rejoin-'));

beforeAll(async () => {
  kafka = await startPrivateKafka();
  api = await startMockApi({ recordBodies: false });
  producer = createTopicProducer(kafka.bootstrap);
}, 180_000);

afterAll(async () => {
  // Each step runs even if an earlier one failed, so nothing is left running.
  finished = true;
  const steps: Array<() => Promise<unknown>> = [
    async () => {
      if (relay?.child.exitCode === null) process.kill(relay.pid, 'SIGCONT');
    },
    async () => relay?.stop(20_000),
    async () => producer?.close(),
    async () => kafka?.stop(),
    async () => api?.stop(),
    async () => rmSync(trapDir, { recursive: true, force: true }),
  ];
  for (const step of steps) await step().catch((e: unknown) => console.warn('cleanup step failed:', e));
}, 120_000);

/** Value of one series of a relay metric (`name{labels}`), 0 when absent. */
async function metric(port: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

async function readyz(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  await res.arrayBuffer();
  return res.status;
}

async function groupMembers(bootstrap: string, groupId: string): Promise<number> {
  const admin = new Admin({ clientId: 'ferry-test-admin', bootstrapBrokers: [bootstrap], retries: 0 });
  try {
    const groups = await admin.describeGroups({ groups: [groupId] });
    return groups.get(groupId)?.members.size ?? 0;
  } finally {
    await admin.close().catch(() => {});
  }
}

it('the source rejoins by itself after a failed background rejoin; nothing lost, nothing applied twice', async () => {
  const k = kafka!;
  const mock = api!;
  const produce = producer!;
  const run = `rj-${Date.now()}`;
  const topic = await createTopic('rejoin', 6, k.bootstrap);
  const groupId = `g-${topic}`; // relayConfig's default group
  const endpoint = 'rejoin';
  const cfg = relayConfig({ instanceId: 'rejoin-a', topic, sinks: [mockApiSink(mock.url, endpoint)] });
  const kafkaSection = cfg.kafka as Record<string, unknown>;
  cfg.kafka = { ...kafkaSection, brokers: [k.bootstrap] };
  const armFile = join(trapDir, 'arm');
  relay = await spawnRelay({
    configPath: writeRelayConfig(cfg),
    runtimeArgs: ['--import', TRAP],
    env: { FERRY_TEST_REJOIN_TRAP: armFile, FERRY_LOG: 'info' },
  });
  const r = relay;
  const applied = () => mock.report(endpoint).applied;
  const produceOpts = { keys: KEYS, run, valueBytes: 300 };

  // Before the outage.
  await produce.produce(topic, 0, PER_PHASE, produceOpts);
  await waitUntil(() => applied() >= PER_PHASE, {
    timeoutMs: 90_000,
    message: 'records before the outage applied',
  });
  expect(await metric(r.port, 'ferry_kafka_group_member')).toBe(1);

  // 1. Freeze the relay until the broker has dropped it from the group.
  process.kill(r.pid, 'SIGSTOP');
  await waitUntil(async () => (await groupMembers(k.bootstrap, groupId)) === 0, {
    timeoutMs: 60_000,
    intervalMs: 500,
    message: 'the frozen relay expired from the group',
  });
  // 2. Arm the trap with the broker's pid and wake the relay: its rejoin freezes the broker.
  writeFileSync(armFile, `${k.pid()}\n`);
  process.kill(r.pid, 'SIGCONT');
  await waitUntil(() => existsSync(`${armFile}.fired`), {
    timeoutMs: 60_000,
    message: 'the relay started a JoinGroup (trap fired)',
  });
  expect(readFileSync(`${armFile}.fired`, 'utf8')).not.toMatch(/^error/);
  await k.kill9();

  // Records produced during the outage: the producer keeps trying until the broker is back.
  const during = (async () => {
    const deadline = Date.now() + 150_000;
    for (;;) {
      try {
        await produce.produce(topic, PER_PHASE, PER_PHASE, produceOpts);
        return;
      } catch (error) {
        if (finished || Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  })();
  during.catch(() => {}); // awaited below; if the test fails first, afterAll ends the loop

  // The client gave up; the watchdog is the one trying now, and failing while the broker is down.
  await waitUntil(
    async () => (await metric(r.port, 'ferry_kafka_rejoin_attempts_total{result="failed"}')) >= 1,
    {
      timeoutMs: 90_000,
      message: 'a failed watchdog rejoin attempt while the broker is down',
    },
  );
  expect(await metric(r.port, 'ferry_kafka_group_member')).toBe(0);
  expect(await readyz(r.port)).toBe(503);

  // 3. The broker comes back on the same ports and data dir.
  await k.restart();
  await waitUntil(async () => (await metric(r.port, 'ferry_kafka_rejoin_attempts_total{result="ok"}')) >= 1, {
    timeoutMs: 90_000,
    message: 'the watchdog rejoined after the broker came back',
  });
  await waitUntil(async () => (await metric(r.port, 'ferry_kafka_group_member')) === 1, {
    timeoutMs: 30_000,
    message: 'group member again',
  });
  await waitUntil(async () => (await readyz(r.port)) === 200, {
    timeoutMs: 60_000,
    message: '/readyz ready again',
  });
  await during;

  // After the outage.
  await produce.produce(topic, 2 * PER_PHASE, PER_PHASE, produceOpts);
  await waitUntil(() => applied() >= TOTAL, { timeoutMs: 120_000, message: `all ${TOTAL} records applied` });
  // Let anything still in flight (a redelivery after the revocation) reach the API before counting.
  await sleep(1000);

  const report = mock.report(endpoint);
  const lost = notApplied(mock, endpoint, run, TOTAL);
  const attempts = {
    failed: await metric(r.port, 'ferry_kafka_rejoin_attempts_total{result="failed"}'),
    ok: await metric(r.port, 'ferry_kafka_rejoin_attempts_total{result="ok"}'),
  };
  const watchdogLog = r
    .stderr()
    .split('\n')
    .filter((l) => l.includes('kafka group'))
    .map((l) => {
      const { time, message, attempt, reason, error } = JSON.parse(l) as Record<string, unknown>;
      const detail = reason ?? (error ? String(error).slice(0, 80) : undefined);
      return `  ${String(time).slice(11, 23)} ${message}${attempt ? ` #${attempt}` : ''}${detail ? `: ${detail}` : ''}`;
    });
  console.log(`watchdog log:\n${watchdogLog.join('\n')}`);
  console.log(
    `rejoin: applied=${report.applied} replays=${report.replays} duplicateApplications=${report.duplicateApplications} watchdog attempts failed=${attempts.failed} ok=${attempts.ok}`,
  );
  expect(lost).toEqual([]);
  expect(report.applied).toBe(TOTAL);
  expect(report.duplicateApplications).toBe(0);
  expect(await r.stop(20_000)).toBe(0);
});
