// A test's own single-node Kafka (KRaft), for tests that take the broker away: the shared stack's
// broker must stay up for everyone else. Started by the stack's own code (`ferry stack up --only kafka`
// with FERRY_STATE_DIR + FERRY_PORT_OFFSET), from the same jars (the private state dir links the main
// stack's jars folder), on free 127.0.0.1 ports, with its own data dir under /tmp. Every signal goes to
// the broker's process group by the pid the stack recorded; stop() also removes the state dir.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PATHS } from '../../deploy/local/config.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASE_KAFKA_PORT = 19092;

export interface PrivateKafka {
  /** host:port of the broker. */
  readonly bootstrap: string;
  readonly stateDir: string;
  /** The broker's pid (also its process group id); changes after restart(). */
  pid(): number;
  /** SIGSTOP / SIGCONT the broker's process group. */
  freeze(): void;
  thaw(): void;
  /** SIGKILL the broker's process group and wait until it is gone. */
  kill9(): Promise<void>;
  /** Starts the broker again on the same ports and data dir (after kill9). */
  restart(): Promise<void>;
  /** Stops the broker (CONT, TERM, then KILL) and deletes the state dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Last lines of the broker's log. */
  logTail(lines?: number): string;
}

const started = new Set<PrivateKafka>();
// A test process that dies without reaching its afterAll leaves no broker behind.
process.once('exit', () => {
  for (const k of started) {
    try {
      process.kill(-k.pid(), 'SIGKILL');
    } catch {
      // gone
    }
  }
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** An offset from the stack's ports for which the broker and controller ports are both free. */
async function freeOffset(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    // Above every stack offset in use (0, CI's 300, a cold-start 100) and below the ephemeral range.
    const offset = 2000 + 2 * Math.floor(Math.random() * 5000);
    if ((await portFree(BASE_KAFKA_PORT + offset)) && (await portFree(BASE_KAFKA_PORT + offset + 1)))
      return offset;
  }
  throw new Error('no free port pair for a private Kafka');
}

function ferryStack(args: string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(ROOT, 'cli/main.ts'), 'stack', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`ferry stack ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

export async function startPrivateKafka({ startTimeoutMs = 120_000 } = {}): Promise<PrivateKafka> {
  const stateDir = mkdtempSync(join(tmpdir(), 'ferry-kafka-'));
  symlinkSync(PATHS.jars, join(stateDir, 'jars'));
  const offset = await freeOffset();
  const env = { FERRY_STATE_DIR: stateDir, FERRY_PORT_OFFSET: String(offset) };
  const pidPath = join(stateDir, 'pids', 'kafka.pid');
  const logPath = join(stateDir, 'logs', 'kafka.log');
  let pid = 0;
  let stopped = false;
  const readPid = () => Number.parseInt(readFileSync(pidPath, 'utf8').trim(), 10);
  const up = async () => {
    await ferryStack(['up', '--only', 'kafka'], env, startTimeoutMs);
    pid = readPid();
  };
  const logTail = (lines = 40) =>
    existsSync(logPath) ? readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
  const waitGone = async (p: number, ms: number) => {
    const end = Date.now() + ms;
    while (alive(p) && Date.now() < end) await sleep(100);
    return !alive(p);
  };
  const kafka: PrivateKafka = {
    bootstrap: `127.0.0.1:${BASE_KAFKA_PORT + offset}`,
    stateDir,
    pid: () => pid,
    freeze: () => signal(pid, 'SIGSTOP'),
    thaw: () => signal(pid, 'SIGCONT'),
    async kill9() {
      signal(pid, 'SIGKILL');
      if (!(await waitGone(pid, 30_000))) throw new Error(`private Kafka pid ${pid} survived SIGKILL`);
    },
    restart: up,
    async stop() {
      if (stopped) return;
      stopped = true;
      started.delete(kafka);
      if (pid === 0 && existsSync(pidPath)) pid = readPid();
      if (pid > 0 && alive(pid)) {
        signal(pid, 'SIGCONT');
        signal(pid, 'SIGTERM');
        if (!(await waitGone(pid, 20_000))) {
          signal(pid, 'SIGKILL');
          await waitGone(pid, 10_000);
        }
      }
      try {
        unlinkSync(join(stateDir, 'jars')); // the link, never the shared jars behind it
      } catch {
        // not there
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
    logTail,
  };
  started.add(kafka);
  try {
    await up();
  } catch (error) {
    await kafka.stop();
    throw error;
  }
  return kafka;
}
