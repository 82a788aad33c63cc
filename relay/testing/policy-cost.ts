// Per-call cost of a sink's composed policy, same process, interleaved rounds: `signal` = the task
// reads its signal and hangs an abort listener on it for the call (as a sender given a per-call signal
// does); `no signal` = a sender that ends its requests by itself (HttpSender.endsRequests).
// Not a test; prints CPU µs per call (GC included). Usage: node relay/testing/policy-cost.ts [calls] [rounds] [root]
// `root` (another checkout) runs its policy too, for a before/after in one process.
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from './config.ts';

const n = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 5);
const roots: Record<string, string> = { now: '../core/policy.ts' };
if (process.argv[4]) roots.base = `${process.argv[4]}/relay/core/policy.ts`;

const sink = testConfig({
  routes: [
    {
      topics: 't',
      sinks: [
        testSink('api', {
          timeout: '5s',
          bulkhead: { maxInFlight: 128 },
          dedupe: { store: 'memory', lease: '30s' },
        }),
      ],
    },
  ],
}).relay.routes[0]?.sinks[0];
if (!sink) throw new Error('no sink');
const stop = new AbortController();
const onAbort = () => {};
type Exec = (
  fn: (c: { readonly signal: AbortSignal }) => Promise<number>,
  s?: AbortSignal,
) => Promise<number>;
const cases: Array<[string, Exec, boolean]> = [];
for (const [name, path] of Object.entries(roots)) {
  const { createSinkPolicy } = (await import(path)) as typeof import('../core/policy.ts');
  const { policy } = createSinkPolicy(sink, createRegistry(), Math.random);
  const exec: Exec = (fn, s) => policy.execute(fn, s);
  cases.push([`${name} signal`, exec, true], [`${name} no signal`, exec, false]);
}
async function cost(exec: Exec, readSignal: boolean): Promise<number> {
  const t = process.cpuUsage();
  // 128 calls in flight at a time, as the benchmark's sink.
  for (let i = 0; i < n; i += 128) {
    const batch: Array<Promise<number>> = [];
    for (let k = 0; k < 128; k++)
      batch.push(
        exec(async (c) => {
          if (!readSignal) {
            await null;
            return 1;
          }
          const s = c.signal;
          s.addEventListener('abort', onAbort, { once: true });
          await null;
          s.removeEventListener('abort', onAbort);
          return 1;
        }, stop.signal),
      );
    await Promise.all(batch);
  }
  const d = process.cpuUsage(t);
  return (d.user + d.system) / n;
}
for (const [, exec, read] of cases) await cost(exec, read);
const out = new Map<string, number[]>();
for (let r = 0; r < rounds; r++)
  for (const [name, exec, read] of cases) out.set(name, [...(out.get(name) ?? []), await cost(exec, read)]);
for (const [name, us] of out)
  console.log(`${name.padEnd(16)} ${us.map((u) => u.toFixed(2)).join(' ')} µs CPU/call`);
