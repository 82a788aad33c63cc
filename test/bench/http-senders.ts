// Loopback comparison of the two HttpSenders: 1 KB POSTs over keep-alive to the mock API running in
// its own process, fixed concurrency, for a few seconds each. Prints requests/s; no assertions.
// Run: node test/bench/http-senders.ts [seconds=5] [concurrency=64]

import { createFetchSender } from '../../relay/adapters/http-fetch.ts';
import { createUndiciSender } from '../../relay/adapters/http-undici.ts';
import type { HttpSender } from '../../relay/core/contracts.ts';
import { spawnMockApi } from '../support/mock-api/process.ts';

const seconds = Number(process.argv[2] ?? 5);
const concurrency = Number(process.argv[3] ?? 64);
const body = new TextEncoder().encode(JSON.stringify({ key: 'k', pad: 'x'.repeat(1000) }));

async function run(name: string, sender: HttpSender, url: string): Promise<void> {
  let done = 0;
  let failed = 0;
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const r = await sender.send({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${name}-${n++}` },
        body,
        timeoutMs: 5000,
      });
      if (r.kind === 'response' && r.status === 200) done++;
      else failed++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${name.padEnd(7)} ${Math.round(done / s)} req/s  (${done} ok, ${failed} failed, ${concurrency} concurrent)`,
  );
  await sender.close();
}

const api = await spawnMockApi(['--no-record-bodies']);
try {
  console.log(
    `node ${process.version}, 1 KB POST, keep-alive, mock API in a separate process, ${seconds}s each`,
  );
  await run('undici', createUndiciSender({ connections: concurrency }), `${api.url}/bench`);
  await run('fetch', createFetchSender(), `${api.url}/bench`);
} finally {
  await api.stop();
}
