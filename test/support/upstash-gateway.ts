// A real HTTP server speaking Upstash's Redis REST protocol (docs/upstash.md) in front of a real Redis:
// POST / (one command), /pipeline, /multi-exec, bearer auth, `Upstash-Encoding: base64` results,
// and an `upstash-sync-token` that advances on every write. For tests it records every request and
// can drop replies (the command runs, the connection dies before the answer) or fail requests, which
// is how the retried-SET-NX caveat is reproduced.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';

export interface GatewayRequest {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  readonly outcome: 'answered' | 'dropped' | 'failed' | 'unauthorized';
}

export interface UpstashGateway {
  readonly url: string;
  readonly token: string;
  readonly requests: GatewayRequest[];
  /** Run the next `n` matching requests against Redis, then destroy the connection without answering. */
  dropReplies(n: number, match?: (path: string, body: unknown) => boolean): void;
  /** Answer the next `n` requests with this status and an Upstash-style error body, without running them. */
  failRequests(n: number, status: number): void;
  close(): Promise<void>;
}

type Cmd = Array<string | number | boolean>;
type Reply = string | number | null | Reply[] | Buffer;

function encode(value: unknown, base64: boolean): unknown {
  if (Buffer.isBuffer(value)) {
    const text = value.toString('utf8');
    if (!base64 || text === 'OK') return text;
    return value.toString('base64');
  }
  if (typeof value === 'string')
    return base64 && value !== 'OK' ? Buffer.from(value).toString('base64') : value;
  if (Array.isArray(value)) return value.map((v) => encode(v, base64));
  return value ?? null;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString() || 'null'));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

const isCmd = (c: unknown): c is Cmd => Array.isArray(c) && c.length > 0 && typeof c[0] === 'string';

export async function startUpstashGateway({
  redisUrl,
  token = 'test-token',
}: {
  redisUrl: string;
  token?: string;
}): Promise<UpstashGateway> {
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  const requests: GatewayRequest[] = [];
  let drop = 0;
  let dropMatch: (path: string, body: unknown) => boolean = () => true;
  let fail = 0;
  let failStatus = 500;
  let syncToken = 0;

  const run = async (cmd: Cmd): Promise<Reply> => {
    const [name, ...args] = cmd;
    return (await redis.callBuffer(String(name), ...args.map((a) => String(a)))) as Reply;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const body = await readJson(req);
    const record = (outcome: GatewayRequest['outcome']) =>
      requests.push({ path, headers: req.headers, body, outcome });
    const reply = (status: number, payload: unknown) => {
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': 'application/json',
        'upstash-sync-token': String(syncToken),
      });
      res.end(text);
    };
    if (req.method !== 'POST') return reply(405, { error: 'ERR method not allowed' });
    if (req.headers.authorization !== `Bearer ${token}`) {
      record('unauthorized');
      return reply(401, { error: 'Unauthorized' });
    }
    if (fail > 0) {
      fail -= 1;
      record('failed');
      return reply(failStatus, { error: 'ERR injected failure' });
    }
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    let answer: { status: number; payload: unknown };
    if (path === '/' || path === '') {
      if (!isCmd(body)) answer = { status: 400, payload: { error: 'ERR malformed command' } };
      else {
        try {
          answer = { status: 200, payload: { result: encode(await run(body), base64) } };
        } catch (err) {
          answer = { status: 400, payload: { error: (err as Error).message } };
        }
      }
    } else if (path === '/pipeline' || path === '/multi-exec') {
      if (!Array.isArray(body) || !body.every(isCmd)) {
        answer = { status: 400, payload: { error: 'ERR malformed pipeline' } };
      } else if (path === '/pipeline') {
        const settled = await Promise.allSettled(body.map(run));
        answer = {
          status: 200,
          payload: settled.map((s) =>
            s.status === 'fulfilled'
              ? { result: encode(s.value, base64) }
              : { error: (s.reason as Error).message },
          ),
        };
      } else {
        const multi = redis.multi();
        for (const [name, ...args] of body) multi.callBuffer(String(name), ...args.map((a) => String(a)));
        const results = (await multi.exec()) ?? [];
        answer = {
          status: 200,
          payload: results.map(([err, r]) => (err ? { error: err.message } : { result: encode(r, base64) })),
        };
      }
    } else {
      answer = { status: 404, payload: { error: 'ERR unknown endpoint' } };
    }
    syncToken += 1;
    if (drop > 0 && dropMatch(path, body)) {
      drop -= 1;
      record('dropped');
      req.socket.destroy();
      return;
    }
    record('answered');
    reply(answer.status, answer.payload);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    dropReplies(n, match = () => true) {
      drop = n;
      dropMatch = match;
    },
    failRequests(n, status) {
      fail = n;
      failStatus = status;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      redis.disconnect();
    },
  };
}
