// Starting and stopping the stack's processes by pid. Each service runs detached in its own
// process group (so its children go with it), its output appended to .ferry/logs/<name>.log and
// its pid in .ferry/pids/<name>.pid. A pid only counts as ours when /proc/<pid>/cmdline still
// mentions our state folder, so a recycled pid is never signalled.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PATHS } from './config.ts';

export const pidFile = (name: string): string => join(PATHS.pids, `${name}.pid`);
export const logFile = (name: string): string => join(PATHS.logs, `${name}.log`);

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** True when pid is alive and its command line names `marker` (our state folder by default). */
export function isOurs(pid: number, marker: string = PATHS.state): boolean {
  const cmd = cmdline(pid);
  return cmd?.includes(marker) === true && !isZombie(pid);
}

/** The pid recorded for a service when that process is still ours and alive, else undefined. */
export function runningPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  return isOurs(pid) ? pid : undefined;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** Spawns a service detached (own session and process group), logging to its log file. */
export function startDetached({ name, command, args, env = {}, cwd = PATHS.state }: StartOptions): number {
  mkdirSync(PATHS.logs, { recursive: true });
  mkdirSync(PATHS.pids, { recursive: true });
  const out = openSync(logFile(name), 'a');
  writeFileSync(out, `\n==== ferry: starting ${name} at ${new Date().toISOString()} ====\n`);
  try {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', out, out],
    });
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
    child.unref();
    writeFileSync(pidFile(name), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the whole process group: the service and any child it forked
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Pids of live processes in pid's process group (children a service forked). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirProc()) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(entry);
    } catch {
      // raced with exit
    }
  }
  return members;
}

function readdirProc(): number[] {
  try {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

export interface StopOptions {
  name: string;
  /** The polite signal (postgres wants SIGINT = fast shutdown). */
  signal?: NodeJS.Signals;
  graceMs?: number;
}

/** Stops a service by its recorded pid: polite signal, wait, then SIGKILL. Returns what happened. */
export async function stopByPid({
  name,
  signal = 'SIGTERM',
  graceMs = 30_000,
}: StopOptions): Promise<'stopped' | 'killed' | 'not-running'> {
  const pid = runningPid(name);
  if (pid === undefined) {
    rmSync(pidFile(name), { force: true });
    return 'not-running';
  }
  signalGroup(pid, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurs(pid) && groupMembers(pid).length === 0) {
      rmSync(pidFile(name), { force: true });
      return 'stopped';
    }
    await sleep(200);
  }
  signalGroup(pid, 'SIGKILL');
  for (let i = 0; i < 50 && (isOurs(pid) || groupMembers(pid).length > 0); i++) await sleep(100);
  rmSync(pidFile(name), { force: true });
  return 'killed';
}

/**
 * Runs `fn` holding .ferry/pids/<name>.lock, so two `stack up`/`down` at once (two terminals, a test
 * and a person) do not both start the same service. A lock whose owner pid is gone is taken over.
 */
export async function withLock<T>(
  name: string,
  fn: () => Promise<T>,
  { waitMs = 600_000, onWait = (_owner: number) => {} } = {},
): Promise<T> {
  let told = false;
  mkdirSync(PATHS.pids, { recursive: true });
  const file = join(PATHS.pids, `${name}.lock`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch {
      const owner = Number.parseInt(readFileSync(file, 'utf8').trim() || '0', 10);
      const alive = owner > 0 && existsSync(`/proc/${owner}`) && !isZombie(owner);
      if (!alive || owner === process.pid) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${file} is held by pid ${owner}`);
      if (!told) onWait(owner);
      told = true;
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
