// `ferry transform init | test | deploy` as a user meets them: the real CLI in a child process, each
// expected failure one line with its exit code, a scaffolded transform passing its own fixtures, and
// a fixture that states the wrong thing failing with an expected/actual diff and exit code 1.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const run = promisify(execFile);
// Each case starts a CLI process (a second or two, much more on a loaded machine).
vi.setConfig({ testTimeout: 120_000 });
const root = fileURLToPath(new URL('../../', import.meta.url));
let dir = '';

async function ferry(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['cli/main.ts', ...args], {
      cwd: root,
      timeout: 240_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

/** One line on stderr, no stack trace. */
const oneLine = (err: string) => {
  const lines = err.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('ferry: '))).toHaveLength(1);
  expect(err).not.toMatch(/\n\s+at /);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-team-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ferry transform init: error paths', () => {
  it('refuses a name that cannot be a transform name (exit 2)', async () => {
    const r = await ferry(['transform', 'init', 'Bad Name!', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/a transform name is lower case/);
    oneLine(r.err);
  });
  it('refuses a table that is not <schema>.<table> (exit 2)', async () => {
    const r = await ferry(['transform', 'init', 'x', '--dir', dir, '--table', 'public.orders; drop']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--table .*expected <schema>\.<table>/);
    oneLine(r.err);
  });
  it('says PostgreSQL cannot be reached, with where and why (exit 1)', async () => {
    const r = await ferry(['transform', 'init', 'x', '--dir', dir, '--table', 'public.orders'], {
      FERRY_PG_URL: 'postgres://ferry:ferry@127.0.0.1:1/supply_chain',
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1: connection refused/);
    expect(r.err).not.toContain('ferry:ferry'); // the password never echoed
    oneLine(r.err);
  });
  it('never overwrites a folder that has files (exit 2, the file untouched)', async () => {
    const target = join(dir, 'taken');
    await mkdir(target, { recursive: true });
    await writeFile(join(target, 'index.ts'), '// mine\n');
    const r = await ferry(['transform', 'init', 'taken', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/already exists; init never overwrites it/);
    expect(await readFile(join(target, 'index.ts'), 'utf8')).toBe('// mine\n');
  });
});

describe('ferry transform test and deploy: error paths', () => {
  it('names a transform that does not exist (exit 2)', async () => {
    const r = await ferry(['transform', 'test', 'no-such-transform']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no transform named "no-such-transform"/);
    oneLine(r.err);
  });
  it('points at an invalid fixture by file, case and path (exit 2)', async () => {
    const t = join(dir, 'badfix');
    await mkdir(join(t, 'fixtures'), { recursive: true });
    await writeFile(join(t, 'transform.yaml'), 'name: badfix\ninput-topic: a\noutput-topics:\n  - b\n');
    await writeFile(
      join(t, 'fixtures', 'a.json'),
      JSON.stringify([{ name: 'x', input: {}, expect: { maybe: 1 } }]),
    );
    const r = await ferry(['transform', 'test', t]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/fixtures\/a\.json#0: expect/);
    oneLine(r.err);
  });
  it('refuses a transform.yaml without output topics (exit 2)', async () => {
    const t = join(dir, 'noout');
    await mkdir(t, { recursive: true });
    await writeFile(join(t, 'transform.yaml'), 'name: noout\ninput-topic: a\n');
    const r = await ferry(['transform', 'deploy', t, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/transform\.yaml: output-topics/);
  });
  it('deploy --dry-run prints the rpk command from transform.yaml and runs nothing', async () => {
    const r = await ferry(['transform', 'deploy', 'shipments', '--dry-run'], { RPK: '/nonexistent/rpk' });
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(
      '/nonexistent/rpk transform deploy --file build/wasm/shipments.wasm --name shipments ' +
        '--input-topic cdc.public.shipments --output-topic clean.shipments --output-topic dlq.transform ' +
        '--var FERRY_DLQ_TOPIC=dlq.transform',
    );
  });
  it('deploy --portable --dry-run prints the portable runner command, with overrides', async () => {
    const r = await ferry([
      'transform',
      'deploy',
      'loads',
      '--portable',
      '--dry-run',
      '--input-topic',
      'cdc.other.loads',
      '--bootstrap-server',
      '127.0.0.1:19092',
      '--var',
      'MODE=strict mode',
    ]);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(
      'ferry transform run --module build/wasm/loads.wasm --name loads --input-topic cdc.other.loads ' +
        '--output-topic clean.loads --output-topic dlq.transform --var FERRY_DLQ_TOPIC=dlq.transform ' +
        "--var 'MODE=strict mode' --bootstrap-server 127.0.0.1:19092",
    );
  });
  it('without rpk, deploy says so and how to run it beside Kafka instead (exit 1)', async () => {
    const r = await ferry(['transform', 'deploy', 'shipments'], { RPK: '/nonexistent/rpk' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\/nonexistent\/rpk not found .*--portable/);
    oneLine(r.err);
  });
  it('deploy runs the rpk command it prints (a recording rpk that parses argv as rpk does)', async () => {
    const bin = join(dir, 'rpk-bin');
    await mkdir(join(dir, 'rpk-state'), { recursive: true });
    await mkdir(bin, { recursive: true });
    const recorder = join(root, 'test/fixtures/rpk/recording-rpk.ts');
    await writeFile(join(bin, 'rpk'), `#!/bin/sh\nexec "${process.execPath}" "${recorder}" "$@"\n`, {
      mode: 0o755,
    });
    const env = {
      PATH: `${bin}:${process.env.PATH}`,
      RPK_RECORD: join(dir, 'rpk-calls.jsonl'),
      RPK_STATE: join(dir, 'rpk-state'),
    };
    // rpk refuses a deploy whose topics do not exist: exit 1 with rpk's reason above ferry's line.
    const refused = await ferry(['transform', 'deploy', 'trailers'], env);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/topic cdc\.public\.trailers does not exist/);
    expect(refused.err).toMatch(/ferry: rpk transform deploy exited with code 1/);
    await rm(join(dir, 'rpk-calls.jsonl'));
    await writeFile(
      join(dir, 'rpk-state', 'state.json'),
      JSON.stringify({ topics: ['cdc.public.trailers', 'clean.trailers', 'dlq.transform'], transforms: [] }),
    );
    const r = await ferry(['transform', 'deploy', 'trailers'], {
      PATH: `${bin}:${process.env.PATH}`,
      RPK_RECORD: join(dir, 'rpk-calls.jsonl'),
      RPK_STATE: join(dir, 'rpk-state'),
    });
    expect(r.code, r.err).toBe(0);
    const printed = r.out.trim().split('\n')[0]!;
    expect(printed).toMatch(/^rpk transform deploy --file build\/wasm\/trailers\.wasm --name trailers /);
    const calls = (await readFile(join(dir, 'rpk-calls.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { argv: string[]; ok: boolean });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.ok).toBe(true);
    expect(['rpk', ...calls[0]!.argv].join(' ')).toBe(printed);
    const state = JSON.parse(await readFile(join(dir, 'rpk-state', 'state.json'), 'utf8'));
    expect(state.transforms).toEqual([
      expect.objectContaining({
        name: 'trailers',
        input: 'cdc.public.trailers',
        outputs: ['clean.trailers', 'dlq.transform'],
      }),
    ]);
  });
  it('init, test and deploy each have help with examples', async () => {
    for (const sub of ['init', 'test', 'deploy']) {
      const { code, out } = await ferry(['transform', sub, '--help']);
      expect(code).toBe(0);
      expect(out).toMatch(/Usage: ferry transform/);
      expect(out).toMatch(/Examples:/);
    }
  }, 60_000);
});

describe('a transform scaffolded outside the repository', () => {
  it('passes its generated fixtures; a fixture stating the wrong thing fails with a diff (exit 1)', async () => {
    const init = await ferry(['transform', 'init', 'audit', '--dir', dir]);
    expect(init.code).toBe(0);
    expect(init.out).toMatch(/fixtures\/invalid\.json/);
    const folder = join(dir, 'audit');
    const pass = await ferry(['transform', 'test', folder]);
    expect(pass.code, pass.err).toBe(0);
    expect(pass.out).toMatch(/audit: \d+ fixture record\(s\), all as expected/);

    const file = join(folder, 'fixtures', 'valid.json');
    const cases = JSON.parse(await readFile(file, 'utf8'));
    cases[0].expect.outputs[0].value.data.name = 'someone else';
    cases.at(-1).expect = { dlq: { code: 'invalid_json', field: '' } };
    await writeFile(file, JSON.stringify(cases, null, 2));
    const fail = await ferry(['transform', 'test', folder]);
    expect(fail.code).toBe(1);
    expect(fail.out).toMatch(/FAIL fixtures\/valid\.json#0 an insert is cleaned/);
    expect(fail.out).toMatch(/- +"name": "someone else",\n +\+ +"name": "name-1",/);
    expect(fail.out).toMatch(/FAIL fixtures\/valid\.json#4 a tombstone is dropped/);
    expect(fail.err).toMatch(/ferry: 2 of \d+ fixture record\(s\) differ/);
  }, 480_000);
});
