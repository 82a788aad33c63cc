// CPU time per thread of this process (Linux /proc/self/task), grouped: the main thread, the
// transform workers (worker_threads are named "WorkerThread"), and the runtime's own helpers (GC,
// compiler). Lets a report say which side of a host's hand-off the time went to. Elsewhere: undefined.
import { readdirSync, readFileSync } from 'node:fs';
import { TICKS_PER_SECOND } from './proc-stats.ts';

export interface ThreadCpu {
  readonly main: number;
  readonly workers: number;
  readonly runtime: number;
}

export function threadCpu(): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  let main = 0;
  let workers = 0;
  let runtime = 0;
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    if (Number(tid) === process.pid) main += seconds;
    else if (name === 'WorkerThread') workers += seconds;
    else runtime += seconds;
  }
  return { main, workers, runtime };
}

/** b - a, or undefined when either is. */
export function threadCpuSince(a: ThreadCpu | undefined, b: ThreadCpu | undefined): ThreadCpu | undefined {
  if (a === undefined || b === undefined) return undefined;
  return { main: b.main - a.main, workers: b.workers - a.workers, runtime: b.runtime - a.runtime };
}
