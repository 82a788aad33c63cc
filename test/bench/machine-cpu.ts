// Where a machine's CPU went during a benchmark window: per named process (from /proc/<pid>/stat, all
// its threads) and for the whole machine (/proc/stat), so a report can say how much of the cores the
// measured process had left to it. Linux only; a process that is gone counts as 0.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { sampleProc, TICKS_PER_SECOND } from './proc-stats.ts';

/** Busy CPU seconds of the whole machine since boot (all cores; idle and iowait excluded). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

export interface CpuAccount {
  /** CPU seconds per named process over the window. */
  readonly byName: ReadonlyMap<string, number>;
  /** Busy CPU seconds of the whole machine over the window. */
  readonly machine: number;
  /** Wall seconds of the window. */
  readonly seconds: number;
  /** Cores of the machine. */
  readonly cores: number;
}

/** Starts a window over the named processes; stop() returns what each, and the machine, used. */
export function accountCpu(pids: ReadonlyMap<string, number | undefined>) {
  const cpuOf = (pid: number | undefined) => (pid === undefined ? 0 : (sampleProc(pid)?.cpuSeconds ?? 0));
  const t0 = Date.now();
  const machine0 = machineBusySeconds();
  const start = new Map([...pids].map(([name, pid]) => [name, cpuOf(pid)]));
  return {
    stop(): CpuAccount {
      const byName = new Map([...pids].map(([name, pid]) => [name, cpuOf(pid) - (start.get(name) ?? 0)]));
      return {
        byName,
        machine: machineBusySeconds() - machine0,
        seconds: (Date.now() - t0) / 1000,
        cores: cpus().length,
      };
    },
  };
}

/** "relay 96, mock API 39, ..., other 4; machine 180 of 200 µs (2 cores)" per `units` items. */
export function describeAccount(account: CpuAccount, units: number): string {
  const us = (s: number) => ((s * 1e6) / Math.max(1, units)).toFixed(0);
  const named = [...account.byName].reduce((sum, [, s]) => sum + s, 0);
  const parts = [...account.byName].map(([name, s]) => `${name} ${us(s)}`);
  parts.push(`other ${us(Math.max(0, account.machine - named))}`);
  const available = account.cores * account.seconds;
  return `${parts.join(', ')}; machine ${us(account.machine)} of ${us(available)} µs available (${account.cores} cores, ${((100 * account.machine) / Math.max(1e-9, available)).toFixed(0)}% busy)`;
}
