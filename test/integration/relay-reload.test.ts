// A team joins the relay without a restart: a sink is added to the config file of a running relay
// (real Kafka, Redis dedupe, mock API) and applied by POST /v1/config/reload; the existing sink keeps
// flowing with nothing re-sent, the new one receives what is consumed after the reload. A bad config
// and a restart-only change are refused and change nothing; SIGHUP removes the sink again.
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import { mockApiSink, relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { waitFor, waitUntil } from '../support/wait.ts';

const bed = useRelayTestbed({ api: { recordBodies: false } });
const TOKEN = 'test-admin-token-0123456789';

it('adds a sink by reload while the other keeps flowing, refuses bad reloads, removes it on SIGHUP', async () => {
  const run = `reload-${Date.now()}`;
  const topic = await bed.topic('reload', 6);
  const { api, producer } = bed;
  const [a, b] = [`${run}-a`, `${run}-b`];
  const base = relayConfig({ instanceId: run, topic, sinks: [mockApiSink(api.url, a)] });
  const path = writeRelayConfig(base);
  const relay = await spawnRelay({ configPath: path });
  const admin = (method: string, route: string) =>
    fetch(`http://127.0.0.1:${relay.port}${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
  const sinkIds = async () =>
    ((await (await admin('GET', '/v1/sinks')).json()) as { sinks: Array<{ id: string }> }).sinks.map(
      (s) => s.id,
    );

  await producer.produce(topic, 0, 2000, { keys: 200, run, valueBytes: 300 });
  await waitFor(() => api.report(a).applied >= 2000, 60_000, 'the first 2000 at a');

  // Add b.
  const withB = {
    ...base,
    routes: [{ name: 'test', topics: [topic], sinks: [mockApiSink(api.url, a), mockApiSink(api.url, b)] }],
  };
  writeFileSync(path, stringify(withB));
  const added = await admin('POST', '/v1/config/reload');
  expect(added.status).toBe(200);
  expect(await added.json()).toEqual({
    ok: true,
    summary: { added: [b], removed: [], changed: [], unchanged: [a] },
  });
  expect(await sinkIds()).toEqual([a, b]);

  await producer.produce(topic, 2000, 2000, { keys: 200, run, valueBytes: 300 });
  await waitFor(() => api.report(a).applied >= 4000 && api.report(b).applied >= 2000, 90_000, 'both sinks');
  // a: everything once, nothing re-sent because of the reload. b: every record produced after it.
  expect(notApplied(api, a, run, 4000)).toEqual([]);
  expect(api.report(a).duplicateApplications).toBe(0);
  expect(api.report(a).replays).toBe(0);
  const appliedAtB = new Set(api.ledger(b).appliedKeys);
  expect(
    Array.from({ length: 2000 }, (_, i) => `${run}-${2000 + i}`).filter((id) => !appliedAtB.has(id)),
  ).toEqual([]);
  expect(api.report(b).duplicateApplications).toBe(0);

  // A config that does not validate is refused with its errors; nothing changes.
  writeFileSync(
    path,
    stringify({
      ...withB,
      routes: [{ name: 'test', topics: [topic], sinks: [{ id: 'x', url: 'ftp://nope' }] }],
    }),
  );
  const bad = await admin('POST', '/v1/config/reload');
  expect(bad.status).toBe(422);
  expect(JSON.stringify(await bad.json())).toContain('must be an http(s) URL');
  // A restart-only change is refused too.
  writeFileSync(
    path,
    stringify({ ...withB, kafka: { ...(base.kafka as object), groupId: 'another-group' } }),
  );
  const fixed = await admin('POST', '/v1/config/reload');
  expect(fixed.status).toBe(422);
  expect(JSON.stringify(await fixed.json())).toContain('kafka: cannot change while running');
  expect(await sinkIds()).toEqual([a, b]);

  // SIGHUP applies the file too: back to a alone.
  writeFileSync(path, stringify(base));
  relay.child.kill('SIGHUP');
  await waitUntil(async () => (await sinkIds()).join() === a, {
    timeoutMs: 30_000,
    message: 'b removed by SIGHUP',
  });
  await producer.produce(topic, 4000, 500, { keys: 200, run, valueBytes: 300 });
  await waitFor(() => api.report(a).applied >= 4500, 60_000, 'a goes on');
  expect(api.report(b).applied).toBe(2000);
  expect(api.report(a).duplicateApplications).toBe(0);
  expect(await relay.stop()).toBe(0);
});
