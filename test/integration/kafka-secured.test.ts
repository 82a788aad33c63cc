// The relay and the portable runner on the local broker's secured listeners (`stack up` makes them):
// - both deliver through SASL_SSL with SCRAM-SHA-512 and through mTLS, the relay's dead letters and
//   its DLQ replay too;
// - a wrong password, a CA that did not sign the broker and an expired client certificate each end
//   the process within seconds with a non-zero exit and one line saying why;
// - the password never shows in a log line, /metrics, an error message or a dead letter's headers.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KAFKA_MTLS_BOOTSTRAP, KAFKA_SASL_BOOTSTRAP, KAFKA_TLS, ROOT } from '../../deploy/local/config.ts';
import { readTopic } from '../support/kafka.ts';
import { probeModule } from '../support/probe-module.ts';
import { mockApiSink, relayConfig, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { useRelayTestbed } from '../support/relay-testbed.ts';
import { waitUntil } from '../support/wait.ts';

/** The stack's SCRAM user; a stack started before the secured listeners existed fails here, saying so. */
function stackUser(): { username: string; password: string } {
  try {
    return JSON.parse(readFileSync(KAFKA_TLS.credentials, 'utf8')) as { username: string; password: string };
  } catch {
    throw new Error(
      `no ${KAFKA_TLS.credentials}: this stack predates the secured listeners; run bin/ferry stack down && bin/ferry stack up`,
    );
  }
}
const user = stackUser();
const PASSWORD_ENV = 'FERRY_TEST_KAFKA_PASSWORD';
const WRONG_PASSWORD = `wrong-${randomUUID()}`;

/** A CA the broker's certificate is not signed by. */
function unknownCa(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-unknown-ca-'));
  const res = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=unknown',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  if (res.status !== 0) throw new Error(`openssl: ${res.stderr}`);
  return join(dir, 'ca.pem');
}

type Kind = 'scram' | 'mtls' | 'wrong-password' | 'unknown-ca' | 'expired-cert';

/** The relay YAML `kafka` connection keys for one kind. */
function relayKafka(kind: Kind): Record<string, unknown> {
  const sasl = { mechanism: 'SCRAM-SHA-512', username: user.username, password: `\${${PASSWORD_ENV}}` };
  switch (kind) {
    case 'scram':
    case 'wrong-password':
      return { brokers: [KAFKA_SASL_BOOTSTRAP], tls: { ca: KAFKA_TLS.ca }, sasl };
    case 'unknown-ca':
      return { brokers: [KAFKA_SASL_BOOTSTRAP], tls: { ca: unknownCa() }, sasl };
    case 'mtls':
      return {
        brokers: [KAFKA_MTLS_BOOTSTRAP],
        tls: { ca: KAFKA_TLS.ca, cert: KAFKA_TLS.clientCert, key: KAFKA_TLS.clientKey },
      };
    case 'expired-cert':
      return {
        brokers: [KAFKA_MTLS_BOOTSTRAP],
        tls: { ca: KAFKA_TLS.ca, cert: KAFKA_TLS.expiredClientCert, key: KAFKA_TLS.expiredClientKey },
      };
  }
}

/** The runner's flags for one kind (the password goes through the environment only). */
function runnerFlags(kind: Kind): string[] {
  const sasl = ['--sasl-mechanism', 'SCRAM-SHA-512', '--sasl-username', user.username];
  switch (kind) {
    case 'scram':
    case 'wrong-password':
      return ['--bootstrap-server', KAFKA_SASL_BOOTSTRAP, '--tls-ca', KAFKA_TLS.ca, ...sasl];
    case 'unknown-ca':
      return ['--bootstrap-server', KAFKA_SASL_BOOTSTRAP, '--tls-ca', unknownCa(), ...sasl];
    case 'mtls':
      return [
        '--bootstrap-server',
        KAFKA_MTLS_BOOTSTRAP,
        '--tls-ca',
        KAFKA_TLS.ca,
        '--tls-cert',
        KAFKA_TLS.clientCert,
        '--tls-key',
        KAFKA_TLS.clientKey,
      ];
    case 'expired-cert':
      return [
        '--bootstrap-server',
        KAFKA_MTLS_BOOTSTRAP,
        '--tls-ca',
        KAFKA_TLS.ca,
        '--tls-cert',
        KAFKA_TLS.expiredClientCert,
        '--tls-key',
        KAFKA_TLS.expiredClientKey,
      ];
  }
}

const passwordFor = (kind: Kind) => (kind === 'wrong-password' ? WRONG_PASSWORD : user.password);

/** What each failure must say, in one line. */
const EXPECTED: Record<'wrong-password' | 'unknown-ca' | 'expired-cert', RegExp> = {
  'wrong-password': /SASL authentication to 127\.0\.0\.1:\d+ failed \(SCRAM-SHA-512\)/,
  'unknown-ca': /certificate to 127\.0\.0\.1:\d+ is not signed by a trusted CA/,
  'expired-cert': /client-expired\.pem: expired on 2020-01-02/,
};

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
  ms: number;
}

/** Runs a command to its exit (killed after `deadlineMs`, which the test then fails on). */
function runToExit(
  command: string,
  args: string[],
  env: Record<string, string>,
  deadlineMs = 30_000,
): Promise<Exit> {
  const t0 = Date.now();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout, ms: Date.now() - t0 });
    }),
  );
}

const secrets = [user.password, WRONG_PASSWORD];
function expectNoSecret(where: string, text: string): void {
  for (const secret of secrets) expect(text.includes(secret), `${where} holds the password`).toBe(false);
}

