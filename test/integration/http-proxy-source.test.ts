// The HTTP Proxy pull driver end to end on Node: the relay core draining the test HTTP Proxy over the
// real local Kafka, delivering to the mock API with Redis dedupe. Every test accounts for each record
// (applied exactly once at the API) and checks that the group's commits never pass a record that is
// not terminal.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProxyClient } from '../../relay/adapters/http-proxy/index.ts';
import { committedNotApplied, produceClean, startProxyRelay } from '../support/http-proxy/relay.ts';
import { type HttpProxyServer, startHttpProxy } from '../support/http-proxy/server.ts';
import { committedOffsets, endOffsets } from '../support/kafka.ts';
import { deleteTopics } from '../support/relay-kafka.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

const bed = useRelayTestbed({ api: { endpoints: [] } });
const dlqTopics: string[] = [];
let proxy: HttpProxyServer;

beforeAll(async () => {
  proxy = await startHttpProxy();
});
afterAll(async () => {
  await proxy?.close();
  await deleteTopics(...dlqTopics);
});

/** A fresh topic with `count` clean records, its group, an API endpoint and a run id. */
async function scenario(prefix: string, partitions: number, count: number) {
  const topic = await bed.topic(prefix, partitions);
  dlqTopics.push(`dlq-${topic}`);
  const run = randomUUID().slice(0, 8);
  const endpoint = `ep${run}`;
  await produceClean(topic, { run, count });
  return { topic, run, endpoint, group: `g-${topic}`, sinkUrl: `${bed.api.url}/${endpoint}` };
}

/** Every record below the group's commit was applied at the API: nothing is committed past a record that is not terminal. */
async function expectCommitsTerminal(
  s: Awaited<ReturnType<typeof scenario>>,
  partitions: number,
): Promise<void> {
  expect(
    await committedNotApplied(bed.api, { ...s, partitions }),
    'committed past records the API never applied',
  ).toEqual([]);
}

