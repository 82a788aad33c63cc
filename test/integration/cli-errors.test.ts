// What a user sees when a command fails: one clear line on stderr, a non-zero exit code, and no stack
// trace unless --verbose. Runs the real command line against the real stack (Kafka) where one is needed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CliRun, runFerry } from '../support/ferry-cli.ts';
import { freePort } from '../support/ports.ts';

const STACK_TRACE = /\n\s+at /;

function expectOneLineFailure(r: CliRun, code: number, message: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.err).toMatch(message);
  expect(r.err).not.toMatch(STACK_TRACE);
  expect(r.err).not.toContain('node:internal');
}

describe('ferry command line failures', () => {
  it('prints its version', async () => {
    const r = await runFerry(['--version']);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(pkg.version);
  });

  it('relay status with no relay running says it cannot reach it', async () => {
    const port = await freePort();
    const r = await runFerry(['relay', 'status', '--url', `http://127.0.0.1:${port}`]);
    expectOneLineFailure(
      r,
      1,
      new RegExp(`cannot reach the relay at http://127.0.0.1:${port}: connection refused`),
    );
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('--verbose adds the stack trace', async () => {
    const port = await freePort();
    const r = await runFerry(['relay', 'status', '--url', `http://127.0.0.1:${port}`, '--verbose']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(STACK_TRACE);
  });

  it('relay status with a URL that is not one is a usage error', async () => {
    expectOneLineFailure(await runFerry(['relay', 'status', '--url', 'nope']), 2, /--url nope is not a URL/);
  });

  it('transform check of a missing file names the file', async () => {
    expectOneLineFailure(
      await runFerry(['transform', 'check', 'missing.wasm']),
      1,
      /^ferry: missing\.wasm: no such file or directory\n$/,
    );
  });

  it('transform run of a missing module names the file, with the new and the old flag names', async () => {
    for (const flags of [
      ['--input-topic', 'a', '--output-topic', 'b'],
      ['--input', 'a', '--output', 'b', 'c', '--env', 'K=V', '--bootstrap', '127.0.0.1:1'],
    ]) {
      expectOneLineFailure(
        await runFerry(['transform', 'run', '--module', 'missing.wasm', ...flags]),
        1,
        /missing\.wasm: no such file or directory/,
      );
    }
  });

  it('transform run without its required flags says which', async () => {
    const r = await runFerry(['transform', 'run', '--module', 'x.wasm']);
    expectOneLineFailure(r, 1, /required option '--input-topic <topic>' not specified/);
  });

  it('topics count of an unknown topic fails instead of printing 0', async () => {
    const topic = `ferry.cli.missing.${Date.now()}`;
    const r = await runFerry(['topics', 'count', topic]);
    expectOneLineFailure(r, 1, new RegExp(`topic ${topic.replaceAll('.', '\\.')} does not exist`));
    expect(r.out).toBe('');
  });

  it('topics watch against a broker that is not there says so', async () => {
    const port = await freePort();
    const r = await runFerry(['topics', 'watch', '--once', '--bootstrap-server', `127.0.0.1:${port}`]);
    expectOneLineFailure(r, 1, new RegExp(`connection to 127.0.0.1:${port} refused`));
  });

  it('durations take units, and refuse what is not one', async () => {
    expectOneLineFailure(
      await runFerry(['topics', 'watch', '--interval', '5x']),
      1,
      /'-i, --interval <duration>' argument '5x' is invalid\. a duration like 500ms, 5s, 2m or 1h/,
    );
    expectOneLineFailure(await runFerry(['demo', '--drain-timeout', 'soon']), 1, /a duration like/);
  });

  it('mock-api refuses a port that is not one', async () => {
    expectOneLineFailure(await runFerry(['mock-api', '--port', 'abc']), 1, /a port number, 0\.\.65535/);
  });

  it('relay check-config names an unset variable once', async () => {
    const r = await runFerry(['relay', 'check-config', 'deploy/relay.example.yaml'], {
      env: { FERRY_ADMIN_TOKEN: undefined },
    });
    expect(r.code).toBe(2);
    expect(r.err.match(/adminToken/g)).toHaveLength(1);
    expect(r.err).toContain('adminToken: environment variable FERRY_ADMIN_TOKEN is not set');
  });

  it('relay run with a missing config file is one line and exit 2', async () => {
    expectOneLineFailure(await runFerry(['relay', 'run', '--config', 'missing.yaml']), 2, /missing\.yaml/);
  });

  it('an unknown command or option is refused with the usage', async () => {
    expectOneLineFailure(await runFerry(['nope']), 1, /unknown command 'nope'/);
    expectOneLineFailure(await runFerry(['topics', 'count', 'x', '--bogus']), 1, /unknown option '--bogus'/);
  });
});
