// deploy/edge/wrangler.toml checked the way Cloudflare would take it, offline: `wrangler deploy
// --dry-run` runs its custom build (npm run build:edge's script), validates the file and writes the
// module it would upload. The FERRY_CONFIG it binds is a valid edge relay config, and cron triggers
// are set.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { edgeConfigProblems, parseConfig } from '../../relay/edge.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOML = join(ROOT, 'deploy/edge/wrangler.toml');

describe('deploy/edge/wrangler.toml', () => {
  it('passes wrangler deploy --dry-run offline and uploads the one bundled module', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'ferry-wrangler-'));
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/wrangler'),
      ['deploy', '--dry-run', '--outdir', outdir, '-c', TOML],
      {
        cwd: ROOT,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' },
        encoding: 'utf8',
        timeout: 90_000,
      },
    );
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('--dry-run: exiting now.');
    expect(run.stdout).toContain('env.FERRY_CONFIG');
    const modules = readdirSync(outdir).filter((f) => f.endsWith('.js'));
    expect(modules).toEqual(['worker.js']);
    const size = statSync(join(outdir, 'worker.js')).size;
    expect(size).toBeGreaterThan(50_000);
    expect(size).toBeLessThanOrEqual(1024 * 1024);
  }, 120_000);

  it('binds a FERRY_CONFIG the edge relay accepts, with every secret as an environment reference, and cron triggers', () => {
    const toml = readFileSync(TOML, 'utf8');
    expect(toml).toMatch(/^\[triggers\]\ncrons = \["[^"]+"\]$/m);
    const text = /^FERRY_CONFIG = '''\n([\s\S]*?)'''$/m.exec(toml)?.[1];
    expect(text).toBeDefined();
    const secrets = [
      'PUSH_TOKEN',
      'PUSH_SIGNING_SECRET',
      'ADMIN_TOKEN',
      'UPSTASH_TOKEN',
      'DLQ_PASSWORD',
      'SINK_TOKEN',
    ];
    for (const name of secrets) {
      expect(text).toContain(`\${${name}}`);
      expect(toml).toMatch(new RegExp(`^#\\s+${name}\\s+\\S`, 'm')); // documented in the header
    }
    const env = Object.fromEntries(
      secrets.map((n) => [
        n,
        n === 'PUSH_SIGNING_SECRET'
          ? `whsec_${btoa('edge-push-signing-key-0123456789')}`
          : `${n.toLowerCase()}-value-0123456789`,
      ]),
    );
    const parsed = parseConfig(text as string, env);
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    expect(edgeConfigProblems(parsed.config)).toEqual([]);
    expect(parsed.config.dlq.to).toBe('http-proxy');
    // Without the secrets it is refused, naming each missing variable.
    const missing = parseConfig(text as string, {});
    expect(missing.ok).toBe(false);
    if (!missing.ok) for (const name of secrets) expect(missing.errors.join('\n')).toContain(name);

    // The same check from the command line: valid for the edge with the secrets set; the long-lived
    // example config is refused for the edge, one line per setting, exit 2.
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-edge-config-')), 'relay.edge.yaml');
    writeFileSync(file, text as string);
    const cli = (path: string) =>
      spawnSync(process.execPath, ['cli/main.ts', 'relay', 'check-config', '--edge', path], {
        cwd: ROOT,
        env: {
          ...process.env,
          ...env,
          FERRY_ADMIN_TOKEN: 'admin-token-0123456789',
          ORDERS_API_TOKEN: 't',
          SHIPMENTS_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        },
        encoding: 'utf8',
      });
    const ok = cli(file);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('is valid for the edge relay');
    const refused = cli(join(ROOT, 'deploy/relay.example.yaml'));
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('dlq.to: kafka needs a Kafka client');
  });
});
