// buildah as the image test uses it: images in .ferry/image/storage (vfs driver, no overlay mounts),
// commands run with chroot isolation on the host's network (no Docker engine, no user namespaces).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const IMAGE_DIR = process.env.FERRY_IMAGE_DIR ?? join(ROOT, '.ferry/image');
const run = promisify(execFile);

export function buildahArgs(args: readonly string[]): string[] {
  return [
    '--root',
    join(IMAGE_DIR, 'storage'),
    '--runroot',
    join(IMAGE_DIR, 'run'),
    '--storage-driver',
    'vfs',
    ...args,
  ];
}

/** Runs buildah to completion; rejects with its stderr on a non-zero exit. */
export async function buildah(args: readonly string[], timeoutMs = 600_000): Promise<string> {
  const { stdout } = await run('buildah', buildahArgs(args), {
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

/** `buildah run` in a working container, as a child process (for long-running commands). */
export function buildahRun(
  container: string,
  command: readonly string[],
  { user, mounts = [], env = {} }: { user: string; mounts?: readonly string[]; env?: Record<string, string> },
): ChildProcess {
  const flags = ['run', '--isolation', 'chroot', '--network', 'host', '--user', user];
  for (const m of mounts) flags.push('--volume', m);
  for (const [k, v] of Object.entries(env)) flags.push('--env', `${k}=${v}`);
  return spawn('buildah', buildahArgs([...flags, container, '--', ...command]), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a command in the container to completion: its exit code and output. */
export function buildahRunOnce(
  container: string,
  command: readonly string[],
  options: { user: string; mounts?: readonly string[]; env?: Record<string, string> },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = buildahRun(container, command, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Every process below `pid` (chroot isolation has no PID namespace: they are host processes). */
export function descendants(pid: number): Array<{ pid: number; argv: string[] }> {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const p = Number(entry);
    if (!Number.isInteger(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      parentOf.set(p, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: Array<{ pid: number; argv: string[] }> = [];
  for (const [p] of parentOf) {
    let q: number | undefined = parentOf.get(p);
    while (q !== undefined && q !== pid && q > 1) q = parentOf.get(q);
    if (q !== pid) continue;
    try {
      out.push({ pid: p, argv: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Signals the container's init (tini) under a `buildah run`, as `docker stop` or the kubelet would. */
export function signalInit(run: ChildProcess, signal: NodeJS.Signals): number {
  const init = descendants(run.pid!).find((p) => p.argv[0] === '/usr/bin/tini');
  if (init === undefined) throw new Error(`no tini running under buildah run ${run.pid}`);
  process.kill(init.pid, signal);
  return init.pid;
}

/** Kills a `buildah run` and what it runs (killing buildah alone leaves its command running). */
export function killRun(run: ChildProcess): void {
  if (run.pid === undefined || run.exitCode !== null) return;
  for (const p of [...descendants(run.pid), { pid: run.pid }]) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
