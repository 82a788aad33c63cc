// The mock API on Bun.serve (used by startMockApi when running under Bun): the same core, faults and
// ledger as the node:http front, about half its CPU per request. A connection is destroyed without an
// answer (reset, down) by answering with a body stream that errors before its first byte: Bun then
// resets the connection and the client sees no status line, as with socket.destroy() on node:http.
import { bun } from '../../../relay/entry/bun-api.ts';
import { answerText, CONTROL, type MockCore } from './core.ts';
import type { MockFront } from './server.ts';

const noAnswer = () =>
  new Response(
    new ReadableStream({
      pull(controller) {
        controller.error();
      },
    }),
  );

function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  return start === -1 ? '/' : url.slice(start);
}

function headersOf(request: Request): Record<string, string> {
  const out: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

export function serveBun(core: MockCore, port: number, host: string): MockFront {
  const Bun = bun();

  function handle(request: Request, body: string): Response | Promise<Response> {
    const path = pathOf(request.url);
    const method = request.method;
    if (path.startsWith(CONTROL)) {
      try {
        const r = core.control(method, new URL(request.url), body);
        return Response.json(r.body, { status: r.status });
      } catch (err) {
        return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status: 400 });
      }
    }
    const at = Date.now();
    const { ep, decision } = core.decideFor(path, at);
    const headers = headersOf(request);
    switch (decision.kind) {
      case 'down':
        ep.ledger.record(method, path, headers, body, 'down', at);
        return noAnswer();
      case 'hang':
        ep.ledger.record(method, path, headers, body, 'hang', at);
        // Never answered; the promise settles when the client goes away (or the server stops).
        return new Promise((resolve) =>
          request.signal.addEventListener('abort', () => resolve(noAnswer()), { once: true }),
        );
      case 'reset':
        return new Promise((resolve) =>
          core.later(decision.delayMs, () => {
            ep.ledger.record(method, path, headers, body, 'reset', at);
            resolve(noAnswer());
          }),
        );
      case 'answer': {
        const answer = (): Response => {
          // The client gave up (timeout): nothing is answered or applied.
          if (request.signal.aborted) return noAnswer();
          const applied = ep.ledger.record(method, path, headers, body, decision.status, at);
          const responseHeaders: Record<string, string> = { 'content-type': 'application/json' };
          if (decision.retryAfter !== undefined) responseHeaders['retry-after'] = decision.retryAfter;
          return new Response(
            answerText(decision.status, applied, ep.faults.spec.echoHeaders === true ? headers : undefined),
            {
              status: decision.status,
              headers: responseHeaders,
            },
          );
        };
        if (decision.delayMs <= 0) return answer();
        return new Promise((resolve) => core.later(decision.delayMs, () => resolve(answer())));
      }
    }
  }

  const server = Bun.serve({
    port,
    hostname: host,
    development: false,
    idleTimeout: 0,
    fetch: (request) =>
      request.text().then(
        (body) => handle(request, body),
        () => Response.json({ error: 'mock failure' }, { status: 500 }),
      ),
  });
  return {
    port: server.port,
    stop: async () => {
      await server.stop(true);
    },
  };
}
