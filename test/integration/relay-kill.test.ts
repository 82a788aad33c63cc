// kill -9 of the relay process in the middle of a 20k-record run, then a restart: every record is
// applied exactly once at the (idempotent) mock API, wire duplicates stay bounded by what was in
// flight, and per-key order holds. Repeated 5 times.
import { expect, it } from 'vitest';
import { mockApiSink, relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { waitFor } from '../support/wait.ts';

const RECORDS = 20_000;
const MAX_IN_FLIGHT = 64;
const bed = useRelayTestbed({ api: { recordBodies: false } });

for (let round = 1; round <= 5; round++) {
  it(`round ${round}: kill -9 mid-run, restart, zero lost, zero duplicate applications`, async () => {
    const run = `kill${round}-${Date.now()}`;
    const topic = await bed.topic('kill', 12);
    const { api, producer } = bed;
    const endpoint = `kill${round}`;
    await producer.produce(topic, 0, RECORDS, { keys: 400, run, valueBytes: 1000 });
    const config = writeRelayConfig(
      relayConfig({
        instanceId: `killer-${round}`,
        topic,
        sinks: [mockApiSink(api.url, endpoint, { bulkhead: { maxInFlight: MAX_IN_FLIGHT, buffer: 2000 } })],
      }),
    );
    const first = await spawnRelay({ configPath: config });
    // Kill somewhere between 20% and 80% of the run.
    const killAt = Math.floor(RECORDS * (0.2 + 0.6 * Math.random()));
    await waitFor(() => api.report(endpoint).applied >= killAt, 120_000, `${killAt} applied`);
    await first.kill9();
    const atKill = api.report(endpoint);

    const second = await spawnRelay({ configPath: config });
    await waitFor(() => api.report(endpoint).applied >= RECORDS, 150_000, `all ${RECORDS} applied`);
    // Let any straggling re-sends land before the books are closed.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await second.stop()).toBe(0);

    const report = api.report(endpoint);
    const lost = notApplied(api, endpoint, run, RECORDS);
    console.log(
      `round ${round}: killed at ${atKill.applied} applied; after restart applied=${report.applied} ` +
        `wire duplicates (replays)=${report.replays} duplicate keys=${report.duplicateKeyCount} ` +
        `order violations=${report.orderViolations}`,
    );
    expect(lost).toEqual([]);
    expect(report.applied).toBe(RECORDS);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    // Re-sent after the crash: only what was in flight (delivered but not yet marked done).
    expect(report.replays).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  });
}
