// The bundled edge relay on the real Workers runtime (workerd), fed over POST /push/batches with
// records read from the real Kafka, deduplicating through the Upstash-protocol gateway over the real
// Redis, delivering to the mock API and dead-lettering to a DLQ sink URL. Every record's outcome is
// counted at the API: applied exactly once, or dead-lettered.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../relay/core/dlq-envelope.ts';
import {
  type PushRecord,
  partitionBatches,
  pushBatch,
  pushUntilCommitted,
  toPushRecord,
} from '../support/edge-push.ts';
import { type EdgeWorker, startEdgeWorker } from '../support/edge-worker.ts';
import { readTopic } from '../support/kafka.ts';
import type { MockApi } from '../support/mock-api/index.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { REDIS_URL } from '../support/stack-env.ts';
import { startUpstashGateway, type UpstashGateway } from '../support/upstash-gateway.ts';
import { waitUntil } from '../support/wait.ts';

const PUSH_TOKEN = 'edge-push-token-0123456789';
const ADMIN_TOKEN = 'edge-admin-token-0123456789';
const DLQ_TOKEN = 'edge-dlq-token-0123456789';

/** A `${NAME}` reference the Worker resolves from its bindings. */
const ref = (name: string) => `\${${name}}`;

const bed = useRelayTestbed({ api: { endpoints: [] } });
let gateway: UpstashGateway;
const workers: EdgeWorker[] = [];

beforeAll(async () => {
  gateway = await startUpstashGateway({ redisUrl: REDIS_URL, token: 'edge-upstash-token-0123' });
});
afterAll(async () => {
  for (const w of workers) await w.kill9();
  await gateway?.close();
});

function edgeConfig(api: MockApi, topic: string, run: string, sink: Record<string, unknown> = {}) {
  return {
    source: 'push',
    push: { token: ref('PUSH_TOKEN'), unsigned: true, timeout: '10s' },
    adminToken: ref('ADMIN_TOKEN'),
    upstash: { url: gateway.url, token: ref('UPSTASH_TOKEN') },
    dlq: { to: 'url', url: `${api.url}/dlq-${run}`, bearer: ref('DLQ_TOKEN') },
    commitInterval: '50ms',
    routes: [
      {
        topics: topic,
        sinks: [
          {
            id: `edge-${run}`,
            url: `${api.url}/edge-${run}`,
            timeout: '2s',
            dedupe: { store: 'upstash', lease: '3s' },
            ...sink,
          },
        ],
      },
    ],
  };
}

async function worker(config: unknown, port?: number): Promise<EdgeWorker> {
  const w = await startEdgeWorker({
    bindings: {
      FERRY_CONFIG: JSON.stringify(config),
      PUSH_TOKEN,
      ADMIN_TOKEN,
      DLQ_TOKEN,
      UPSTASH_TOKEN: gateway.token,
      FERRY_LOG: 'quiet',
    },
    ...(port === undefined ? {} : { port }),
  });
  workers.push(w);
  return w;
}

/** `count` numbered records produced to a fresh topic, read back from Kafka as push records. */
async function recordsFromKafka(run: string, count: number, partitions: number): Promise<PushRecord[]> {
  const topic = await bed.topic(`edge-${run}`, partitions);
  await bed.producer.produce(topic, 0, count, { keys: 20, run });
  const read = await readTopic(topic, { until: (rs) => rs.length >= count, timeoutMs: 60_000 });
  return read.map(toPushRecord);
}

