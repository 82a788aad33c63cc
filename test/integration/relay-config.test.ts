// A bad config is refused before anything starts: a clear `path: problem` list on stderr and exit
// code 2, from `ferry relay run`, from `ferry relay check-config`, and from the Deno and Bun entry points.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE = process.execPath;
const DENO = join(ROOT, 'node_modules', '.bin', 'deno');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');

const BAD = `
kafka: { brokers: ["127.0.0.1:19092"] }
routes:
  - topics: clean.orders
    sinks:
      - id: billing
        url: ftp://127.0.0.1/billing
        retry: { attempts: 0 }
        onOpen: sometimes
        auth: { bearer: "\${FERRY_TEST_MISSING_TOKEN}" }
`;

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-relay-config-'));
  const file = join(dir, 'relay.yaml');
  writeFileSync(file, text);
  return file;
}

const env = { ...process.env, FERRY_TEST_MISSING_TOKEN: '' };

describe('relay config errors', () => {
  it('ferry relay run exits 2 and names every problem', () => {
    const file = writeConfig(BAD);
    const r = spawnSync(NODE, ['cli/main.ts', 'relay', 'run', '--config', file], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`invalid config ${file}`);
    expect(r.stderr).toContain(
      'routes[0].sinks[0].auth.bearer: environment variable FERRY_TEST_MISSING_TOKEN is not set',
    );
    expect(r.stderr).toContain('routes[0].sinks[0].retry.attempts: must be a positive integer');
    expect(r.stderr).toContain('routes[0].sinks[0].onOpen: must be pause or deadletter');
  });

  it('check-config reports URL problems, and accepts the example config', () => {
    const file = writeConfig(
      BAD.replace('retry: { attempts: 0 }', '')
        .replace('onOpen: sometimes', '')
        .replace(/auth: .*\n/, ''),
    );
    const bad = spawnSync(NODE, ['cli/main.ts', 'relay', 'check-config', file], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('routes[0].sinks[0].url: must be an http(s) URL');
    const good = spawnSync(NODE, ['cli/main.ts', 'relay', 'check-config', 'deploy/relay.example.yaml'], {
      cwd: ROOT,
      env: { ...env, FERRY_ADMIN_TOKEN: 'an-admin-token-for-the-test' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('-> billing POST');
  });

  it('the Node, Deno and Bun entry points exit 2 too (FERRY_CONFIG and --config)', () => {
    const file = writeConfig(BAD);
    const node = spawnSync(NODE, ['relay/entry/node.ts'], {
      cwd: ROOT,
      env: { ...env, FERRY_CONFIG: file },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(node.status).toBe(2);
    expect(node.stderr).toContain('routes[0].sinks[0].onOpen: must be pause or deadletter');
    const deno = spawnSync(DENO, ['run', '-A', 'relay/entry/deno.ts', '--config', file], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(deno.stderr).toContain('routes[0].sinks[0].onOpen: must be pause or deadletter');
    expect(deno.status).toBe(2);
    // The deno.json task (least permissions, V8 heap flags) runs the same entry; it reads inside the
    // checkout only, so a config elsewhere is refused by name, and the same file inside is validated.
    const outside = spawnSync(DENO, ['task', 'relay', '--config', file], {
      cwd: ROOT,
      env: { ...env, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(outside.stderr).toContain(`ferry relay: cannot read config ${file}: Requires read access`);
    expect(outside.status).toBe(2);
    // .ferry-*/ is git-ignored: a scratch directory inside the checkout.
    const inside = mkdtempSync(join(ROOT, '.ferry-relay-config-'));
    writeFileSync(join(inside, 'relay.yaml'), BAD);
    try {
      const task = spawnSync(DENO, ['task', 'relay', '--config', join(inside, 'relay.yaml')], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(task.stderr).toContain('routes[0].sinks[0].onOpen: must be pause or deadletter');
      expect(task.status).toBe(2);
    } finally {
      rmSync(inside, { recursive: true, force: true });
    }
    const bun = spawnSync(BUN, ['relay/entry/bun.ts', '--config', file], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bun.stderr).toContain('routes[0].sinks[0].onOpen: must be pause or deadletter');
    expect(bun.status).toBe(2);
    const missing = spawnSync(NODE, ['relay/entry/node.ts'], {
      cwd: ROOT,
      env: { ...env, FERRY_CONFIG: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no config file');
  });
});
