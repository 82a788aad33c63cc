// `ferry relay check-config` end to end: it refuses what every delivery would fail on and never prints
// a value from the config or the environment; it accepts numbers from the environment and a query
// template after a bare origin.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = '31415926535897932384';

function checkConfig(text: string, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-check-config-'));
  const file = join(dir, 'relay.yaml');
  writeFileSync(file, text);
  return spawnSync(process.execPath, ['cli/main.ts', 'relay', 'check-config', file], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('ferry relay check-config', () => {
  it('refuses broken headers and URLs without printing a secret', () => {
    const r = checkConfig(
      `
adminToken: ${SECRET}
routes:
  - topics: a
    sinks:
      - id: crlf
        url: "http://127.0.0.1:4010\\\\@other/x"
        headers: { X-Key: "\${KEY}" }
      - { id: frag, url: "http://127.0.0.1:4010/x#{id}" }
`,
      { KEY: `${SECRET}\r\nX-Injected: 1` },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('adminToken: invalid value (expected string)');
    expect(`${r.stdout}${r.stderr}`).not.toContain(SECRET.slice(0, 8));
    const fixed = checkConfig(
      `
adminToken: "\${ADMIN}"
routes:
  - topics: a
    sinks:
      - id: crlf
        url: "http://127.0.0.1:4010\\\\@other/x"
        headers: { X-Key: "\${KEY}" }
      - { id: frag, url: "http://127.0.0.1:4010/x#{id}" }
`,
      { ADMIN: SECRET, KEY: `${SECRET}\r\nX-Injected: 1` },
    );
    expect(fixed.status).toBe(2);
    expect(fixed.stderr.split('\n').slice(1, -1)).toEqual([
      '  routes[0].sinks[0].url: must not contain a backslash (URL parsers read it as "/", HTTP clients do not)',
      '  routes[0].sinks[0].headers.X-Key: must not contain control characters (CR, LF, NUL, ...)',
      '  routes[0].sinks[1].url: must not contain a fragment (#): it is not part of an HTTP request',
    ]);
    expect(`${fixed.stdout}${fixed.stderr}`).not.toContain(SECRET.slice(0, 8));
  });

  it('accepts numbers from the environment and a query template after a bare origin', () => {
    const r = checkConfig(
      `
listen: { port: "\${PORT}" }
routes:
  - topics: a
    sinks:
      - { id: q, url: "http://127.0.0.1:4010?x={id}", retry: { attempts: "\${ATTEMPTS}" } }
`,
      { PORT: '18999', ATTEMPTS: '2' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('a -> q POST http://127.0.0.1:4010?x={id}');
  });

  it('checks source http-proxy: prints the source without the credentials, refuses a literal password', () => {
    const good = checkConfig(
      `
source: http-proxy
httpProxy:
  url: https://redpanda.example.com:8082
  auth: { username: ferry, password: "\${PROXY_PASSWORD}" }
  drain: { budget: 25s, maxRecords: 2000 }
routes:
  - topics: clean.shipments
    sinks:
      - { id: api, url: "http://127.0.0.1:4010/shipments" }
`,
      { PROXY_PASSWORD: SECRET },
    );
    expect(good.status).toBe(0);
    expect(good.stdout).toContain(
      'source http-proxy https://redpanda.example.com:8082 group ferry-edge instance ferry-<instanceId>, auth basic; drain budget 25000 ms, at most 2000 records',
    );
    expect(`${good.stdout}${good.stderr}`).not.toContain(SECRET.slice(0, 8));
    const literal = checkConfig(
      `
source: http-proxy
httpProxy: { url: "http://127.0.0.1:8082", auth: { username: ferry, password: ${SECRET} } }
routes:
  - topics: a
    sinks: [{ id: api, url: "http://127.0.0.1:4010/a" }]
`,
      {},
    );
    expect(literal.status).toBe(2);
    expect(literal.stderr).toContain('httpProxy.auth.password: must come from the environment, as ${VAR}');
    expect(`${literal.stdout}${literal.stderr}`).not.toContain(SECRET.slice(0, 8));
  });
});
