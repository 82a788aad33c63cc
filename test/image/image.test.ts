// The container image, built here from the real Containerfile and smoke-tested inside with buildah:
// the base is a local stand-in for node:24-slim (test/image/base.sh: Debian minbase + Node 24, the
// same layout), passed as the BASE_IMAGE build argument as a real user's base would be. Inside the
// image, through its own entrypoint and user: the relay's config check on the example, a transform
// build, then the mock API and the relay against the local stack (host network): records delivered,
// /healthz and /readyz answering, SIGTERM ending the relay within its shutdownTimeout with every
// offset committed.
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createMockApiClient } from '../support/mock-api/client.ts';
import { freePort } from '../support/ports.ts';
import { mockApiSink, relayConfig } from '../support/relay-process.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { groupCaughtUp } from '../support/transform-accounting.ts';
import { waitUntil } from '../support/wait.ts';
import { buildah, buildahRun, buildahRunOnce, killRun, ROOT, signalInit } from './buildah.ts';

const IMAGE = 'localhost/ferry:image-test';
const RECORDS = 300;
const SHUTDOWN_TIMEOUT_MS = 10_000;

interface ImageConfig {
  Entrypoint: string[];
  Cmd: string[];
  User: string;
  Env: string[];
  WorkingDir: string;
  Healthcheck?: { Test: string[] };
}

const bed = useRelayTestbed();
let container = '';
let rootfs = '';
/** A second working container for the relay: buildah runs one command at a time per container. */
let relayContainer = '';
let config: ImageConfig;
const children: ChildProcess[] = [];

/** The image's own entrypoint followed by a ferry subcommand, as `docker run ferry <args>` runs it. */
const ferry = (...args: string[]) => [...config.Entrypoint, ...args];
// Without a PID namespace tini is not PID 1 under buildah; as a subreaper it reaps and forwards the
// same way (and does not warn).
const asImageUser = () => ({ user: config.User, env: { TINI_SUBREAPER: '1' } });

function lines(child: ChildProcess): { seen: string[]; stderr: () => string } {
  const seen: string[] = [];
  let err = '';
  createInterface({ input: child.stdout! }).on('line', (l) => seen.push(l));
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  return { seen, stderr: () => err };
}

/** Waits for `probe`, failing at once (with the process's output) if `child` exits first. */
async function whileRunning<T>(
  child: ChildProcess,
  out: { seen: string[]; stderr: () => string },
  probe: () => Promise<T | undefined | false>,
  message: string,
  timeoutMs = 60_000,
): Promise<void> {
  const exited = exitOf(child).then((code) => {
    throw new Error(`${message}: the process exited with ${code}\n${out.seen.join('\n')}\n${out.stderr()}`);
  });
  await Promise.race([waitUntil(probe, { timeoutMs, message }), exited]);
}

const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

beforeAll(async () => {
  const base = (
    await promisify(execFile)('bash', [join(ROOT, 'test/image/base.sh')], { timeout: 1_200_000 })
  ).stdout.trim();
  await buildah(
    [
      'build',
      '--isolation',
      'chroot',
      '--network',
      'host',
      '--format',
      'docker',
      '--layers',
      '--build-arg',
      `BASE_IMAGE=${base}`,
      // This machine reaches the npm registry through a TLS-intercepting proxy: its CA, for npm only.
      ...(process.env.NODE_EXTRA_CA_CERTS
        ? ['--secret', `id=build-ca,src=${process.env.NODE_EXTRA_CA_CERTS}`]
        : []),
      '--file',
      join(ROOT, 'Containerfile'),
      '--tag',
      IMAGE,
      ROOT,
    ],
    1_200_000,
  );
  const inspected = JSON.parse(await buildah(['inspect', '--type', 'image', IMAGE])) as {
    Docker: { config: ImageConfig };
  };
  config = inspected.Docker.config;
  const sizes = JSON.parse(await buildah(['images', '--json'])) as Array<{ names?: string[]; size: string }>;
  const size = (name: string) => sizes.find((i) => i.names?.includes(name))?.size;
  console.log(`image ${IMAGE}: ${size(IMAGE)}; its base ${base}: ${size(base)}`);
  container = await buildah(['from', '--pull=never', IMAGE]);
  rootfs = await buildah(['mount', container]);
  relayContainer = await buildah(['from', '--pull=never', IMAGE]);
}, 1_500_000);

afterAll(async () => {
  for (const child of children) killRun(child);
  for (const ctr of [container, relayContainer]) {
    if (ctr === '') continue;
    await buildah(['umount', ctr]).catch(() => {});
    await buildah(['rm', ctr]).catch(() => {});
  }
});