describe('HTTP Proxy pull driver on Node', () => {
  it('drains 1,000 records: every one applied once, the group committed at the end offsets, the instance deleted', async () => {
    const s = await scenario('hp-drain', 4, 1000);
    const r = await startProxyRelay({
      proxyUrl: proxy.url,
      topic: s.topic,
      group: s.group,
      sinkUrl: s.sinkUrl,
      instanceId: `a-${s.run}`,
    });
    try {
      const report = await r.drain({ budgetMs: 60_000 });
      expect(report.error).toBeUndefined();
      expect(report).toMatchObject({
        outcome: 'caught-up',
        fetched: 1000,
        handed: 1000,
        abandoned: 0,
        instances: 1,
      });
    } finally {
      await r.stop();
    }
    expect(notApplied(bed.api, s.endpoint, s.run, 1000)).toEqual([]);
    const rep = bed.api.report(s.endpoint);
    expect(rep.duplicateApplications).toBe(0);
    expect(rep.orderViolations).toBe(0);
    expect(await committedOffsets(s.group, s.topic, 4)).toEqual(await endOffsets(s.topic));
    expect(proxy.instances().filter((i) => i.startsWith(`${s.group}/`))).toEqual([]);
  });

  it('stops at its deadline: nothing committed past a record that is not terminal; the next drain finishes', async () => {
    const s = await scenario('hp-deadline', 2, 400);
    // Slow API: 400 records on 20 keys at 150 ms each need ~3 s per key; the first drain has 1.5 s (at
    // 40 ms, ~800 ms per key, a quiet machine finished them all within the budget).
    bed.api.setFaults(s.endpoint, { latency: { kind: 'fixed', ms: 150 } });
    const r = await startProxyRelay({
      proxyUrl: proxy.url,
      topic: s.topic,
      group: s.group,
      sinkUrl: s.sinkUrl,
      instanceId: `a-${s.run}`,
    });
    try {
      const first = await r.drain({ budgetMs: 1500 });
      expect(first.outcome).toBe('deadline');
      expect(first.abandoned).toBeGreaterThan(0);
      await expectCommitsTerminal(s, 2);
      const applied = bed.api.report(s.endpoint).applied;
      expect(applied).toBeLessThan(400);
      bed.api.setFaults(s.endpoint, {});
      const second = await r.drain({ budgetMs: 60_000 });
      expect(second).toMatchObject({ outcome: 'caught-up', abandoned: 0 });
      // The second drain starts where the first committed: what it fetches is at most what was left.
      expect(second.fetched).toBeLessThanOrEqual(400 - (applied - first.abandoned) + first.abandoned);
    } finally {
      await r.stop();
    }
    expect(notApplied(bed.api, s.endpoint, s.run, 400)).toEqual([]);
    expect(bed.api.report(s.endpoint).duplicateApplications).toBe(0);
    expect(await committedOffsets(s.group, s.topic, 2)).toEqual(await endOffsets(s.topic));
  });

  it('sink answering 503: nothing committed, the records are fetched again and delivered once it recovers', async () => {
    const s = await scenario('hp-503', 2, 200);
    bed.api.setFaults(s.endpoint, { fixed: { status: 503 } });
    const r = await startProxyRelay({
      proxyUrl: proxy.url,
      topic: s.topic,
      group: s.group,
      sinkUrl: s.sinkUrl,
      instanceId: `a-${s.run}`,
      sink: { onExhausted: 'block', parkFor: '200ms' },
    });
    try {
      const first = await r.drain({ budgetMs: 2000 });
      expect(first).toMatchObject({ outcome: 'deadline', fetched: 200, committed: [] });
      expect(bed.api.report(s.endpoint).byOutcome['503']).toBeGreaterThan(0);
      expect(bed.api.report(s.endpoint).applied).toBe(0);
      expect(await committedOffsets(s.group, s.topic, 2)).toEqual(
        new Map([
          [0, -1n],
          [1, -1n],
        ]),
      );
      bed.api.setFaults(s.endpoint, {});
      const second = await r.drain({ budgetMs: 60_000 });
      expect(second).toMatchObject({ outcome: 'caught-up', fetched: 200, handed: 200, abandoned: 0 });
    } finally {
      await r.stop();
    }
    expect(notApplied(bed.api, s.endpoint, s.run, 200)).toEqual([]);
    expect(bed.api.report(s.endpoint).duplicateApplications).toBe(0);
    expect(await committedOffsets(s.group, s.topic, 2)).toEqual(await endOffsets(s.topic));
  });

  it('two drivers on one group share the partitions and together apply every record once', async () => {
    const s = await scenario('hp-two', 4, 1200);
    bed.api.setFaults(s.endpoint, { latency: { kind: 'fixed', ms: 5 } });
    const a = await startProxyRelay({
      proxyUrl: proxy.url,
      topic: s.topic,
      group: s.group,
      sinkUrl: s.sinkUrl,
      instanceId: `a-${s.run}`,
    });
    const b = await startProxyRelay({
      proxyUrl: proxy.url,
      topic: s.topic,
      group: s.group,
      sinkUrl: s.sinkUrl,
      instanceId: `b-${s.run}`,
    });
    try {
      const [ra, rb] = await Promise.all([a.drain({ budgetMs: 90_000 }), b.drain({ budgetMs: 90_000 })]);
      expect(ra.error).toBeUndefined();
      expect(rb.error).toBeUndefined();
      // Both instances were in the group: each fetched a share.
      expect(ra.handed).toBeGreaterThan(0);
      expect(rb.handed).toBeGreaterThan(0);
      // A drain that ended before the other's records were terminal leaves them to the next one.
      await a.drain({ budgetMs: 30_000 });
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(notApplied(bed.api, s.endpoint, s.run, 1200)).toEqual([]);
    expect(bed.api.report(s.endpoint).duplicateApplications).toBe(0);
    expect(await committedOffsets(s.group, s.topic, 4)).toEqual(await endOffsets(s.topic));
  });

  it("instance timed out on the proxy: mid-drain it is created again; a crashed drain's instance expires by itself", async () => {
    const short = await startHttpProxy({ instanceTimeoutMs: 1000 });
    const s = await scenario('hp-timeout', 2, 300);
    const r = await startProxyRelay({
      proxyUrl: short.url,
      topic: s.topic,
      group: s.group,
      sinkUrl: s.sinkUrl,
      instanceId: `a-${s.run}`,
    });
    try {
      // A drain that crashed left its instance (same name) behind; the proxy drops it after 1 s idle.
      const leftover = createHttpProxyClient({ url: short.url });
      await leftover.createConsumer(s.group, `ferry-a-${s.run}`);
      await waitUntil(() => short.instances().length === 0, {
        timeoutMs: 15_000,
        message: 'the idle instance to expire',
      });
      // Mid-drain the proxy drops the instance: the drain creates it again and finishes.
      bed.api.setFaults(s.endpoint, { latency: { kind: 'fixed', ms: 10 } });
      const expiring = (async () => {
        await waitUntil(() => bed.api.report(s.endpoint).applied >= 50, {
          timeoutMs: 30_000,
          intervalMs: 20,
        });
        await short.expire(s.group, `ferry-a-${s.run}`);
      })();
      const report = await r.drain({ budgetMs: 90_000 });
      await expiring;
      expect(report.error).toBeUndefined();
      expect(report.instances).toBe(2);
      expect(r.logs.some((l) => l.message.includes('consumer instance gone'))).toBe(true);
      // Whatever the expiry left unfinished comes back in the next drain.
      await r.drain({ budgetMs: 30_000 });
    } finally {
      await r.stop();
      await short.close();
    }
    expect(notApplied(bed.api, s.endpoint, s.run, 300)).toEqual([]);
    expect(bed.api.report(s.endpoint).duplicateApplications).toBe(0);
    expect(await committedOffsets(s.group, s.topic, 2)).toEqual(await endOffsets(s.topic));
  });

  it('bad credentials: the drain fails with FERRY_PROXY_AUTH naming the 401, without the password, and consumes nothing', async () => {
    const guarded = await startHttpProxy({ auth: { username: 'ferry', password: 'right-password-123' } });
    const s = await scenario('hp-auth', 1, 10);
    const wrong = await startProxyRelay({
      proxyUrl: guarded.url,
      topic: s.topic,
      group: s.group,
      sinkUrl: s.sinkUrl,
      instanceId: `a-${s.run}`,
      auth: { kind: 'basic', username: 'ferry', password: 'wrong-password-456' },
    });
    try {
      const report = await wrong.drain({ budgetMs: 10_000 });
      expect(report).toMatchObject({
        outcome: 'failed',
        fetched: 0,
        error: { code: 'FERRY_PROXY_AUTH', retryable: false },
      });
      expect(report.error?.message).toContain('HTTP 401 (error_code 40101');
      expect(JSON.stringify([report, wrong.logs])).not.toContain('wrong-password-456');
      expect(wrong.source.isConnected()).toBe(false);
      expect(wrong.source.notReadyReason?.()).toContain('401');
      expect(guarded.instances()).toEqual([]);
    } finally {
      await wrong.stop();
    }
    const right = await startProxyRelay({
      proxyUrl: guarded.url,
      topic: s.topic,
      group: s.group,
      sinkUrl: s.sinkUrl,
      instanceId: `b-${s.run}`,
      auth: { kind: 'basic', username: 'ferry', password: 'right-password-123' },
    });
    try {
      expect(await right.drain({ budgetMs: 30_000 })).toMatchObject({ outcome: 'caught-up', handed: 10 });
    } finally {
      await right.stop();
      await guarded.close();
    }
    expect(notApplied(bed.api, s.endpoint, s.run, 10)).toEqual([]);
  });
});
