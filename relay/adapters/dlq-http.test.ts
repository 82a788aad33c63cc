// The HTTP DLQ writer against a real HTTP server that answers as Redpanda's HTTP Proxy produce API or
// a DLQ sink would: what it sends (path, content type, auth, the envelope), and how it reads answers
// (an offset = written; too large = a pointer without the value; 401 = permanent; 503, a refused
// connection = retryable).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { base64ToBytes } from '../core/base64.ts';
import type { DeadLetterReason, SourceRecord } from '../core/contracts.ts';
import { decodeEnvelope } from '../core/dlq-envelope.ts';
import { isDlqWriteError } from '../core/dlq-write.ts';
import { createHttpDlqWriter } from './dlq-http.ts';

interface Seen {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}
type Answer = { status: number; body?: unknown };

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r));
  server = undefined;
});

async function serve(answers: Answer[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      const a = answers.shift() ?? { status: 200, body: { offsets: [{ partition: 0, offset: 1 }] } };
      res.writeHead(a.status, { 'content-type': 'application/vnd.kafka.v2+json' });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    });
  });
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen };
}

const enc = new TextEncoder();
const record: SourceRecord = {
  topic: 'clean.shipments',
  partition: 2,
  offset: 41n,
  key: enc.encode('k1'),
  value: enc.encode('{"id":1}'),
  headers: [
    { key: 'ferry-event-id', value: enc.encode('e-41') },
    { key: 'bin', value: new Uint8Array([0xff, 0x00]) },
  ],
  timestamp: 1_700_000_000_000,
};
const reason: DeadLetterReason = {
  stage: 'deliver',
  code: 'FERRY_SINK_REJECTED',
  message: 'HTTP 422',
  sink: 'orders',
  attempts: 1,
  firstFailureAt: 1_700_000_000_000,
  lastFailureAt: 1_700_000_001_000,
};
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : undefined);

describe('HTTP DLQ writer, Redpanda HTTP Proxy', () => {
  it('produces the envelope as a binary record to /topics/<topic>, with HTTP Basic auth', async () => {
    const { url, seen } = await serve([]);
    const dlq = createHttpDlqWriter({
      to: 'http-proxy',
      url,
      topic: 'dlq.relay',
      username: 'u',
      password: 'p',
    });
    expect(await dlq.write(record, reason)).toBe('full');
    expect(seen[0]?.url).toBe('/topics/dlq.relay');
    expect(seen[0]?.headers['content-type']).toBe('application/vnd.kafka.binary.v2+json');
    expect(seen[0]?.headers.authorization).toBe(`Basic ${btoa('u:p')}`);
    const body = JSON.parse(seen[0]?.body ?? '') as { records: Array<{ key: string; value: string }> };
    expect(body.records).toHaveLength(1);
    expect(text(base64ToBytes(body.records[0]?.key ?? ''))).toBe('k1');
    const letter = decodeEnvelope(JSON.parse(text(base64ToBytes(body.records[0]?.value ?? '')) ?? ''));
    expect(text(letter?.value)).toBe('{"id":1}');
    const h = (k: string) => letter?.headers.find((x) => x.key === k)?.value;
    expect(text(h('ferry-event-id'))).toBe('e-41');
    expect([...(h('bin') ?? [])]).toEqual([0xff, 0x00]);
    expect(text(h('ferry-error-code'))).toBe('FERRY_SINK_REJECTED');
    expect(text(h('ferry-error-source-offset'))).toBe('41');
    expect(text(h('ferry-error-source-partition'))).toBe('2');
  });

  it('writes a pointer without the value when the broker says too large (error_code 10)', async () => {
    const { url, seen } = await serve([
      { status: 200, body: { offsets: [{ partition: -1, offset: -1, error_code: 10 }] } },
    ]);
    const dlq = createHttpDlqWriter({ to: 'http-proxy', url, topic: 'dlq.relay' });
    expect(await dlq.write(record, reason)).toBe('pointer');
    expect(seen).toHaveLength(2);
    const body = JSON.parse(seen[1]?.body ?? '') as { records: Array<{ value: string }> };
    const letter = decodeEnvelope(JSON.parse(text(base64ToBytes(body.records[0]?.value ?? '')) ?? ''));
    expect(letter?.value).toBeNull();
    const h = (k: string) => text(letter?.headers.find((x) => x.key === k)?.value);
    expect(h('ferry-error-pointer')).toBe('true');
    expect(h('ferry-error-original-size')).toBe('8');
    expect(h('ferry-error-value-sha256')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports 401 as permanent, 503 and a refused connection as retryable', async () => {
    const { url } = await serve([{ status: 401 }, { status: 503 }]);
    const dlq = createHttpDlqWriter({ to: 'http-proxy', url, topic: 'dlq.relay' });
    const denied = await dlq.write(record, reason).catch((e: unknown) => e);
    expect(isDlqWriteError(denied) && denied.permanent && denied.reason).toBe('authorization');
    const busy = await dlq.write(record, reason).catch((e: unknown) => e);
    expect(isDlqWriteError(busy) && !busy.permanent && busy.retryable).toBe(true);
    const closed = createHttpDlqWriter({ to: 'http-proxy', url: 'http://127.0.0.1:1', topic: 'dlq.relay' });
    const refused = await closed.write(record, reason).catch((e: unknown) => e);
    expect(isDlqWriteError(refused) && !refused.permanent && refused.reason).toBe('network');
  });
});

describe('HTTP DLQ writer, DLQ sink URL', () => {
  it('POSTs the envelope as JSON with a bearer token and an idempotency key naming record and sink', async () => {
    const { url, seen } = await serve([{ status: 202 }]);
    const dlq = createHttpDlqWriter({ to: 'url', url: `${url}/dead`, topic: 'unused', bearer: 'tok' });
    expect(await dlq.write(record, reason)).toBe('full');
    expect(seen[0]?.url).toBe('/dead');
    expect(seen[0]?.headers.authorization).toBe('Bearer tok');
    expect(seen[0]?.headers['idempotency-key']).toBe('dlq:orders:clean.shipments:2:41');
    expect(text(decodeEnvelope(JSON.parse(seen[0]?.body ?? ''))?.key)).toBe('k1');
  });

  it('falls back to a pointer on 413 and refuses permanently when even that is too large', async () => {
    const { url } = await serve([{ status: 413 }, { status: 413 }]);
    const dlq = createHttpDlqWriter({ to: 'url', url, topic: 'unused' });
    const e = await dlq.write(record, reason).catch((x: unknown) => x);
    expect(isDlqWriteError(e) && e.permanent && e.reason).toBe('too-large');
  });
});