describe('edge relay on workerd', () => {
  it('answers a cron event with one drain that says no pull source is configured, and refuses a bad config naming the problem only', async () => {
    const run = randomUUID().slice(0, 8);
    const w = await worker(edgeConfig(bed.api, `edge-cron-${run}`, run));
    expect(await w.scheduled()).toMatchObject({ outcome: 'ok' });
    await waitUntil(() => w.output().includes('no pull source configured'), { timeoutMs: 10_000 });

    const bad = { ...edgeConfig(bed.api, `edge-bad-${run}`, run), dlq: { to: 'kafka' } };
    const refused = await worker(bad).then(
      () => undefined,
      (e: unknown) => String(e),
    );
    expect(refused).toContain('dlq.to: kafka needs a Kafka client');
    expect(refused).not.toContain(PUSH_TOKEN);
  });

  it('runs the HTTP Proxy pull driver on a cron event with source http-proxy (an unreachable proxy: the drain reports failed)', async () => {
    const run = randomUUID().slice(0, 8);
    const { push: _push, ...rest } = edgeConfig(bed.api, `edge-pull-${run}`, run);
    const w = await worker({
      ...rest,
      source: 'http-proxy',
      httpProxy: { url: 'http://127.0.0.1:1', requestTimeout: '500ms', drain: { budget: '2s' } },
    });
    expect(await w.scheduled()).toMatchObject({ outcome: 'ok' });
    await waitUntil(() => w.output().includes('"drain failed"'), { timeoutMs: 15_000 });
    const line = w
      .output()
      .split('\n')
      .find((l) => l.includes('"drain failed"')) as string;
    expect(JSON.parse(line.slice(line.indexOf('{')))).toMatchObject({ outcome: 'failed', handed: 0 });
    expect(bed.api.report(`edge-${run}`).received).toBe(0);
  });

  it('guards the push route and the admin API on workerd as elsewhere: 401, 413, 501 for replay', async () => {
    const run = randomUUID().slice(0, 8);
    const config = edgeConfig(bed.api, `edge-guard-${run}`, run);
    const w = await worker({ ...config, push: { ...config.push, maxBodyBytes: 4096 } });
    expect((await pushBatch(w.url, 'wrong-token-0123456789', [])).status).toBe(401);
    expect((await fetch(`${w.url}/v1/sinks`)).status).toBe(401);
    const big = Array.from({ length: 50 }, (_, i) => ({
      topic: 't',
      partition: 0,
      offset: i,
      valueText: 'x'.repeat(200),
    }));
    expect((await pushBatch(w.url, PUSH_TOKEN, big)).status).toBe(413);
    const replay = await fetch(`${w.url}/v1/dlq/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ sink: `edge-${run}` }),
    });
    expect(replay.status).toBe(501);
    const sinks = await fetch(`${w.url}/v1/sinks`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(sinks.status).toBe(200);
    expect(JSON.stringify(await sinks.json())).toContain(`edge-${run}`);
    expect((await fetch(`${w.url}/readyz`)).status).toBe(200);
  });

  it('delivers batches read from Kafka once, dead-letters a malformed record to the DLQ URL, and deduplicates a re-push through Upstash', async () => {
    const run = randomUUID().slice(0, 8);
    const records = await recordsFromKafka(run, 600, 3);
    const topic = records[0]!.topic;
    const broken = records[123]!;
    records[123] = { ...broken, valueText: '{"broken":' };
    const w = await worker(edgeConfig(bed.api, topic, run));
    const before = gateway.requests.length;

    for (const batch of partitionBatches(records, 200)) {
      const answer = await pushBatch(w.url, PUSH_TOKEN, batch);
      expect(answer).toMatchObject({ status: 200, body: { status: 'committed', accepted: batch.length } });
    }
    const report = bed.api.report(`edge-${run}`);
    expect(report.applied).toBe(599);
    expect(report.received).toBe(599);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    expect(gateway.requests.length).toBeGreaterThan(before);

    // The dead letter: the envelope with the original value and the ferry-error-* headers.
    const dlq = bed.api.ledger(`dlq-${run}`).requests;
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.headers.authorization).toBe(`Bearer ${DLQ_TOKEN}`);
    const letter = decodeEnvelope(JSON.parse(dlq[0]?.body ?? 'null'));
    const header = (k: string) =>
      new TextDecoder().decode(letter?.headers.find((h) => h.key === k)?.value ?? undefined);
    expect(new TextDecoder().decode(letter?.value ?? undefined)).toBe('{"broken":');
    expect(header('ferry-error-code')).toBe('FERRY_RECORD_UNPARSEABLE');
    expect(header('ferry-event-id')).toBe(broken.headers?.['ferry-event-id']);
    expect(header('ferry-error-source-offset')).toBe(String(broken.offset));

    // Pushed again (another request, so another relay): every record is found done in Upstash.
    for (const batch of partitionBatches(records, 200))
      expect((await pushBatch(w.url, PUSH_TOKEN, batch)).status).toBe(200);
    expect(bed.api.report(`edge-${run}`).received).toBe(599);
    expect(await w.metric('ferry_records_deduplicated_total')).toBe(599);
    expect(await w.metric('ferry_records_delivered_total')).toBe(599);
  });

  it('applies batches pushed to two workerd instances at once exactly once (dedupe across isolates)', async () => {
    const run = randomUUID().slice(0, 8);
    const records = await recordsFromKafka(run, 400, 2);
    const config = edgeConfig(bed.api, records[0]!.topic, run, {
      timeout: '5s',
      dedupe: { store: 'upstash', lease: '10s' },
    });
    bed.api.setFaults(`edge-${run}`, { latency: { kind: 'uniform', minMs: 1, maxMs: 10 } });
    const [a, b] = await Promise.all([worker(config), worker(config)]);
    const batches = partitionBatches(records, 100);
    // Each instance takes every batch, in log order per instance (as a forwarder pushes them).
    await Promise.all(
      [a, b].map(async (w) => {
        for (const batch of batches) await pushUntilCommitted(() => w.url, PUSH_TOKEN, batch);
      }),
    );
    const report = bed.api.report(`edge-${run}`);
    expect(report.applied).toBe(400);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    // Every record ends delivered or deduplicated on each instance; the API applied each once.
    const total = async (name: string) => (await a.metric(name)) + (await b.metric(name));
    const delivered = await total('ferry_records_delivered_total');
    expect(delivered + (await total('ferry_records_deduplicated_total'))).toBe(800);
    // Sent twice only what one instance's timeout gave back while the API had applied it (reported).
    expect(report.received - report.applied).toBe(delivered - 400);
    console.log(`two isolates: ${report.received} requests for ${report.applied} events`);
  });

  it('loses nothing and applies nothing twice when the Worker is killed mid-batch, started again and the batch re-pushed', async () => {
    const run = randomUUID().slice(0, 8);
    const records = await recordsFromKafka(run, 300, 1);
    const config = edgeConfig(bed.api, records[0]!.topic, run);
    bed.api.setFaults(`edge-${run}`, { latency: { kind: 'fixed', ms: 40 } });
    const first = await worker(config);
    const inFlight = pushBatch(first.url, PUSH_TOKEN, records);
    await waitUntil(() => bed.api.report(`edge-${run}`).received >= 60, {
      timeoutMs: 30_000,
      intervalMs: 10,
    });
    await first.kill9();
    const cut = await inFlight;
    expect(cut.status).toBe(0); // the connection died with the Worker: no answer
    const appliedAtKill = bed.api.report(`edge-${run}`).applied;
    expect(appliedAtKill).toBeLessThan(300);

    const second = await worker(config, first.port);
    const answers = await pushUntilCommitted(() => second.url, PUSH_TOKEN, records, { timeoutMs: 60_000 });
    expect(answers.at(-1)?.body).toMatchObject({ status: 'committed', accepted: 300 });
    const report = bed.api.report(`edge-${run}`);
    expect(report.applied).toBe(300);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    // Re-sent on the wire only what was in flight at the kill (answered, but not yet marked done):
    // at most one record per ordering key (20 keys, one in flight each).
    expect(report.replays).toBeLessThanOrEqual(20);
    console.log(`kill mid-batch: applied ${appliedAtKill} before the kill, replays ${report.replays}`);
  });

  it('applies a batch pushed three times at once to one isolate exactly once (a relay per request, one claim each)', async () => {
    const run = randomUUID().slice(0, 8);
    const records = await recordsFromKafka(run, 150, 1);
    const w = await worker(edgeConfig(bed.api, records[0]!.topic, run));
    bed.api.setFaults(`edge-${run}`, { latency: { kind: 'uniform', minMs: 1, maxMs: 5 } });
    const answers = await Promise.all(
      [1, 2, 3].map(() => pushUntilCommitted(() => w.url, PUSH_TOKEN, records)),
    );
    expect(answers.every((list) => list.at(-1)?.status === 200)).toBe(true);
    const report = bed.api.report(`edge-${run}`);
    expect(report.applied).toBe(150);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    const delivered = await w.metric('ferry_records_delivered_total');
    expect(delivered + (await w.metric('ferry_records_deduplicated_total'))).toBe(450);
    expect(report.received - report.applied).toBe(delivered - 150);
  });

  it('holds deliveries while Upstash fails (onUnavailable block) and delivers them once it answers again', async () => {
    const run = randomUUID().slice(0, 8);
    const records = await recordsFromKafka(run, 100, 1);
    const w = await worker(edgeConfig(bed.api, records[0]!.topic, run));
    const failedBefore = gateway.requests.filter((r) => r.outcome === 'failed').length;
    gateway.failRequests(40, 503);
    const answers = await pushUntilCommitted(() => w.url, PUSH_TOKEN, records, { timeoutMs: 90_000 });
    expect(answers.at(-1)?.status).toBe(200);
    expect(gateway.requests.filter((r) => r.outcome === 'failed').length - failedBefore).toBe(40);
    const report = bed.api.report(`edge-${run}`);
    expect(report.applied).toBe(100);
    expect(report.duplicateApplications).toBe(0);
    expect(bed.api.report(`dlq-${run}`).received).toBe(0);
  });

  it('rides out a sink answering 503 for a while: retries, the breaker, re-pushes after 202, nothing lost', async () => {
    const run = randomUUID().slice(0, 8);
    const records = await recordsFromKafka(run, 200, 2);
    const config = edgeConfig(bed.api, records[0]!.topic, run, {
      retry: { attempts: 50, backoffBase: '50ms', backoffCap: '300ms' },
      breaker: { threshold: 10, halfOpenAfter: '500ms' },
    });
    config.push.timeout = '2s';
    const w = await worker(config);
    bed.api.setFaults(`edge-${run}`, { fixed: { status: 503, forMs: 3000 } });
    const answers = await Promise.all(
      partitionBatches(records, 100).map((batch) => pushUntilCommitted(() => w.url, PUSH_TOKEN, batch)),
    );
    const report = bed.api.report(`edge-${run}`);
    expect(report.applied).toBe(200);
    expect(report.duplicateApplications).toBe(0);
    expect(report.byOutcome['503']).toBeGreaterThan(0);
    expect(bed.api.report(`dlq-${run}`).received).toBe(0);
    // The 503 period outlasted the push timeout: at least one batch answered 202 and was pushed again.
    expect(answers.flat().some((a) => a.status === 202)).toBe(true);
  });
});
