// The integration smoke under Bun: relay/entry/bun.ts (fetch senders, Bun.serve) with the project's
// Bun, real Kafka and Redis, a few hundred records delivered end to end, then a graceful SIGTERM.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type MockApi, startMockApi } from '../support/mock-api/index.ts';
import { createTopic, createTopicProducer, deleteTopics } from '../support/relay-kafka.ts';
import { metricTotal, relayConfig, writeRelayConfig } from '../support/relay-process.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');

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
  const child = spawn(BUN, ['relay/entry/bun.ts', '--config', config], {
    cwd: ROOT,
    env: { ...process.env, FERRY_LOG: 'quiet' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const events: Array<{ event?: string; port?: number }> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      // not an event line
    }
  });
  try {
    const startBy = Date.now() + 60_000;
    while (!events.some((e) => e.event === 'started')) {
      if (Date.now() > startBy || child.exitCode !== null)
        throw new Error(`bun relay did not start: ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const port = events.find((e) => e.event === 'listening')?.port ?? 0;
    await producer.produce(topic, 0, 300, { keys: 30, run });
    const end = Date.now() + 60_000;
    while (api.report('bun-sink').applied < 300 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    const report = api.report('bun-sink');
    expect(report.applied).toBe(300);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    expect(api.ledger('bun-sink').requests[0]?.idempotencyKey).toMatch(new RegExp(`^${run}-`));
    expect(await metricTotal(port, 'ferry_records_delivered_total')).toBe(300);
  } finally {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
  expect(events.some((e) => e.event === 'stopped')).toBe(true);
});
