// The relay smoke under another runtime (Deno, Bun): its entry point run as a child process with a
// config file, 300 numbered records on a fresh 3-partition topic delivered end to end to one mock API
// endpoint (`<runtime>-sink`), then a graceful SIGTERM. The per-runtime test files pass what differs
// (sink settings, start timeout, extra checks) and assert on the exit themselves.
import { expect } from 'vitest';
import type { MockApi } from './mock-api/index.ts';
import {
  metricTotal,
  mockApiSink,
  type RelayProcess,
  relayConfig,
  spawnRelay,
  writeRelayConfig,
} from './relay-process.ts';
import type { RelayTestbed } from './relay-testbed.ts';

const RECORDS = 300;

export interface RuntimeSmoke {
  readonly runtime: 'deno' | 'bun';
  /** Fields of the sink that replace mockApiSink's defaults. */
  readonly sink?: (api: MockApi, id: string) => Record<string, unknown>;
  readonly startTimeoutMs?: number;
  /** More checks once every record is applied, before the relay is stopped. */
  readonly check?: (api: MockApi, sinkId: string, run: string) => void;
}

/** Runs the smoke against the testbed's mock API; resolves with the stopped relay and its exit code. */
export async function runRelaySmoke(
  bed: RelayTestbed,
  { runtime, sink = () => ({}), startTimeoutMs, check = () => {} }: RuntimeSmoke,
): Promise<{ relay: RelayProcess; exitCode: number | null }> {
  const { api, producer } = bed;
  const run = `${runtime}-${Date.now()}`;
  const topic = await bed.topic(runtime, 3);
  const sinkId = `${runtime}-sink`;
  const config = writeRelayConfig(
    relayConfig({
      instanceId: `${runtime}-1`,
      topic,
      sinks: [mockApiSink(api.url, sinkId, sink(api, sinkId))],
    }),
  );
  const relay = await spawnRelay({
    configPath: config,
    runtime,
    ...(startTimeoutMs === undefined ? {} : { startTimeoutMs }),
  });
  let exitCode: number | null = null;
  try {
    await producer.produce(topic, 0, RECORDS, { keys: 30, run });
    const end = Date.now() + 60_000;
    while (api.report(sinkId).applied < RECORDS && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    const report = api.report(sinkId);
    expect(report.applied).toBe(RECORDS);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    expect(api.ledger(sinkId).requests[0]?.idempotencyKey).toMatch(new RegExp(`^${run}-`));
    check(api, sinkId, run);
    expect(await metricTotal(relay.port, 'ferry_records_delivered_total')).toBe(RECORDS);
  } finally {
    exitCode = await relay.stop();
  }
  return { relay, exitCode };
}
