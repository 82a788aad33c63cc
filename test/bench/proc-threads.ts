// CPU time of another process's threads (Linux /proc/<pid>/task), grouped by thread name: the JS main
// thread apart from the runtime's helpers (V8's GC and compiler workers, Deno's tokio threads, libuv's
// pool, Bun's HTTP and GC threads), so a bench can say where a runtime's CPU per record went.
// A thread that ended between two samples loses its time: long-lived runtimes keep theirs.
import { readdirSync, readFileSync } from 'node:fs';
import { TICKS_PER_SECOND } from './proc-stats.ts';

/** CPU seconds per thread group: `main` is the thread whose id is the pid. */
export type ThreadGroups = ReadonlyMap<string, number>;

export function threadGroups(pid: number): ThreadGroups {
  const groups = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return groups;
  }
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    // Numbered pools ("tokio-runtime-w", "V8 DefaultWorke", "libuv-worker", "HTTP Client 3") are one group.
    const group = Number(tid) === pid ? 'main' : name.replace(/[\s#-]*\d+$/, '').trim() || 'unnamed';
    groups.set(group, (groups.get(group) ?? 0) + seconds);
  }
  return groups;
}

/** b - a per group (groups that used nothing are left out). */
export function threadGroupsSince(a: ThreadGroups, b: ThreadGroups): ThreadGroups {
  const out = new Map<string, number>();
  for (const [group, seconds] of b) {
    const used = seconds - (a.get(group) ?? 0);
    if (used > 0) out.set(group, used);
  }
  return out;
}

/** "main 180, V8 DefaultWorke 20, tokio-runtime-w 12" in µs per unit, largest first, at most `top`. */
export function describeThreadGroups(groups: ThreadGroups, units: number, top = 4): string {
  const sorted = [...groups].sort((x, y) => y[1] - x[1]);
  const shown = sorted.slice(0, top).map(([g, s]) => `${g} ${((s * 1e6) / Math.max(1, units)).toFixed(0)}`);
  const rest = sorted.slice(top).reduce((sum, [, s]) => sum + s, 0);
  if (rest > 0) shown.push(`other threads ${((rest * 1e6) / Math.max(1, units)).toFixed(0)}`);
  return shown.join(', ');
}
