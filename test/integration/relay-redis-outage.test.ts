// Redis unreachable for 10 s (a TCP proxy in front of the stack's Redis is cut, the shared Redis
// keeps running): a sink with onUnavailable=block stops delivering and resumes afterwards; a sink
// with onUnavailable=deliver keeps delivering without dedupe. Nothing is lost on either, and the
// idempotent API never applies an event twice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_URL } from '../../deploy/local/config.ts';
import {
  metricTotal,
  mockApiSink,
  relayConfig,
  spawnRelay,
  writeRelayConfig,
} from '../support/relay-process.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/wait.ts';

const bed = useRelayTestbed({ api: { recordBodies: false } });
let proxy: TcpProxy;
beforeAll(async () => {
  const target = new URL(REDIS_URL);
  proxy = await startTcpProxy(target.hostname, Number(target.port));
});
afterAll(async () => {
  await proxy.close();
});

it('Redis down for 10 s: block waits, deliver keeps going, nothing lost', async () => {
  const run = `outage-${Date.now()}`;
  const topic = await bed.topic('outage', 6);
  const { api, producer } = bed;
  const sink = (id: string, onUnavailable: 'block' | 'deliver') =>
    mockApiSink(api.url, id, {
      retry: { attempts: 3, backoffBase: '100ms', backoffCap: '1s' },
      dedupe: { store: 'redis', ttl: '1h', lease: '5s', onUnavailable },
    });
  const config = writeRelayConfig(
    relayConfig({
      instanceId: 'outage-1',
      topic,
      redisUrl: proxy.url('redis'),
      sinks: [sink('blocker', 'block'), sink('deliverer', 'deliver')],
    }),
  );
  const relay = await spawnRelay({ configPath: config });
  await producer.produce(topic, 0, 2000, { keys: 100, run, valueBytes: 500 });
  await waitFor(
    () => api.report('blocker').applied >= 2000 && api.report('deliverer').applied >= 2000,
    60_000,
    'first 2000 on both sinks',
  );

  proxy.down();
  const downAt = Date.now();
  await producer.produce(topic, 2000, 2000, { keys: 100, run, valueBytes: 500 });
  // deliver: keeps delivering while Redis is gone. Redis stays down for at least 10 s, longer if the
  // (shared, possibly busy) machine needs more time to deliver the new records.
  await waitFor(
    () => api.report('deliverer').applied >= 4000,
    90_000,
    'deliverer delivers during the outage',
  );
  while (Date.now() - downAt < 10_000) await new Promise((r) => setTimeout(r, 100));
  // block: nothing new reached the API while the store was unreachable.
  const blockedDuring = api.report('blocker').applied;
  expect(blockedDuring).toBe(2000);
  const outageMs = Date.now() - downAt;
  const unavailable = await metricTotal(relay.port, 'ferry_dedupe_unavailable_total');
  expect(unavailable).toBeGreaterThan(0);

  proxy.up();
  await waitFor(() => api.report('blocker').applied >= 4000, 60_000, 'blocker catches up after the outage');
  await new Promise((r) => setTimeout(r, 1000));
  expect(await relay.stop()).toBe(0);

  for (const id of ['blocker', 'deliverer']) {
    const report = api.report(id);
    const lost = notApplied(api, id, run, 4000);
    console.log(
      `${id}: applied=${report.applied} replays=${report.replays} order violations=${report.orderViolations}`,
    );
    expect(lost).toEqual([]);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
  }
  console.log(
    `Redis unreachable for ${outageMs} ms: blocker held at ${blockedDuring}, deliverer went on; ` +
      `dedupe-unavailable events: ${unavailable}`,
  );
});