describe('the image', () => {
  it('runs ferry under tini as a non-root user, with a /healthz health check', () => {
    expect(config.Entrypoint).toEqual(['/usr/bin/tini', '--', 'node', '/app/cli/main.ts']);
    expect(config.Cmd).toEqual(['relay', 'run', '--config', '/etc/ferry/relay.yaml']);
    expect(config.User).toBe('10001:10001');
    expect(config.Healthcheck?.Test.join(' ')).toContain('FERRY_HEALTHCHECK_URL');
    expect(config.Env).toContain('FERRY_HEALTHCHECK_URL=http://127.0.0.1:8787/healthz');
    expect(existsSync(join(rootfs, 'usr/local/bin/node'))).toBe(true);
  });

  it('holds production dependencies, the compiler for transforms and the sources, nothing else', () => {
    const app = join(rootfs, 'app');
    expect(readdirSync(app).sort()).toEqual(
      [
        'cli',
        'deploy',
        'node_modules',
        'package-lock.json',
        'package.json',
        'relay',
        'test',
        'transforms',
        'wasm',
      ].sort(),
    );
    expect(readdirSync(join(app, 'test'))).toEqual(['support']);
    expect(readdirSync(join(app, 'test/support'))).toEqual(['mock-api']);
    for (const dep of ['hono', '@platformatic/kafka', 'ioredis', 'assemblyscript', 'binaryen'])
      expect(existsSync(join(app, 'node_modules', dep)), dep).toBe(true);
    for (const dev of ['vitest', 'typescript', 'bun', 'deno', '@biomejs', 'fast-check'])
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    const tests = readdirSync(app, { recursive: true, encoding: 'utf8' }).filter(
      (p) => !p.startsWith('node_modules') && p.endsWith('.test.ts'),
    );
    expect(tests).toEqual([]);
  });

  it('checks the example relay config', async () => {
    const run = await buildahRunOnce(
      container,
      ferry('relay', 'check-config', '/app/deploy/relay.example.yaml'),
      { ...asImageUser(), env: { ...asImageUser().env, FERRY_ADMIN_TOKEN: 'image-test-admin-token-0123' } },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('builds the transforms and runs the portable runner', async () => {
    const build = await buildahRunOnce(
      container,
      ferry('transform', 'build', '--out-dir', '/tmp/wasm'),
      asImageUser(),
    );
    expect(build.code, build.stderr).toBe(0);
    expect(
      readdirSync(join(rootfs, 'tmp/wasm')).filter((f) => f.endsWith('.wasm')).length,
    ).toBeGreaterThanOrEqual(3);
    const help = await buildahRunOnce(container, ferry('transform', 'run', '--help'), asImageUser());
    expect(help.code, help.stderr).toBe(0);
  });

  it('delivers through the relay, answers /healthz and /readyz, and stops on SIGTERM with offsets committed', async () => {
    const run = `image-${Date.now()}`;
    const topic = await bed.topic('image', 3);
    const groupId = `g-${topic}`;
    await bed.producer.produce(topic, 0, RECORDS, { keys: 30, run, valueBytes: 200 });

    const apiPort = await freePort();
    const api = buildahRun(
      container,
      ferry('mock-api', '--port', String(apiPort), '--endpoints', 'image'),
      asImageUser(),
    );
    children.push(api);
    const apiOut = lines(api);
    await whileRunning(
      api,
      apiOut,
      async () => apiOut.seen.some((l) => l.includes('"listening"')),
      'mock API listening',
    );
    const apiUrl = `http://127.0.0.1:${apiPort}`;

    const relayPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'ferry-image-'));
    chmodSync(dir, 0o755); // the image's user reads the mounted config
    writeFileSync(
      join(dir, 'relay.yaml'),
      stringify({
        ...relayConfig({ instanceId: 'image-relay', topic, groupId, sinks: [mockApiSink(apiUrl, 'image')] }),
        listen: { port: relayPort, host: '127.0.0.1' },
        shutdownTimeout: `${SHUTDOWN_TIMEOUT_MS / 1000}s`,
      }),
    );
    const relay = buildahRun(relayContainer, ferry('relay', 'run', '--config', '/etc/ferry/relay.yaml'), {
      ...asImageUser(),
      mounts: [`${dir}:/etc/ferry:ro`],
    });
    children.push(relay);
    const relayOut = lines(relay);
    const relayUrl = `http://127.0.0.1:${relayPort}`;
    const status = async (path: string) => (await fetch(relayUrl + path)).status;

    await whileRunning(relay, relayOut, async () => (await status('/healthz')) === 200, '/healthz 200');
    await whileRunning(relay, relayOut, async () => (await status('/readyz')) === 200, '/readyz 200');
    const client = createMockApiClient(apiUrl);
    await waitUntil(async () => (await client.report('image')).applied >= RECORDS, {
      timeoutMs: 120_000,
      message: `${RECORDS} applied`,
    });

    const stoppedAt = Date.now();
    signalInit(relay, 'SIGTERM');
    const code = await exitOf(relay);
    const took = Date.now() - stoppedAt;
    expect(code, relayOut.stderr()).toBe(0);
    expect(took).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(relayOut.seen.some((l) => l.includes('"stopped"'))).toBe(true);
    expect(await groupCaughtUp(groupId, topic)).toBe(true);
    const report = await client.report('image');
    expect(report.applied).toBe(RECORDS);
    expect(report.duplicateApplications).toBe(0);

    signalInit(api, 'SIGTERM');
    expect(await exitOf(api)).toBe(0);
  });
});
