// The Deno relay with least permissions (the flags `deno task relay:flags` prints for its config, no -A):
// it delivers over the real Kafka, Redis and the mock API, survives a kill -9 with nothing lost, answers
// the relay:status and relay:replay tasks (their own least permissions), and is refused what its
// permissions leave out: a sink on another host:port, a TLS file or a config file
// outside the granted paths, each named on stderr with exit code 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  metricTotal,
  mockApiSink,
  relayConfig,
  spawnRelay,
  writeRelayConfig,
} from '../support/relay-process.ts';
import { notApplied, useRelayTestbed } from '../support/relay-testbed.ts';
import { KAFKA_BROKERS, REDIS_URL } from '../support/stack-env.ts';
import { waitUntil } from '../support/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const RECORDS = 3000;
const MAX_IN_FLIGHT = 32;

const bed = useRelayTestbed({ api: { recordBodies: false } });

/** What `deno task relay:flags --config <file> --json` prints: the `deno` arguments. */
function leastFlags(configPath: string): string[] {
  const out = spawnSync(DENO, ['task', '--quiet', 'relay:flags', '--config', configPath, '--json'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  return JSON.parse(out.stdout) as string[];
}

/** Runs `deno <args>` to its exit (the relay refuses before it starts anything). */
function runDeno(args: readonly string[]) {
  return spawnSync(DENO, [...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', FERRY_LOG: 'quiet' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** `args` with the config path after --config replaced. */
const withConfig = (args: readonly string[], path: string) =>
  args.map((a, i) => (args[i - 1] === '--config' ? path : a));

/** `args` run on another config, granted to read in place of the one they were printed for. */
const onConfig = (args: readonly string[], from: string, to: string) =>
  withConfig(args, to).map((a) => (a.startsWith('--allow-read=') ? a.replace(from, to) : a));

describe('the Deno relay with least permissions', () => {
  it('prints flags without -A that name only the hosts and files of the config', async () => {
    const config = writeRelayConfig(
      relayConfig({ instanceId: 'deno-flags', topic: 'unused', sinks: [mockApiSink(bed.api.url, 'x')] }),
    );
    const args = leastFlags(config);
    expect(args).not.toContain('-A');
    expect(args).not.toContain('--allow-all');
    const flag = (name: string) => args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    const apiHost = new URL(bed.api.url).host;
    expect(flag('--allow-net')?.split(',')).toEqual([
      '127.0.0.1:0',
      ...KAFKA_BROKERS,
      new URL(REDIS_URL).host,
      apiHost,
    ]);
    expect(flag('--allow-read')?.split(',')[0]).toBe(config);
    expect(flag('--allow-env')).toBe('FERRY_*');
    expect(
      args.some((a) => a === '--allow-run' || a.startsWith('--allow-write') || a.startsWith('--allow-run')),
    ).toBe(false);
  });

  it('delivers, survives a kill -9 and a restart with nothing lost and no duplicate application', async () => {
    const { api, producer } = bed;
    const run = `denoperm-${Date.now()}`;
    const topic = await bed.topic('denoperm', 6);
    const endpoint = 'deno-least';
    const config = writeRelayConfig(
      relayConfig({
        instanceId: 'deno-least-1',
        topic,
        sinks: [mockApiSink(api.url, endpoint, { bulkhead: { maxInFlight: MAX_IN_FLIGHT, buffer: 500 } })],
      }),
    );
    const denoArgs = leastFlags(config);
    await producer.produce(topic, 0, RECORDS, { keys: 100, run, valueBytes: 500 });

    const first = await spawnRelay({ configPath: config, runtime: 'deno', denoArgs, startTimeoutMs: 90_000 });
    const killAt = Math.floor(RECORDS * 0.3);
    await waitUntil(() => api.report(endpoint).applied >= killAt, {
      timeoutMs: 120_000,
      message: `${killAt} applied before the kill`,
    });
    await first.kill9();
    expect(first.child.signalCode).toBe('SIGKILL');
    const atKill = api.report(endpoint).applied;

    const second = await spawnRelay({
      configPath: config,
      runtime: 'deno',
      denoArgs,
      startTimeoutMs: 90_000,
    });
    await waitUntil(() => api.report(endpoint).applied >= RECORDS, {
      timeoutMs: 150_000,
      message: `all ${RECORDS} applied after the restart`,
    });
    // Every offset committed: the restarted relay's lag reaches zero on every partition.
    await waitUntil(async () => (await metricTotal(second.port, 'ferry_consumer_lag_records')) === 0, {
      timeoutMs: 30_000,
      message: 'consumer lag 0 after the restart',
    });
    // The admin tasks, with their own least permissions (loopback, FERRY_*), against the running relay.
    const admin = (task: string, ...args: string[]) =>
      spawnSync(DENO, ['task', '--quiet', task, '--url', `http://127.0.0.1:${second.port}`, ...args], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1', FERRY_ADMIN_TOKEN: 'test-admin-token-0123456789' },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const status = admin('relay:status');
    expect(status.status).toBe(0);
    expect(JSON.stringify(JSON.parse(status.stdout))).toContain(`"id":"${endpoint}"`);
    const replay = admin('relay:replay', endpoint, '--dry-run');
    expect(replay.status).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ dryRun: true });
    expect(await second.stop()).toBe(0);

    const report = api.report(endpoint);
    expect(atKill).toBeLessThan(RECORDS);
    expect(notApplied(api, endpoint, run, RECORDS)).toEqual([]);
    expect(report.applied).toBe(RECORDS);
    expect(report.duplicateApplications).toBe(0);
    expect(report.orderViolations).toBe(0);
    // Re-sent after the crash: at most what was in flight (delivered, not yet marked done).
    expect(report.replays).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    // Nothing went to the DLQ and no permission was missing on the way.
    expect(second.stderr()).not.toMatch(/NotCapable|Requires (net|read|env) access/);
  });

  it('refuses a sink on a host:port the permissions do not grant, naming the sink', () => {
    const allowed = writeRelayConfig(
      relayConfig({ instanceId: 'deno-deny-net', topic: 'unused', sinks: [mockApiSink(bed.api.url, 'ok')] }),
    );
    // Same hosts but the sink on another port of 127.0.0.1: not in --allow-net.
    const other = writeRelayConfig(
      relayConfig({
        instanceId: 'deno-deny-net',
        topic: 'unused',
        sinks: [mockApiSink('http://127.0.0.1:9', 'elsewhere')],
      }),
    );
    const refused = runDeno(onConfig(leastFlags(allowed), allowed, other));
    expect(refused.stderr).toContain(`ferry relay: invalid config ${other}:`);
    expect(refused.stderr).toContain(
      'routes[0].sinks[0].url (elsewhere): net access to 127.0.0.1:9 is not granted (--allow-net)',
    );
    expect(refused.stderr).toContain('deno task relay:flags --config <file>');
    expect(refused.status).toBe(2);
  });

  it('refuses a file outside the granted paths: a TLS file named in the config, the config itself', () => {
    const allowed = writeRelayConfig(
      relayConfig({ instanceId: 'deno-deny-read', topic: 'unused', sinks: [mockApiSink(bed.api.url, 'ok')] }),
    );
    const flags = leastFlags(allowed);
    const dir = mkdtempSync(join(tmpdir(), 'ferry-deno-deny-'));
    try {
      // A CA file that exists but is outside --allow-read.
      const ca = join(dir, 'ca.pem');
      writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
      const document = relayConfig({
        instanceId: 'deno-deny-read',
        topic: 'unused',
        sinks: [mockApiSink(bed.api.url, 'ok')],
      });
      const withTls = join(dir, 'tls.yaml');
      writeFileSync(
        withTls,
        stringify({ ...document, kafka: { ...(document.kafka as object), tls: { ca } } }),
      );
      // The config itself is readable (granted in place of the allowed one); its CA file is not.
      const noCa = runDeno(onConfig(flags, allowed, withTls));
      expect(noCa.stderr).toContain(`kafka.tls.ca: read access to ${ca} is not granted (--allow-read)`);
      expect(noCa.status).toBe(2);

      // A config outside --allow-read: Deno's refusal, surfaced by the relay with the path.
      const outside = runDeno(withConfig(flags, withTls));
      expect(outside.stderr).toContain(`ferry relay: cannot read config ${withTls}: Requires read access`);
      expect(outside.status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
