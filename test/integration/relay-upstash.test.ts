// The relay with its dedupe on the Upstash store (HTTP, @upstash/redis) through the Upstash-protocol
// gateway in front of the stack's Redis, with replies dropped now and then: every record applied
// once, in order, and the done marks land in Redis under the sink's keys.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_URL } from '../../deploy/local/config.ts';
import { mockApiSink, relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { startUpstashGateway, type UpstashGateway } from '../support/upstash-gateway.ts';

const bed = useRelayTestbed({ api: { recordBodies: false } });
let gateway: UpstashGateway;
beforeAll(async () => {
  gateway = await startUpstashGateway({ redisUrl: REDIS_URL });
});
afterAll(async () => {
  await gateway.close();
});

it('delivers through a relay whose dedupe store is Upstash over HTTP, despite lost replies', async () => {
  const run = `ups-${Date.now()}`;
  const topic = await bed.topic('ups', 4);
  const { api, producer } = bed;
  const sinkId = `ups${Date.now()}`;
  const config = relayConfig({
    instanceId: 'ups-1',
    topic,
    sinks: [
      mockApiSink(api.url, sinkId, {
        dedupe: { store: 'upstash', ttl: '1h', lease: '10s', onUnavailable: 'block' },
      }),
    ],
  });
  const relay = await spawnRelay({
    configPath: writeRelayConfig({ ...config, upstash: { url: gateway.url, token: gateway.token } }),
  });
  try {
    // Some SET NX replies are lost on the way back: the store must not count those as taken.
    gateway.dropReplies(3, (path, body) => path === '/pipeline' && JSON.stringify(body).includes('"nx"'));
    await producer.produce(topic, 0, 1000, { keys: 50, run });
    const end = Date.now() + 90_000;
    while (api.report(sinkId).applied < 1000 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    const report = api.report(sinkId);
    expect(report.applied).toBe(1000);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    expect(gateway.requests.filter((r) => r.outcome === 'dropped')).toHaveLength(3);
    expect(gateway.requests.every((r) => r.headers.authorization === `Bearer ${gateway.token}`)).toBe(true);
  } finally {
    expect(await relay.stop()).toBe(0);
  }
  const redis = new Redis(REDIS_URL);
  try {
    const values = await redis.mget(
      ...Array.from({ length: 1000 }, (_, i) => `ferry:dedupe:${sinkId}:${run}-${i}`),
    );
    expect(values.every((v) => v === 'done')).toBe(true);
  } finally {
    redis.disconnect();
  }
});
