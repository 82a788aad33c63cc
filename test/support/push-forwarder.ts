// `ferry push` as a child process (node cli/main.ts push ...), so a test can kill -9 it by pid and start
// it again. Its stderr is kept; `summary()` reads the counts of its last `stopped:` line.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KAFKA_BROKERS } from './stack-env.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface ForwarderSummary {
  readonly pushed: number;
  readonly committed: number;
  readonly alreadyDone: number;
  readonly repushes: number;
  readonly retries: number;
}

export interface ForwarderProcess {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** The counts of the last `stopped:` line (undefined before it is printed). */
  summary(): ForwarderSummary | undefined;
}

export function spawnForwarder({
  topics,
  group,
  url,
  token,
  secret,
  args = [],
}: {
  topics: readonly string[];
  group: string;
  url: string;
  token: string;
  /** FERRY_PUSH_SIGNING_SECRET; undefined leaves it unset. */
  secret: string | undefined;
  args?: readonly string[];
}): ForwarderProcess {
  const env: Record<string, string | undefined> = { ...process.env, FERRY_PUSH_TOKEN: token };
  delete env.FERRY_PUSH_SIGNING_SECRET;
  if (secret !== undefined) env.FERRY_PUSH_SIGNING_SECRET = secret;
  const child = spawn(
    process.execPath,
    [
      'cli/main.ts',
      'push',
      '--bootstrap',
      KAFKA_BROKERS.join(','),
      ...topics.flatMap((t) => ['--topic', t]),
      '--group',
      group,
      '--url',
      url,
      ...args,
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 400_000) err = err.slice(-200_000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    stderr: () => err,
    exited,
    async kill9() {
      if (gone()) return;
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 30_000) {
      if (gone()) return child.exitCode;
      process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!gone()) process.kill(child.pid!, 'SIGKILL');
      }, timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    summary() {
      const lines = err.split('\n').filter((l) => l.includes('ferry push: stopped:'));
      const m =
        /pushed (\d+) records in \d+ batches, committed (\d+) in \d+, already done at the relay (\d+), re-pushed after 202: (\d+), retries (\d+)/.exec(
          lines.at(-1) ?? '',
        );
      if (!m) return undefined;
      return {
        pushed: Number(m[1]),
        committed: Number(m[2]),
        alreadyDone: Number(m[3]),
        repushes: Number(m[4]),
        retries: Number(m[5]),
      };
    },
  };
}