describe('secured Kafka: relay', () => {
  const bed = useRelayTestbed();

  it.each(['scram', 'mtls'] as const)('delivers and dead-letters through %s', async (kind) => {
    const topic = await bed.topic(`secured-${kind}`, 2);
    const run = randomUUID().slice(0, 8);
    const api = await bed.startApi({ endpoints: [`ok-${run}`, `bad-${run}`] });
    api.setFaults(`bad-${run}`, { fixed: { status: 400 } });
    const base = relayConfig({
      instanceId: `secured-${kind}-${run}`,
      topic,
      sinks: [mockApiSink(api.url, `ok-${run}`), mockApiSink(api.url, `bad-${run}`)],
    });
    const config = { ...base, kafka: { ...(base.kafka as object), ...relayKafka(kind) } };
    const relay = await spawnRelay({
      configPath: writeRelayConfig(config),
      env: { [PASSWORD_ENV]: passwordFor(kind), FERRY_LOG: 'verbose' },
    });
    try {
      await bed.producer.produce(topic, 0, 6, { keys: 3, run });
      await waitUntil(() => api.ledger(`ok-${run}`).appliedKeys.length >= 6 || undefined, {
        timeoutMs: 60_000,
        message: `6 deliveries through ${kind}`,
      });
      const dead = await readTopic(`dlq-${topic}`, { until: (rs) => rs.length >= 6, timeoutMs: 60_000 });
      expect(dead).toHaveLength(6);
      // Replay reads the DLQ back through the same secured connection.
      const dry = await fetch(`http://127.0.0.1:${relay.port}/v1/dlq/replay`, {
        method: 'POST',
        headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify({ sink: `bad-${run}`, dryRun: true }),
      });
      const dryText = await dry.text();
      expect(dry.status, dryText).toBe(200);
      expect(JSON.parse(dryText)).toMatchObject({ matched: 6, sent: 0 });
      expectNoSecret('the replay answer', dryText);
      const metrics = await (await fetch(`http://127.0.0.1:${relay.port}/metrics`)).text();
      expect(await relay.stop()).toBe(0);
      expectNoSecret('the log', relay.stderr());
      expectNoSecret('/metrics', metrics);
      for (const r of dead) for (const [k, v] of r.headers) expectNoSecret(`DLQ header ${k}`, `${k}=${v}`);
    } finally {
      await relay.stop();
    }
  });

  it.each(['wrong-password', 'unknown-ca', 'expired-cert'] as const)(
    'ends with one clear line and a non-zero exit on %s',
    async (kind) => {
      const topic = await bed.topic(`secured-${kind}`, 1);
      const base = relayConfig({
        instanceId: `secured-${kind}`,
        topic,
        sinks: [mockApiSink('http://127.0.0.1:9', 'never')],
      });
      const config = { ...base, kafka: { ...(base.kafka as object), ...relayKafka(kind) } };
      const exit = await runToExit(
        process.execPath,
        [join(ROOT, 'relay/entry/node.ts'), '--config', writeRelayConfig(config)],
        { [PASSWORD_ENV]: passwordFor(kind), FERRY_LOG: 'verbose' },
      );
      expect(exit.code, exit.stderr).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.ms).toBeLessThan(20_000);
      const lines = `${exit.stderr}\n${exit.stdout}`.split('\n').filter((l) => EXPECTED[kind].test(l));
      expect(lines.length, exit.stderr).toBe(1);
      expectNoSecret('the output', exit.stderr + exit.stdout);
    },
  );
});

describe('secured Kafka: portable runner', () => {
  const bed = useRelayTestbed();
  let modulePath: string | undefined;
  const module = async () => {
    if (modulePath === undefined) {
      modulePath = join(mkdtempSync(join(tmpdir(), 'ferry-probe-')), 'probe.wasm');
      writeFileSync(modulePath, await probeModule());
    }
    return modulePath;
  };
  const cli = (args: string[]) => [join(ROOT, 'cli/main.ts'), 'transform', 'run', ...args];

  it.each(['scram', 'mtls'] as const)('transforms through %s', async (kind) => {
    const input = await bed.topic(`secured-in-${kind}`, 2);
    const output = `${input}-out`;
    const run = randomUUID().slice(0, 8);
    await bed.producer.produce(input, 0, 5, { keys: 5, run });
    const args = cli([
      '--module',
      await module(),
      '--name',
      `secured-${kind}`,
      '--group',
      `g-${input}`,
      '--input-topic',
      input,
      '--output-topic',
      output,
      '--metrics-interval',
      '3600000',
      ...runnerFlags(kind),
    ]);
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, FERRY_KAFKA_SASL_PASSWORD: passwordFor(kind) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const out = await readTopic(output, { until: (rs) => rs.length >= 5, timeoutMs: 60_000 });
      expect(out).toHaveLength(5);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain(`running: ${input} -> ${output}`);
      expectNoSecret('the runner log', stderr);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it.each(['wrong-password', 'unknown-ca', 'expired-cert'] as const)(
    'ends with one clear line and a non-zero exit on %s',
    async (kind) => {
      const input = await bed.topic(`secured-in-${kind}`, 1);
      const exit = await runToExit(
        process.execPath,
        cli([
          '--module',
          await module(),
          '--input-topic',
          input,
          '--output-topic',
          `${input}-out`,
          ...runnerFlags(kind),
        ]),
        { FERRY_KAFKA_SASL_PASSWORD: passwordFor(kind) },
      );
      expect(exit.code, exit.stderr).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(exit.ms).toBeLessThan(20_000);
      const lines = exit.stderr.split('\n').filter((l) => EXPECTED[kind].test(l));
      expect(lines.length, exit.stderr).toBe(1);
      expectNoSecret('the output', exit.stderr + exit.stdout);
    },
  );
});
