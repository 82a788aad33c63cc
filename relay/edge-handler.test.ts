// The edge handler in process (the same code the Worker and Deno Deploy entries run): config from a
// text binding with `${VAR}` from the other bindings, a relay per request, what survives between
// requests (metrics, paused sinks), and a config that cannot work answered 500 without any value.
import { describe, expect, it } from 'vitest';
import { createEdgeHandler } from './edge-handler.ts';

const ADMIN = 'edge-admin-token-0123456789';
const config = (extra = '') => `
source: push
push: { token: "\${PUSH}", unsigned: true }
adminToken: "\${ADMIN}"
dlq: { to: url, url: "http://127.0.0.1:1/dead" }
${extra}
routes:
  - topics: orders
    sinks:
      - id: api
        url: http://127.0.0.1:1/orders
        dedupe: { store: memory }
`;
const bindings = (text: string) => ({
  FERRY_CONFIG: text,
  PUSH: 'edge-push-token-0123456789',
  ADMIN,
  NOT_TEXT: 42,
});
const admin = (path: string, method = 'GET', body?: string) =>
  new Request(`http://edge${path}`, { method, headers: { authorization: `Bearer ${ADMIN}` }, body });

describe('edge handler', () => {
  it('serves the app from a config binding whose references read the other bindings', async () => {
    const lines: string[] = [];
    const h = createEdgeHandler({ write: (l) => lines.push(l) });
    const b = bindings(config());
    const health = await h.fetch(new Request('http://edge/healthz'), b);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { instanceId: string }).instanceId).toMatch(/^edge-[0-9a-f]{8}-1$/);
    const replay = await h.fetch(admin('/v1/dlq/replay', 'POST', '{"sink":"api"}'), b);
    expect(replay.status).toBe(501);
    expect(((await replay.json()) as { error: string }).error).toMatch(/not available on the edge relay/);
    expect((await h.fetch(new Request('http://edge/v1/sinks'), b)).status).toBe(401);
    // Each request ran its own relay and closed it.
    expect(lines.filter((l) => l.includes('"relay stopped"'))).toHaveLength(3);
  });

  it('keeps a sink paused through the admin API across requests, until resumed', async () => {
    const h = createEdgeHandler({ write: () => {} });
    const b = bindings(config());
    expect((await h.fetch(admin('/v1/sinks/api/pause', 'POST'), b)).status).toBe(200);
    const sinks = async () =>
      (
        (await (await h.fetch(admin('/v1/sinks'), b)).json()) as {
          sinks: Array<{ id: string; mode: string }>;
        }
      ).sinks;
    expect((await sinks()).find((s) => s.id === 'api')?.mode).toBe('paused');
    expect((await h.fetch(admin('/v1/sinks/api/resume', 'POST'), b)).status).toBe(200);
    expect((await sinks()).find((s) => s.id === 'api')?.mode).toBe('running');
  });

  it('answers 500 with the problems, never a value, when the config cannot work on the edge', async () => {
    const lines: string[] = [];
    const h = createEdgeHandler({ write: (l) => lines.push(l) });
    const res = await h.fetch(new Request('http://edge/healthz'), {
      ...bindings(config().replace('dlq: { to: url, url: "http://127.0.0.1:1/dead" }', '')),
      PUSH: 'short',
    });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { problems: string[] };
    expect(body.problems).toEqual(['push.token: must be at least 16 characters']);
    expect(JSON.stringify(body)).not.toContain('short');
    expect(lines.join()).not.toContain('short');
    const none = await createEdgeHandler({ write: () => {} }).fetch(new Request('http://edge/healthz'), {});
    expect(((await none.json()) as { problems: string[] }).problems[0]).toMatch(/^FERRY_CONFIG: not set/);
  });

  it('runs one bounded HTTP Proxy drain per cron event with source http-proxy, and reports its failure', async () => {
    const lines: string[] = [];
    const h = createEdgeHandler({ write: (l) => lines.push(l) });
    const pull = `
source: http-proxy
httpProxy: { url: "http://127.0.0.1:1", drain: { budget: 2s }, requestTimeout: 500ms }
dlq: { to: url, url: "http://127.0.0.1:1/dead" }
routes:
  - topics: orders
    sinks:
      - id: api
        url: http://127.0.0.1:1/orders
        dedupe: { store: memory }
`;
    await h.drain({ FERRY_CONFIG: pull, FERRY_INSTANCE_ID: 'slot-a' });
    const failed = lines.find((l) => l.includes('"drain failed"'));
    expect(failed).toBeDefined();
    expect(JSON.parse(failed as string)).toMatchObject({ outcome: 'failed', handed: 0 });
    // No push route on a pulling relay.
    expect((await h.fetch(new Request('http://edge/push/batches', { method: 'POST' }), {})).status).toBe(404);
  });

  it('logs that no pull source is configured on a scheduled drain', async () => {
    const lines: string[] = [];
    const h = createEdgeHandler({ write: (l) => lines.push(l) });
    await h.drain(bindings(config()));
    expect(lines.some((l) => l.includes('no pull source configured'))).toBe(true);
  });
});
