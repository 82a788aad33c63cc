// A relay frozen longer than its session timeout (SIGSTOP by pid, as a long GC pause or a starved
// container would) loses its partitions to the other instance; when it wakes up (SIGCONT) it finds a
// newer generation, drops everything it held and rejoins. Zero lost, zero duplicate applications.
import { expect, it } from 'vitest';
import {
  metricTotal,
  mockApiSink,
  relayConfig,
  spawnRelay,
  writeRelayConfig,
} from '../support/relay-process.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { waitFor } from '../support/wait.ts';

const RECORDS = 12_000;
const bed = useRelayTestbed({ api: { recordBodies: false } });

it('a relay frozen past its session timeout loses its partitions and rejoins cleanly', async () => {
  const run = `frz-${Date.now()}`;
  const topic = await bed.topic('frz', 12);
  const { api, producer } = bed;
  const endpoint = 'freeze';
  const config = (instanceId: string) =>
    writeRelayConfig(relayConfig({ instanceId, topic, sinks: [mockApiSink(api.url, endpoint)] }));
  await producer.produce(topic, 0, RECORDS / 2, { keys: 300, run, valueBytes: 500 });
  const a = await spawnRelay({ configPath: config('frz-a') });
  const b = await spawnRelay({ configPath: config('frz-b') });
  try {
    await waitFor(() => api.report(endpoint).applied >= RECORDS / 6, 120_000, 'a sixth applied');
    // Freeze a for longer than the session timeout (10 s) while more records arrive.
    process.kill(a.pid, 'SIGSTOP');
    const frozenAt = api.report(endpoint).applied;
    await producer.produce(topic, RECORDS / 2, RECORDS / 2, { keys: 300, run, valueBytes: 500 });
    await new Promise((r) => setTimeout(r, 15_000));
    // b took over a's partitions meanwhile.
    expect(api.report(endpoint).applied).toBeGreaterThan(frozenAt);
    process.kill(a.pid, 'SIGCONT');
    await waitFor(() => api.report(endpoint).applied >= RECORDS, 150_000, `all ${RECORDS} applied`);
    await new Promise((r) => setTimeout(r, 1000));
    // Both are alive and serving after the episode.
    expect(await metricTotal(a.port, 'ferry_records_consumed_total')).toBeGreaterThan(0);
    expect(await metricTotal(b.port, 'ferry_records_delivered_total')).toBeGreaterThan(0);
  } finally {
    if (a.child.exitCode === null) process.kill(a.pid, 'SIGCONT');
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  }
  const report = api.report(endpoint);
  const lost = notApplied(api, endpoint, run, RECORDS);
  console.log(
    `freeze: applied=${report.applied} wire duplicates (replays)=${report.replays} order violations=${report.orderViolations}`,
  );
  expect(lost).toEqual([]);
  expect(report.applied).toBe(RECORDS);
  expect(report.duplicateApplications).toBe(0);
});
