// Runs the relay as a child process (relay/entry/node.ts or deno.ts) with a generated config file,
// so tests can kill -9 it by pid and restart it. Reads the entry's JSON lines on stdout
// ({"event":"listening"|"started"|"stopped"}).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { KAFKA_BROKERS, REDIS_URL } from './stack-env.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Relays this test process started and that are still running: killed when it exits, so a failed test
// (which never reaches its stop()) leaves no relay behind consuming CPU for the files that follow.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface RelayProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly port: number;
  readonly stderr: () => string;
  /** The `event` field of every JSON line printed so far (listening, started, stopped, ...). */
  readonly events: () => readonly string[];
  /** SIGKILL by pid; resolves when the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the graceful exit. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export function writeRelayConfig(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-relay-'));
  const path = join(dir, 'relay.yaml');
  writeFileSync(path, stringify(config));
  return path;
}

export async function spawnRelay({
  configPath,
  runtime = 'node',
  env = {},
  startTimeoutMs = 60_000,
  root = ROOT,
  runtimeArgs = [],
  denoArgs,
}: {
  configPath: string;
  runtime?: 'node' | 'deno' | 'bun';
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** Checkout whose relay/entry is run (benchmarks compare against another commit's relay). */
  root?: string;
  /** Flags for the runtime itself, before the entry point (e.g. Bun's --smol or --cpu-prof). */
  runtimeArgs?: readonly string[];
  /**
   * Deno only: the whole `deno` argument list instead of `run -A ... relay/entry/deno.ts --config`,
   * e.g. what `deno task relay:flags --json` prints (least permissions).
   */
  denoArgs?: readonly string[];
}): Promise<RelayProcess> {
  const commands: Record<typeof runtime, [string, string[]]> = {
    node: [process.execPath, [...runtimeArgs, join(root, 'relay/entry/node.ts'), '--config', configPath]],
    deno: [
      join(ROOT, 'node_modules/.bin/deno'),
      denoArgs !== undefined
        ? [...denoArgs]
        : ['run', '-A', '--quiet', ...runtimeArgs, join(root, 'relay/entry/deno.ts'), '--config', configPath],
    ],
    bun: [
      join(ROOT, 'node_modules/.bin/bun'),
      [...runtimeArgs, join(root, 'relay/entry/bun.ts'), '--config', configPath],
    ],
  };
  const [cmd, args] = commands[runtime];
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, FERRY_LOG: 'quiet', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  running.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const lines = createInterface({ input: child.stdout! });
  let port = 0;
  const events: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`relay did not start in ${startTimeoutMs} ms: ${err.slice(-2000)}`)),
      startTimeoutMs,
    );
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code} before starting: ${err.slice(-2000)}`));
    });
    lines.on('line', (line) => {
      let msg: { event?: string; port?: number };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return;
      }
      if (msg.event !== undefined) events.push(msg.event);
      if (msg.event === 'listening') port = msg.port ?? 0;
      if (msg.event === 'started') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    pid: child.pid!,
    child,
    port,
    stderr: () => err,
    events: () => events,
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL');
      }, timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface RelayTestConfig {
  readonly instanceId: string;
  readonly topic: string;
  /** Default `g-<topic>` (deleteTopics removes it with the topic). */
  readonly groupId?: string;
  /** Default `dlq-<topic>`. */
  readonly dlqTopic?: string;
  readonly sinks: ReadonlyArray<Record<string, unknown>>;
  readonly redisUrl?: string;
  readonly commitInterval?: string;
}

export function relayConfig({
  instanceId,
  topic,
  groupId = `g-${topic}`,
  dlqTopic = `dlq-${topic}`,
  sinks,
  redisUrl = REDIS_URL,
  commitInterval = '200ms',
}: RelayTestConfig): Record<string, unknown> {
  return {
    instanceId,
    listen: { port: 0, host: '127.0.0.1' },
    adminToken: 'test-admin-token-0123456789',
    kafka: { brokers: KAFKA_BROKERS, groupId, clientId: 'ferry-test-relay', dlqTopic },
    redis: { url: redisUrl },
    commitInterval,
    revokeTimeout: '10s',
    shutdownTimeout: '10s',
    routes: [{ name: 'test', topics: [topic], sinks }],
  };
}

/**
 * A sink at the mock API endpoint `id` (`<apiUrl>/<id>`), 5 s timeout, Redis dedupe that blocks while
 * Redis is unreachable; `overrides` replace whole fields.
 */
export function mockApiSink(
  apiUrl: string,
  id: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    url: `${apiUrl}/${id}`,
    timeout: '5s',
    dedupe: { store: 'redis', ttl: '1h', lease: '5s', onUnavailable: 'block' },
    ...overrides,
  };
}

/** Sum of a Prometheus counter (all label sets) from the relay's /metrics. */
export async function metricTotal(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === '{' || line[name.length] === ' ')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}
