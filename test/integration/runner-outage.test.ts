// The portable runner after a broker outage longer than the Kafka client's retries: the client's fetch
// loop gives up ("fetch failed N times") and never fetches again. The runner must close that consumer
// and join again by itself, with backoff, for as long as the broker is away; records produced after the
// broker is back are transformed and committed by the same runner, without a restart. The shared
// broker stays untouched: this file runs its own Kafka (same jars, own ports and state dir).
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topicOffsets } from '../../deploy/local/topic-counts.ts';
import { createTransformRunner } from '../../wasm/runner/index.ts';
import type { TransformRunner } from '../../wasm/runner/types.ts';
import { type PrivateKafka, startPrivateKafka } from '../support/private-kafka.ts';
import { createTopic, createTopicProducer, type TopicProducer } from '../support/relay-kafka.ts';
import { transformModule } from '../support/transforms.ts';
import { waitUntil } from '../support/wait.ts';

const PER_PHASE = 200;

let kafka: PrivateKafka | undefined;
let producer: TopicProducer | undefined;
let runner: TransformRunner | undefined;

beforeAll(async () => {
  kafka = await startPrivateKafka();
  producer = createTopicProducer(kafka.bootstrap);
}, 180_000);

afterAll(async () => {
  const steps: Array<() => Promise<unknown>> = [
    async () => runner?.stop(),
    async () => producer?.close(),
    async () => kafka?.stop(),
  ];
  for (const step of steps) await step().catch((e: unknown) => console.warn('cleanup step failed:', e));
}, 120_000);

/** Sum of the end offsets of `topic`, and whether `groupId` has committed all of them. */
async function progress(bootstrap: string, topic: string, groupId: string) {
  const admin = new Admin({ clientId: 'ferry-test-outage', bootstrapBrokers: [bootstrap], retries: 0 });
  try {
    const ends = (await topicOffsets(admin, [topic])).get(topic) ?? [];
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const committed = new Map(
      (group?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [
        p.partitionIndex,
        p.committedOffset,
      ]),
    );
    return {
      records: ends.reduce((n, p) => n + Number(p.high), 0),
      caughtUp: ends.every((p) => (committed.get(p.partition) ?? -1n) >= p.high),
    };
  } finally {
    await admin.close().catch(() => {});
  }
}

it('the runner joins again by itself after a broker outage longer than its retries; new records are committed', async () => {
  const k = kafka!;
  const produce = producer!;
  const input = await createTopic('runner-outage', 2, k.bootstrap);
  const output = `${input}-out`;
  const groupId = `g-${input}`;
  const run = `ro-${Date.now()}`;
  const events: string[] = [];
  runner = createTransformRunner({
    module: await transformModule('passthrough'),
    name: 'passthrough',
    inputTopic: input,
    outputTopics: [output],
    brokers: [k.bootstrap],
    groupId,
    metricsIntervalMs: 0,
    onLog: () => {},
    onEvent: (line) => events.push(`${new Date().toISOString().slice(11, 23)} ${line}`),
  });
  const r = runner;
  let ended: unknown = null;
  r.done.then(
    () => {
      ended = 'stopped';
    },
    (error: unknown) => {
      ended = error;
    },
  );
  await r.start();
  const opts = { keys: 10, run, valueBytes: 100 };

  try {
    await produce.produce(input, 0, PER_PHASE, opts);
    await waitUntil(async () => (await progress(k.bootstrap, input, groupId)).caughtUp, {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: 'records before the outage committed',
    });

    // The broker goes away until the client's fetch loop has given up (its retries take seconds): the
    // outage outlasts the client's retry budget; restarting the broker takes seconds more.
    await k.kill9();
    await waitUntil(() => events.some((e) => e.includes('consumer error: fetch failed')), {
      timeoutMs: 60_000,
      message: "the client's fetch loop gave up",
    });
    expect(ended).toBe(null);

    await k.restart();
    await produce.produce(input, PER_PHASE, PER_PHASE, opts);
    await waitUntil(
      async () => {
        const p = await progress(k.bootstrap, input, groupId);
        return p.records === 2 * PER_PHASE && p.caughtUp;
      },
      { timeoutMs: 90_000, intervalMs: 500, message: 'records after the outage committed' },
    );
    // Committed only after produced: every input record has its output (repeats allowed).
    expect((await progress(k.bootstrap, output, `g-${output}`)).records).toBeGreaterThanOrEqual(
      2 * PER_PHASE,
    );
    expect(ended).toBe(null);
    expect(r.metrics().rejoins).toBeGreaterThanOrEqual(1);
    expect(events.some((e) => e.includes('closing the consumer and joining again'))).toBe(true);
  } finally {
    console.log(`runner events:\n  ${events.join('\n  ')}`);
  }
  await r.stop();
  expect(ended).toBe('stopped');
}, 240_000);
