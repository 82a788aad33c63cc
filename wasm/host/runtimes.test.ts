// The host runs on Deno as well as Node (DESIGN.md "Runtimes"): the same worker code, started as a web
// Worker there. Deno comes from the npm registry (devDependency `deno`).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const expected = { outputs: 1, value: 'hi', headers: 1 };

describe('host runtimes', () => {
  it('Node: worker_threads', async () => {
    const { stdout } = await run(process.execPath, ['test/support/host-smoke.ts'], {
      cwd: root,
      timeout: 30_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual(expected);
  });
  it('Deno: web Worker', async () => {
    const deno = `${root}node_modules/.bin/deno`;
    const { stdout } = await run(deno, ['run', '--allow-read', '--allow-env', 'test/support/host-smoke.ts'], {
      cwd: root,
      timeout: 60_000,
    });
    expect(JSON.parse(stdout.trim())).toEqual(expected);
  });
});
