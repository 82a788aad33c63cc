// One delivery contract, run against the relay on every runtime it ships for: Node, Deno and Bun (the
// long-lived entry points, as child processes), workerd (the bundled edge Worker) and the Deno Deploy
// entry under the Deno CLI (--allow-net --allow-env only). The same config
// (push source, Upstash-protocol dedupe over the real Redis, dead letters to a DLQ URL) and the same
// batches: a filtered record, a malformed one (dead-lettered), a duplicated event id (deduplicated),
// a re-push of a committed batch, a batch with offsets out of order, a wrong token. The push answers,
// the mock API's applications and the DLQ must be the same everywhere, so a runtime difference fails.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../relay/core/dlq-envelope.ts';
import { pushBatch } from '../support/edge-push.ts';
import { startEdgeWorker } from '../support/edge-worker.ts';
import { type MockApi, startMockApi } from '../support/mock-api/index.ts';
import { freePort } from '../support/ports.ts';
import { metricTotal, spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { REDIS_URL } from '../support/stack-env.ts';
import { startUpstashGateway, type UpstashGateway } from '../support/upstash-gateway.ts';
import { waitUntil } from '../support/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SECRETS = {
  PUSH_TOKEN: 'contract-push-token-0123456789',
  ADMIN_TOKEN: 'contract-admin-token-0123456789',
  UPSTASH_TOKEN: 'contract-upstash-token-0123',
  DLQ_TOKEN: 'contract-dlq-token-0123456789',
  // Standard Webhooks secret: every runtime verifies the signature of each push.
  PUSH_SIGNING_SECRET: `whsec_${btoa('contract-push-signing-key-0123456789')}`,
};
const ref = (name: keyof typeof SECRETS) => `\${${name}}`;

interface Target {
  readonly url: string;
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

let api: MockApi;
let gateway: UpstashGateway;
beforeAll(async () => {
  api = await startMockApi({ endpoints: [] });
  gateway = await startUpstashGateway({ redisUrl: REDIS_URL, token: SECRETS.UPSTASH_TOKEN });
});
afterAll(async () => {
  await api?.stop();
  await gateway?.close();
});

function contractConfig(run: string, topic: string) {
  return {
    listen: { port: 0, host: '127.0.0.1' },
    source: 'push',
    push: { token: ref('PUSH_TOKEN'), signingSecret: ref('PUSH_SIGNING_SECRET'), timeout: '20s' },
    adminToken: ref('ADMIN_TOKEN'),
    upstash: { url: gateway.url, token: ref('UPSTASH_TOKEN') },
    dlq: { to: 'url', url: `${api.url}/dlq-${run}`, bearer: ref('DLQ_TOKEN') },
    commitInterval: '50ms',
    routes: [
      {
        topics: topic,
        sinks: [
          {
            id: `contract-${run}`,
            url: `${api.url}/contract-${run}`,
            timeout: '5s',
            filter: [{ field: 'kind', ne: 'skip' }],
            dedupe: { store: 'upstash', lease: '10s' },
          },
        ],
      },
    ],
  };
}

async function start(runtime: string, config: Record<string, unknown>): Promise<Target> {
  if (runtime === 'deno-deploy') {
    // The Deno Deploy entry under the Deno CLI, with only network and environment permissions.
    const port = await freePort();
    const child = spawn(
      join(ROOT, 'node_modules/.bin/deno'),
      ['run', '--quiet', '--unstable-cron', '--allow-net', '--allow-env', 'relay/entry/deno-deploy.ts'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          FERRY_CONFIG: JSON.stringify(config),
          PORT: String(port),
          HOST: '127.0.0.1',
          FERRY_LOG: 'quiet',
          ...SECRETS,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: 'deno-deploy entry answering /healthz',
    }).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw new Error(`${String(e)}\n${out.slice(-2000)}`);
    });
    return {
      url,
      metric: (name) => metricTotal(port, name),
      stop: async () => {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      },
    };
  }
  if (runtime === 'workerd') {
    const w = await startEdgeWorker({
      bindings: { FERRY_CONFIG: JSON.stringify(config), FERRY_LOG: 'quiet', ...SECRETS },
    });
    return {
      url: w.url,
      metric: (name) => metricTotal(w.port, name),
      stop: () => w.kill9(),
    };
  }
  const relay = await spawnRelay({
    configPath: writeRelayConfig(config),
    runtime: runtime as 'node' | 'deno' | 'bun',
    env: SECRETS,
  });
  return {
    url: `http://127.0.0.1:${relay.port}`,
    metric: (name) => metricTotal(relay.port, name),
    stop: async () => {
      await relay.stop();
    },
  };
}

