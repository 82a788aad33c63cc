// rpk is not installed here, so what Ferry asks of it is checked against rpk's own flag definitions,
// recorded with their Redpanda tag in test/fixtures/rpk/flags.json: the deploy script runs against a
// recording rpk that parses argv as rpk v24.3.2 does, and every rpk command line written anywhere in
// the repository (scripts, READMEs, comments, the Compose file) must parse the same way.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRpkSpec, parseRpkArgv } from '../fixtures/rpk/argv.ts';

const root = join(import.meta.dirname, '..', '..');
const script = join(root, 'deploy/redpanda/deploy-transforms.sh');
const spec = loadRpkSpec();
const ENTITIES = ['shipments', 'trailers', 'loads'] as const;

interface Call {
  argv: string[];
  cwd: string;
  ok: boolean;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-rpk-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'wasm'));
  mkdirSync(join(dir, 'state'));
  // The smallest valid module: rpk checks only the magic number before uploading.
  for (const t of ENTITIES)
    writeFileSync(join(dir, 'wasm', `${t}.wasm`), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  const rpk = join(dir, 'bin', 'rpk');
  const recorder = join(root, 'test/fixtures/rpk/recording-rpk.ts');
  writeFileSync(rpk, `#!/bin/sh\nexec "${process.execPath}" "${recorder}" "$@"\n`);
  chmodSync(rpk, 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function runScript(env: Record<string, string> = {}, args: string[] = []) {
  const r = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    env: {
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      HOME: dir,
      RPK_RECORD: join(dir, 'calls.jsonl'),
      RPK_STATE: join(dir, 'state'),
      FERRY_SKIP_BUILD: '1',
      FERRY_WASM_DIR: join(dir, 'wasm'),
      ...env,
    },
  });
  const calls: Call[] = (() => {
    try {
      return readFileSync(join(dir, 'calls.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Call);
    } catch {
      return [];
    }
  })();
  rmSync(join(dir, 'calls.jsonl'), { force: true });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, calls };
}

/** What `rpk transform deploy` must be given for a transform, straight from its transform.yaml. */
function expectedDeploy(t: string): string[] {
  const cfg = parse(readFileSync(join(root, 'transforms', t, 'transform.yaml'), 'utf8'));
  return [
    'transform',
    'deploy',
    '--file',
    join(dir, 'wasm', `${t}.wasm`),
    '--name',
    cfg.name,
    '--input-topic',
    cfg['input-topic'],
    ...cfg['output-topics'].flatMap((o: string) => ['--output-topic', o]),
    ...Object.entries(cfg.env ?? {}).flatMap(([k, v]) => ['--var', `${k}=${v}`]),
  ];
}

describe('deploy/redpanda/deploy-transforms.sh against a recording rpk', () => {
  it('creates the topics first, deploys each transform with --file and repeated --output-topic, lists at the end', () => {
    const run = runScript();
    expect(run.out).not.toMatch(/Error:/);
    expect(run.status).toBe(0);
    expect(run.calls.every((c) => c.ok)).toBe(true);
    expect(run.calls.map((c) => c.argv)).toEqual([
      ['cluster', 'config', 'get', 'data_transforms_enabled'],
      [
        'topic',
        'create',
        '--partitions',
        '6',
        'cdc.public.shipments',
        'clean.shipments',
        'dlq.transform',
        'cdc.public.trailers',
        'clean.trailers',
        'cdc.public.loads',
        'clean.loads',
        'dlq.relay',
      ],
      ...ENTITIES.map(expectedDeploy),
      ['transform', 'list'],
    ]);
    // Run outside any transform folder, so no transform.yaml is merged behind the flags' back.
    for (const c of run.calls) expect(c.cwd).toBe(root);
    const state = JSON.parse(readFileSync(join(dir, 'state', 'state.json'), 'utf8'));
    expect(state.transforms.map((t: { name: string }) => t.name)).toEqual([...ENTITIES]);
    expect(run.out).toContain('transform "loads" deployed.');
  });

  it('is idempotent: a second run finds the topics there and redeploys', () => {
    expect(runScript().status).toBe(0);
    const again = runScript();
    expect(again.out).toContain('TOPIC_ALREADY_EXISTS');
    expect(again.status).toBe(0);
    expect(again.calls.filter((c) => c.argv[1] === 'deploy')).toHaveLength(3);
  });

  it('deploys a chosen transform with the partitions and replicas asked for', () => {
    const run = runScript({ PARTITIONS: '12', REPLICAS: '3', FERRY_EXTRA_TOPICS: '' }, ['trailers']);
    expect(run.status).toBe(0);
    expect(run.calls[1]?.argv).toEqual([
      'topic',
      'create',
      '--partitions',
      '12',
      '--replicas',
      '3',
      'cdc.public.trailers',
      'clean.trailers',
      'dlq.transform',
    ]);
    expect(run.calls[2]?.argv).toEqual(expectedDeploy('trailers'));
  });

  it('stops before creating or deploying anything when data transforms are off', () => {
    const run = runScript({ RPK_TRANSFORMS_ENABLED: 'false' });
    expect(run.status).toBe(2);
    expect(run.out).toContain("data_transforms_enabled is 'false'");
    expect(run.calls.map((c) => c.argv.slice(0, 2))).toEqual([['cluster', 'config']]);
  });

  it('stops when a topic cannot be created for another reason', () => {
    const run = runScript({ RPK_REFUSE_TOPICS: 'clean.trailers' });
    expect(run.status).toBe(2);
    expect(run.out).toContain('could not create topic clean.trailers (POLICY_VIOLATION');
    expect(run.calls.filter((c) => c.argv[1] === 'deploy')).toHaveLength(0);
  });

  it('refuses a partition count that is not a positive integer', () => {
    const run = runScript({ PARTITIONS: 'six' });
    expect(run.status).toBe(2);
    expect(run.out).toContain('PARTITIONS must be a positive integer');
    expect(run.calls).toHaveLength(0);
  });

  it('refuses a missing module with a clear message before calling rpk to deploy', () => {
    rmSync(join(dir, 'wasm', 'loads.wasm'));
    const run = runScript();
    expect(run.status).toBe(2);
    expect(run.out).toContain('no module');
    expect(run.calls.filter((c) => c.argv[0] !== 'cluster')).toHaveLength(0);
  });
});

describe('the recorded rpk flag set', () => {
  it('comes from a tagged Redpanda release', () => {
    expect(spec.redpanda.tag).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(spec.redpanda.commit).toMatch(/^[0-9a-f]{40}$/);
    for (const cmd of Object.values(spec.commands)) expect(cmd.source).toMatch(/^src\/go\/rpk\/pkg\/cli\//);
  });

  it('refuses the pre-24.1 form: the module as a positional argument', () => {
    const old = parseRpkArgv(['transform', 'deploy', 'build/wasm/shipments.wasm', '--name', 'shipments']);
    expect(old.ok).toBe(false);
    expect(old.ok ? '' : old.problem).toMatch(/at most 0 arg/);
  });

  it('takes --output-topic repeated or comma-separated, and -X before the command', () => {
    const a = parseRpkArgv([
      '-X',
      'brokers=redpanda:9092',
      'transform',
      'deploy',
      '-o',
      'a',
      '--output-topic=b,c',
    ]);
    expect(a.ok && a.flags['output-topic']).toEqual(['a', 'b', 'c']);
    expect(a.ok && a.flags['config-opt']).toEqual(['brokers=redpanda:9092']);
  });

  it('refuses unknown flags, unknown commands and malformed values', () => {
    expect(parseRpkArgv(['transform', 'deploy', '--output-topics', 'a']).ok).toBe(false);
    expect(parseRpkArgv(['transform', 'deploy', '--var', 'NOVALUE']).ok).toBe(false);
    expect(parseRpkArgv(['topic', 'create', '-p', 'six', 't']).ok).toBe(false);
    expect(parseRpkArgv(['transform', 'publish']).ok).toBe(false);
  });
});

// ---- every rpk command line in the repository ----

const FAMILIES = new Set(['transform', 'wasm', 'topic', 'cluster', 'redpanda']);
const TEXT = new Set(['.md', '.sh', '.yaml', '.yml']);

/** The pieces of a line that may hold a command: code spans when there are any, else the line. */
function fragments(file: string, text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  const lines = text.replace(/\\\n\s*/g, ' ').split('\n');
  for (const line of lines) {
    if (extname(file) === '.md' && line.trimStart().startsWith('```')) {
      fenced = !fenced;
      continue;
    }
    const spans = [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    if (extname(file) === '.md' && !fenced) out.push(...spans);
    else out.push(...(spans.length > 0 ? spans : [line]));
  }
  return out;
}

/** `rpk <family> ...` command lines in a fragment, cut at shell operators, comments and prose punctuation. */
function commandLines(fragment: string): string[][] {
  const found: string[][] = [];
  for (const m of fragment.matchAll(/(?:^|[\s("'[])rpk\s+(?=[a-z-])/g)) {
    const argv: string[] = [];
    for (const token of fragment.slice((m.index ?? 0) + m[0].length).split(/\s+/)) {
      // Shell operators and comments end the command; `<placeholder>` values do not.
      if (token === '' || /^[#|;&()]/.test(token) || /^(\d?>|<)/.test(token.replace(/^<[^<>\s]+>/, '')))
        break;
      const clean = token.replace(/^["']/, '').replace(/["'`),.;:\]]+$/, '');
      if (clean !== '') argv.push(clean);
      if (clean !== token.replace(/^["']/, '')) break;
    }
    // The command starts at the first word after any global flags (-X brokers=... topic list).
    let i = 0;
    while (argv[i]?.startsWith('-')) i += /^(-[vh]|--verbose|--help|--[^=]+=.*)$/.test(argv[i] ?? '') ? 1 : 2;
    if (FAMILIES.has(argv[i] ?? '')) found.push(argv);
  }
  return found;
}

function repositoryFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => TEXT.has(extname(f)) && !f.startsWith('node_modules/') && !f.startsWith('.tools/'));
}

describe('every rpk command line in the repository', () => {
  const lines = repositoryFiles().flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      return []; // deleted in the work tree
    }
    return fragments(file, text).flatMap((f) => commandLines(f).map((argv) => ({ file, argv })));
  });

  it('finds the command lines it should check', () => {
    const found = new Set(lines.map((l) => l.file));
    for (const f of [
      'deploy/README.md',
      'deploy/compose/compose.yaml',
      'deploy/redpanda/deploy-transforms.sh',
      'redpanda.yaml',
      'transforms/README.md',
    ])
      expect(found).toContain(f);
  });

  it.each(lines.map((l) => [`${l.file}: rpk ${l.argv.join(' ')}`, l.argv] as const))('%s', (_label, argv) => {
    const parsed = parseRpkArgv(argv, spec);
    expect(parsed.ok ? 'ok' : parsed.problem).toBe('ok');
  });
});
