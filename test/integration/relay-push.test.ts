// The HTTP push source wired by config (`source: push`), as an edge deployment feeds the relay: batches
// POSTed to /push/batches are delivered through the real Redis dedupe and the Kafka DLQ writer, and each
// answer comes once every record of the batch is terminal.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebhookSigner } from '../../relay/core/webhook-signing.ts';
import { endOffsets, readTopic } from '../support/kafka.ts';
import { type MockApi, startMockApi } from '../support/mock-api/index.ts';
import { spawnRelay, writeRelayConfig } from '../support/relay-process.ts';
import { relayDocument, startTestRelay } from '../support/relay-run.ts';

const PUSH_TOKEN = 'push-token-for-the-test-0123';

describe('relay fed by the HTTP push source', () => {
  let api: MockApi | undefined;
  afterAll(async () => {
    await api?.stop();
  });

  it('delivers pushed batches, dead-letters a malformed record, and acknowledges a re-push without re-delivery', async () => {
    const run = randomUUID().slice(0, 8);
    const topic = `push.${run}`;
    api = await startMockApi({ endpoints: ['edge'] });
    const dlqStart = await endOffsets('dlq.relay').catch(() => new Map<number, bigint>());
    const relay = await startTestRelay(
      relayDocument({
        groupId: `g-${run}`,
        routes: [
          {
            topics: topic,
            sinks: [{ id: `edge-${run}`, url: `${api.url}/edge/{key}`, dedupe: { store: 'redis' } }],
          },
        ],
        extra: { source: 'push', push: { token: PUSH_TOKEN, unsigned: true } },
      }),
      `push-${run}`,
    );
    const push = (records: unknown[]) =>
      relay.runtime.app.request('/push/batches', {
        method: 'POST',
        headers: { authorization: `Bearer ${PUSH_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
      });
    try {
      const batch: Array<Record<string, unknown>> = Array.from({ length: 50 }, (_, i) => ({
        topic,
        partition: i % 2,
        offset: Math.floor(i / 2),
        key: `k${i % 5}`,
        value: { key: `k${i % 5}`, seq: Math.floor(i / 5), run },
        headers: { 'ferry-event-id': `${run}-${i}` },
      }));
      const { value: _dropped, ...seventh } = batch[7] as Record<string, unknown>;
      batch[7] = { ...seventh, valueText: '{"broken":' };
      const res = await push(batch);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'committed', accepted: 50, alreadyDone: 0 });
      expect(api.report('edge').applied).toBe(49);

      const again = await push(batch);
      expect(await again.json()).toMatchObject({ status: 'committed', alreadyDone: 50 });
      expect(api.report('edge').received).toBe(49);

      const dead = (
        await readTopic('dlq.relay', {
          from: dlqStart,
          until: (rs) => rs.some((r) => r.headers.get('ferry-error-source-topic') === topic),
        })
      ).filter((r) => r.headers.get('ferry-error-source-topic') === topic);
      expect(dead).toHaveLength(1);
      expect(dead[0]?.headers.get('ferry-error-code')).toBe('FERRY_RECORD_UNPARSEABLE');
      expect(dead[0]?.headers.get('ferry-event-id')).toBe(`${run}-7`);
      expect((await relay.runtime.app.request('/readyz')).status).toBe(200);
    } finally {
      await relay.stop();
    }
  });
});

/**
 * Streams a valid push batch of about `totalBytes` (records of ~1 KB each, written ~1 MB at a time with
 * backpressure) to `url`, stopping at the first answer or socket error. Resolves with the status (if an
 * answer came) and the bytes written by then.
 */
function streamPush(url: string, token: string, topic: string, totalBytes: number) {
  const filler = 'x'.repeat(1000);
  let offset = 0;
  const nextChunk = (first: boolean, last: boolean): Buffer => {
    const parts: string[] = first ? ['{"records":['] : [];
    for (let i = 0; i < 1000; i++) {
      const sep = first && i === 0 ? '' : ',';
      parts.push(`${sep}{"topic":"${topic}","partition":0,"offset":${offset++},"valueText":"${filler}"}`);
    }
    if (last) parts.push(']}');
    return Buffer.from(parts.join(''));
  };
  return new Promise<{ status: number | undefined; written: number; error: string | undefined }>(
    (resolve) => {
      let written = 0;
      let done = false;
      const req = request(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      const finish = (status: number | undefined, error: string | undefined) => {
        if (done) return;
        done = true;
        req.destroy();
        resolve({ status, written, error });
      };
      req.on('response', (res) => {
        res.resume();
        finish(res.statusCode, undefined);
      });
      req.on('error', (e) => finish(undefined, e.message));
      // One chunk per turn of the event loop, so an answer is seen as soon as it comes, even from a
      // server that drains the rest of a refused body (Bun) instead of pushing back.
      const write = () => {
        if (done) return;
        if (written >= totalBytes) {
          req.end();
          return;
        }
        const chunk = nextChunk(written === 0, written + 2_000_000 > totalBytes);
        written += chunk.length;
        if (req.write(chunk)) setImmediate(write);
        else req.once('drain', write);
      };
      write();
    },
  );
}

/** The process's peak resident set (VmHWM), from /proc. */
function peakRssBytes(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmHWM for pid ${pid}`);
  return kb * 1024;
}

describe.each(['node', 'deno', 'bun'] as const)(
  'relay process on %s fed by the HTTP push source, under hostile pushes',
  (runtime) => {
    let api: MockApi | undefined;
    afterAll(async () => {
      await api?.stop();
    });

    it('survives a 300 MB streamed push (413, cut early) and a bad-token flood, and keeps delivering', async () => {
      const run = randomUUID().slice(0, 8);
      const topic = `push-big.${run}`;
      await api?.stop();
      api = await startMockApi({ endpoints: ['big'] });
      const relay = await spawnRelay({
        runtime,
        startTimeoutMs: 90_000,
        configPath: writeRelayConfig(
          relayDocument({
            groupId: `g-${run}`,
            routes: [
              { topics: topic, sinks: [{ id: `big-${run}`, url: `${api.url}/big/{key}`, dedupe: false }] },
            ],
            extra: {
              listen: { port: 0, host: '127.0.0.1' },
              source: 'push',
              push: { token: PUSH_TOKEN, unsigned: true, maxBodyBytes: 1024 * 1024 },
            },
          }),
        ),
      });
      const base = `http://127.0.0.1:${relay.port}`;
      try {
        const big = await streamPush(`${base}/push/batches`, PUSH_TOKEN, topic, 300 * 1024 * 1024);
        // Refused while streaming, never buffered: the relay's peak RSS stayed far below the body.
        expect(big.status ?? big.error, relay.stderr().slice(-400)).toBe(413);
        expect(peakRssBytes(relay.child.pid)).toBeLessThan(280 * 1024 * 1024);
        // Node and Deno stop reading at the limit, so the answer comes long before 300 MB were
        // written; Bun reads a refused body to its end (discarding it), so only its memory is judged.
        if (runtime !== 'bun') expect(big.written).toBeLessThan(100 * 1024 * 1024);
        expect(relay.child.exitCode).toBeNull();
        expect((await fetch(`${base}/healthz`)).status).toBe(200);

        // A flood of wrong tokens from this address is throttled; the right token still gets through.
        const flood: number[] = [];
        for (let i = 0; i < 10; i++) {
          const res = await fetch(`${base}/push/batches`, {
            method: 'POST',
            headers: { authorization: `Bearer guess-${i}-0123456789` },
            body: '{}',
          });
          flood.push(res.status);
        }
        expect(flood).toContain(429);

        const res = await fetch(`${base}/push/batches`, {
          method: 'POST',
          headers: { authorization: `Bearer ${PUSH_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            records: Array.from({ length: 20 }, (_, i) => ({
              topic,
              partition: 0,
              offset: i,
              key: `k${i % 4}`,
              value: { key: `k${i % 4}`, seq: Math.floor(i / 4), run },
            })),
          }),
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ status: 'committed', accepted: 20 });
        expect(api.report('big').applied).toBe(20);
        const wrongMethod = await fetch(`${base}/push/batches`, {
          headers: { authorization: `Bearer ${PUSH_TOKEN}` },
        });
        expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'POST']);
        expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
        expect(await relay.stop()).toBe(0);
      } finally {
        await relay.kill9();
      }
    });
  },
);

/** One POST from a chosen loopback source address (127.0.0.x all reach a relay on 127.0.0.1). */
function postFrom(url: string, token: string, localAddress: string) {
  return new Promise<number | undefined>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      localAddress,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe.each(['node', 'deno', 'bun'] as const)(
  'failed tokens limited per client address on %s',
  (runtime) => {
    it('throttles the flooding address while another address is still answered 401, and the token 400', async () => {
      const run = randomUUID().slice(0, 8);
      const relay = await spawnRelay({
        runtime,
        startTimeoutMs: 90_000,
        configPath: writeRelayConfig(
          relayDocument({
            groupId: `g-${run}`,
            routes: [{ topics: `push-addr.${run}`, sinks: [{ id: 'nowhere', url: 'http://127.0.0.1:9/x' }] }],
            extra: {
              listen: { port: 0, host: '127.0.0.1' },
              source: 'push',
              push: { token: PUSH_TOKEN, unsigned: true },
            },
          }),
        ),
      });
      const url = `http://127.0.0.1:${relay.port}/push/batches`;
      try {
        const flood: Array<number | undefined> = [];
        for (let i = 0; i < 8; i++) flood.push(await postFrom(url, `guess-${i}-0123456789`, '127.0.0.2'));
        expect(flood.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
        expect(flood.at(-1)).toBe(429);
        // The runtime told the app who is calling: a different address has its own budget.
        expect(await postFrom(url, 'guess-other-0123456789', '127.0.0.3')).toBe(401);
        // And the right token passes the guard from the flooding address itself (400: `{}` is no batch).
        expect(await postFrom(url, PUSH_TOKEN, '127.0.0.2')).toBe(400);
        expect(await relay.stop()).toBe(0);
      } finally {
        await relay.kill9();
      }
    });
  },
);

describe.each(['node', 'deno', 'bun'] as const)('signed pushes on %s', (runtime) => {
  let api: MockApi | undefined;
  afterAll(async () => {
    await api?.stop();
  });

  it('takes a batch signed with either rotating secret, refuses a changed body or an old timestamp (401)', async () => {
    const run = randomUUID().slice(0, 8);
    const topic = `push-signed.${run}`;
    api = await startMockApi({ endpoints: ['signed'] });
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const next = `whsec_${randomBytes(32).toString('base64')}`;
    const relay = await spawnRelay({
      runtime,
      startTimeoutMs: 90_000,
      env: { FERRY_PUSH_SIGNING_SECRET: `${secret} ${next}` },
      configPath: writeRelayConfig(
        relayDocument({
          groupId: `g-${run}`,
          routes: [
            {
              topics: topic,
              sinks: [{ id: `signed-${run}`, url: `${api.url}/signed/{key}`, dedupe: false }],
            },
          ],
          extra: {
            listen: { port: 0, host: '127.0.0.1' },
            source: 'push',
            push: { token: PUSH_TOKEN, signingSecret: `\${FERRY_PUSH_SIGNING_SECRET}` },
          },
        }),
      ),
    });
    const url = `http://127.0.0.1:${relay.port}/push/batches`;
    const post = async (body: string, signer: string, at = Date.now(), sent = body) =>
      fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${PUSH_TOKEN}`,
          'content-type': 'application/json',
          ...(await createWebhookSigner(signer).sign(`b-${at}`, Math.floor(at / 1000), body)),
        },
        body: sent,
      });
    const batch = (offset: number) =>
      JSON.stringify({
        records: [{ topic, partition: 0, offset, key: 'k', value: { key: 'k', seq: offset, run } }],
      });
    try {
      const tampered = await post(batch(0), secret, Date.now(), batch(0).replace(run, 'other'));
      expect([tampered.status, ((await tampered.json()) as { code: string }).code]).toEqual([
        401,
        'FERRY_SIGNATURE_INVALID',
      ]);
      const stale = await post(batch(0), secret, Date.now() - 600_000);
      expect([stale.status, ((await stale.json()) as { code: string }).code]).toEqual([
        401,
        'FERRY_SIGNATURE_TIMESTAMP',
      ]);
      expect(api.report('signed').received).toBe(0);
      expect((await post(batch(0), secret)).status).toBe(200);
      expect((await post(batch(1), next)).status).toBe(200);
      expect(api.report('signed').applied).toBe(2);
      expect(await relay.stop()).toBe(0);
    } finally {
      await relay.kill9();
    }
  });
});
