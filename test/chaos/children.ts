// The pipeline's own processes (the relay, the transform runners) under a supervisor: started, killed
// with SIGKILL by pid on the schedule, and started again at once, as a process manager would. An exit
// the schedule did not cause is restarted too, and counted.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Started {
  readonly child: ChildProcess;
  /** Resolves once the process is up enough to count as running (e.g. the relay's "started" line). */
  readonly ready: Promise<void>;
}

export interface Supervised {
  readonly name: string;
  /** The live process's pid, or undefined between a death and the next start. */
  pid(): number | undefined;
  /** How long the live process has been ready (0 while starting or dead). */
  readyForMs(): number;
  /**
   * SIGKILL by pid when a process is running (then it is restarted); false when none was. `stall`:
   * the watchdog's kill of a process that stopped making progress, counted apart.
   */
  kill9(reason?: 'schedule' | 'stall'): Promise<boolean>;
  readonly stats: {
    starts: number;
    kills: number;
    unexpectedExits: number;
    failedStarts: number;
    stallKills: number;
  };
  /** Stops supervising and ends the process (SIGTERM, SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

// Processes started here and still running: killed when this process exits (a run stopped with
// Ctrl-C or a failed test leaves no relay or runner behind, and no supervisor to restart them).
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function supervise(
  name: string,
  start: () => Started,
  { note = (_line: string) => {}, retryDelayMs = 1000 } = {},
): Supervised {
  const stats = { starts: 0, kills: 0, unexpectedExits: 0, failedStarts: 0, stallKills: 0 };
  let current: ChildProcess | undefined;
  let stopping = false;
  let killing = false;
  let exited: Promise<void> = Promise.resolve();
  let readyAt: number | undefined;

  const launch = async function launch(): Promise<void> {
    if (stopping) return;
    const { child, ready } = start();
    current = child;
    readyAt = undefined;
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    stats.starts += 1;
    let failedStart = false;
    child.once('exit', (code, signal) => {
      if (current === child) {
        current = undefined;
        readyAt = undefined;
      }
      if (stopping) return;
      const planned = killing;
      killing = false;
      if (!planned && !failedStart) {
        stats.unexpectedExits += 1;
        note(`${name} exited by itself (code ${code}, signal ${signal}); restarting`);
      }
      void sleep(planned ? 0 : retryDelayMs).then(launch);
    });
    try {
      await ready;
      if (current === child) readyAt = Date.now();
    } catch (error) {
      // Not up (e.g. the broker is restarting): end it; the exit handler starts the next one.
      failedStart = true;
      stats.failedStarts += 1;
      note(`${name} did not start: ${(error as Error).message.split('\n')[0]}`);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };
  void launch();

  return {
    name,
    pid: () => (current?.exitCode === null && current.signalCode === null ? current.pid : undefined),
    readyForMs: () => (readyAt === undefined ? 0 : Date.now() - readyAt),
    stats,
    async kill9(reason = 'schedule') {
      const child = current;
      if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
      killing = true;
      if (reason === 'stall') stats.stallKills += 1;
      else stats.kills += 1;
      const gone = exited;
      process.kill(child.pid, 'SIGKILL');
      await gone;
      return true;
    },
    async stop(graceMs = 20_000) {
      stopping = true;
      const child = current;
      if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const gone = exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * A child whose stdout and stderr are appended to `logPath` (kept for a look after the run) and kept
 * as a bounded tail (for messages).
 */
export function spawnWithTail(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  logPath: string,
): { child: ChildProcess; tail: () => string } {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const log = createWriteStream(logPath, { flags: 'a' });
  log.write(`==== ${new Date().toISOString()} pid ${child.pid}: ${args.join(' ')}\n`);
  let text = '';
  const keep = (d: Buffer) => {
    log.write(d);
    text += d.toString();
    if (text.length > 20_000) text = text.slice(-10_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', (code, signal) => {
    live.delete(child);
    log.end(`==== exit code ${code} signal ${signal}\n`);
  });
  return { child, tail: () => text };
}
