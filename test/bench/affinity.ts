// Moving this whole process (every thread, workers included) onto one CPU and back, with util-linux's
// taskset. "Records per second on one core" is then measured as such: the host's main thread and its
// worker take turns on the same core, as they would in a container limited to one CPU, instead of
// handing batches and cache lines from one core to the other. Linux only; elsewhere (or without
// taskset) `pinnable()` says why not and the caller measures on the cores it has.
import { spawnSync } from 'node:child_process';

function taskset(args: string[]): { ok: true; stdout: string } | { ok: false; why: string } {
  const r = spawnSync('taskset', args, { encoding: 'utf8' });
  if (r.error !== undefined) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      ok: false,
      why: missing ? 'taskset (util-linux) is not installed' : `taskset: ${r.error.message}`,
    };
  }
  if (r.status !== 0) return { ok: false, why: `taskset ${args.join(' ')}: ${r.stderr.trim()}` };
  return { ok: true, stdout: r.stdout };
}

export interface Affinity {
  /** The CPU the process is moved to ("1"). */
  readonly cpu: string;
  /** Every thread of this process onto `cpu` (threads started later inherit it from their creator). */
  pin(): void;
  /** Every thread back onto the CPUs it had before. */
  restore(): void;
}

/** An Affinity for this process, or the reason there is none. */
export function pinnable(): Affinity | { why: string } {
  const pid = String(process.pid);
  const now = taskset(['-c', '-p', pid]); // "pid 123's current affinity list: 0,1"
  if (!now.ok) return { why: now.why };
  const list = now.stdout.slice(now.stdout.lastIndexOf(':') + 1).trim();
  const cpus = list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, k) => a! + k);
  });
  if (cpus.length < 2) return { why: `the process may run on one CPU only (${list})` };
  const cpu = String(cpus[cpus.length - 1]);
  const set = (l: string) => {
    const r = taskset(['-a', '-c', '-p', l, pid]);
    if (!r.ok) throw new Error(r.why);
  };
  return { cpu, pin: () => set(cpu), restore: () => set(list) };
}