describe.each(['node', 'deno', 'bun', 'workerd', 'deno-deploy'])('delivery contract on %s', (runtime) => {
  it('answers pushes, applies, filters, deduplicates and dead-letters the same way', async () => {
    const run = `${runtime}-${randomUUID().slice(0, 8)}`;
    const topic = `contract.${run}`;
    const target = await start(runtime, contractConfig(run, topic));
    try {
      const record = (
        offset: number,
        fields: Record<string, unknown> = {},
        eventId = `${run}-${offset}`,
      ) => ({
        topic,
        partition: 0,
        offset,
        key: `k${offset % 4}`,
        value: { key: `k${offset % 4}`, seq: offset, kind: 'order', ...fields },
        headers: { 'ferry-event-id': eventId },
      });
      const first = Array.from({ length: 20 }, (_, i) => record(i));
      first[5] = record(5, { kind: 'skip' }); // filtered out
      first[7] = { ...record(7), value: undefined, valueText: '{"truncated":' } as never; // dead-lettered
      first[9] = record(9, {}, `${run}-1`); // the event id of offset 1: deduplicated
      const answer = await pushBatch(target.url, SECRETS.PUSH_TOKEN, first, SECRETS.PUSH_SIGNING_SECRET);
      expect(answer).toMatchObject({ status: 200, body: { status: 'committed', accepted: 20 } });

      // A re-push of a committed batch is acknowledged and sends nothing.
      const again = await pushBatch(target.url, SECRETS.PUSH_TOKEN, first, SECRETS.PUSH_SIGNING_SECRET);
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('committed');
      expect(Number(again.body.accepted) + Number(again.body.alreadyDone)).toBeGreaterThanOrEqual(20);

      const second = Array.from({ length: 10 }, (_, i) => record(20 + i));
      expect(
        await pushBatch(target.url, SECRETS.PUSH_TOKEN, second, SECRETS.PUSH_SIGNING_SECRET),
      ).toMatchObject({
        status: 200,
        body: { status: 'committed', accepted: 10 },
      });
      const disordered = [record(40), record(39)];
      expect(
        (await pushBatch(target.url, SECRETS.PUSH_TOKEN, disordered, SECRETS.PUSH_SIGNING_SECRET)).status,
      ).toBe(400);
      expect(
        (await pushBatch(target.url, 'not-the-push-token-0123456789', second, SECRETS.PUSH_SIGNING_SECRET))
          .status,
      ).toBe(401);

      const report = api.report(`contract-${run}`);
      const applied = new Set(api.ledger(`contract-${run}`).appliedKeys);
      const expected = [...first, ...second]
        .filter((r) => ![5, 7, 9].includes(r.offset))
        .map((r) => r.headers['ferry-event-id']);
      expect([...applied].sort()).toEqual([...expected].sort());
      expect(report.received).toBe(27);
      expect(report.duplicateApplications).toBe(0);
      expect(report.orderViolations).toBe(0);

      // One dead letter as the receiver sees it. The long-lived relays absorb the re-push by position;
      // the edge builds a relay per request, so it dead-letters the record again under the same
      // idempotency key, which the receiver applies once (the DLQ is at-least-once).
      const dead = api.ledger(`dlq-${run}`).requests;
      expect(api.report(`dlq-${run}`).applied).toBe(1);
      expect(new Set(dead.map((d) => d.idempotencyKey)).size).toBe(1);
      const letter = decodeEnvelope(JSON.parse(dead[0]?.body ?? 'null'));
      const header = (k: string) =>
        new TextDecoder().decode(letter?.headers.find((h) => h.key === k)?.value ?? undefined);
      expect(header('ferry-error-code')).toBe('FERRY_RECORD_UNPARSEABLE');
      expect(header('ferry-error-source-offset')).toBe('7');
      expect(header('ferry-event-id')).toBe(`${run}-7`);

      expect(await target.metric('ferry_records_delivered_total')).toBe(27);
      // Filtered and dead-lettered once per time the batch was processed (edge: per push).
      const edge = runtime === 'workerd' || runtime === 'deno-deploy';
      const times = edge ? 2 : 1;
      expect(await target.metric('ferry_records_filtered_total')).toBe(times);
      expect(await target.metric('ferry_records_deadlettered_total')).toBe(times);
      expect(await target.metric('ferry_records_deduplicated_total')).toBe(edge ? 19 : 1);
    } finally {
      await target.stop();
    }
  });
});
