// CPU time and RSS of a process from /proc (Linux), for benchmark reports.
import { readFileSync } from 'node:fs';

/** Clock ticks per second in /proc's CPU times (USER_HZ). */
export const TICKS_PER_SECOND = 100;

export interface ProcSample {
  readonly at: number;
  /** user + system CPU seconds since the process started. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { at: Date.now(), cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** Samples every `everyMs` until stopped; reports peak RSS and average CPU (cores) over the window. */
export function watchProc(pid: number, everyMs = 250) {
  const samples: ProcSample[] = [];
  const first = sampleProc(pid);
  if (first) samples.push(first);
  const timer = setInterval(() => {
    const s = sampleProc(pid);
    if (s) samples.push(s);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const last = sampleProc(pid) ?? samples.at(-1);
      if (last) samples.push(last);
      const a = samples[0];
      const b = samples.at(-1);
      const cpu = a && b && b.at > a.at ? (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000) : 0;
      const peakRss = Math.max(0, ...samples.map((s) => s.rssBytes));
      return { cpuCores: cpu, peakRssBytes: peakRss, lastRssBytes: b?.rssBytes ?? 0 };
    },
  };
}
