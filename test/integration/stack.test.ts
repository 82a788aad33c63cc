// `ferry stack up` twice is harmless; after `ferry stack down` no process of ours is left; then the
// stack is brought back up for the tests that follow (they run one file at a time).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { HOST, PATHS, PORTS, ROOT, SERVICE_NAMES } from '../../deploy/local/config.ts';
import { runningPid } from '../../deploy/local/process.ts';
import { stackStatus } from '../../deploy/local/stack.ts';

const run = promisify(execFile);
const ferry = (...args: string[]) =>
  run(join(ROOT, 'bin', 'ferry'), args, { cwd: ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });

/** Live processes whose command line mentions our state folder. */
function ourProcesses(): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
      if (!zombie && cmd.includes(PATHS.state)) found.push({ pid: Number(entry), cmd: cmd.slice(0, 120) });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: HOST, port });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

describe('ferry stack', () => {
  afterAll(async () => {
    // Leave the stack up whatever happened.
    const status = await stackStatus();
    if (status.some((s) => s.state !== 'healthy')) await ferry('stack', 'up');
  });

  it('up twice is harmless: the second run keeps every process and reports healthy', async () => {
    await ferry('stack', 'up');
    const pids = SERVICE_NAMES.map((s) => runningPid(s));
    expect(pids.every((p) => p !== undefined)).toBe(true);
    const { stdout } = await ferry('stack', 'up');
    expect(stdout).toMatch(/already running/);
    expect(SERVICE_NAMES.map((s) => runningPid(s))).toEqual(pids);
    const { stdout: status } = await ferry('stack', 'status');
    for (const name of SERVICE_NAMES)
      expect(status).toMatch(new RegExp(`${name}\\s+\\d+\\s+\\d+\\s+healthy`));
    expect(status).toMatch(/connector ferry-supply-chain: RUNNING/);
  });

  it('down leaves no process of ours and frees every port; up brings it all back', async () => {
    await ferry('stack', 'down');
    expect(ourProcesses()).toEqual([]);
    for (const port of Object.values(PORTS)) expect(await portOpen(port)).toBe(false);
    for (const name of SERVICE_NAMES) expect(runningPid(name)).toBeUndefined();

    const status = await ferry('stack', 'status').catch((e: { code: number; stdout: string }) => e);
    expect('code' in status ? status.code : 0).toBe(1);

    await ferry('stack', 'up');
    const after = await stackStatus();
    expect(after.map((s) => s.state)).toEqual(SERVICE_NAMES.map(() => 'healthy'));
  });
});
