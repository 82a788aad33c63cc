// The README's main job, end to end: `bin/ferry demo` on the local stack must account for every change.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

describe('ferry demo', () => {
  it('runs the whole pipeline and balances the accounting for every sink', async () => {
    const { stdout } = await run(
      'bin/ferry',
      ['demo', '--count', '400', '--rate', '400', '--bad-share', '0.1', '--drain-timeout', '90'],
      { cwd: root, timeout: 170_000, env: { ...process.env, FORCE_COLOR: '0' } },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      // execFile's error names only the command: show what the demo said, so a CI failure explains itself.
      console.log(
        `ferry demo failed; stdout:\n${error.stdout?.slice(-6000)}\nstderr:\n${error.stderr?.slice(-4000)}`,
      );
      throw error;
    });
    expect(stdout).toContain('Every change is accounted for.');
    const table = stdout.slice(stdout.indexOf('SINK'));
    for (const sink of ['tms', 'billing', 'yard', 'planning']) {
      expect(table).toMatch(new RegExp(`^${sink}\\s.*\\syes\\s*$`, 'm'));
    }
    expect(stdout).toMatch(/source changes committed by the generator: 400; on cdc topics: 400/);
    // The planning API rejects its first three requests with 400: those are dead-lettered by the relay.
    expect(stdout).toMatch(/^planning\s+clean\.loads\s+\d+\s+\d+\s+0\s+0\s+\d+\s+3\s/m);
    expect(stdout).not.toMatch(/[1-9]\d* duplicate applications/);
  });
});
