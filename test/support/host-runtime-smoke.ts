// Runtime smoke of the Wasm host with real modules, runnable unchanged by Node, Deno and Bun. The caller
// (wasm/host/runtimes.test.ts, on Node) builds the modules and writes the inputs into a folder:
//   shipments.wasm (the real transform), probe.wasm (test/support/guests/probe.as), input.json (records).
// Prints one JSON line: every output of the transform (digested) and how the host handled a trap, a record
// past its CPU budget, the memory limit and a batch larger than the initial shared region.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { createTransformHost, encodePayload } from '../../wasm/host/index.ts';
import type { HostRecord, OutputRecord, TransformHost } from '../../wasm/host/types.ts';

export interface SmokeInputRecord {
  key: string | null; // base64
  value: string | null;
  headers: Array<{ key: string; value: string | null }>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const unb64 = (s: string | null) => (s === null ? null : Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

const header = (r: OutputRecord, key: string) => {
  const h = r.headers.find((x) => x.key === key);
  return h?.value ? dec.decode(h.value) : undefined;
};

/** What a test needs of one output: topic, the ferry-* headers, and a digest of the whole record. */
async function summary(r: OutputRecord) {
  return {
    topic: r.topic,
    eventId: header(r, 'ferry-event-id'),
    code: header(r, 'ferry-error-code'),
    field: header(r, 'ferry-error-field'),
    sha256: await sha256(encodePayload(r)),
  };
}

function record(r: SmokeInputRecord, offset: bigint): HostRecord {
  const headers = r.headers.map((h) => ({ key: h.key, value: unb64(h.value) }));
  return { key: unb64(r.key), value: unb64(r.value), headers, offset, timestamp: 1_795_237_152_345 };
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
    return { code: 'none' };
  } catch (e) {
    const { code, kind, offset } = e as { code: string; kind?: string; offset?: bigint };
    return { code, kind, offset: offset?.toString() };
  }
}

async function probeRun(host: TransformHost, commands: string[], base: bigint): Promise<string[]> {
  const records = commands.map((c, i) =>
    record({ key: null, value: btoa(c), headers: [] }, base + BigInt(i)),
  );
  const { outputs } = await host.process({ baseOffset: base, records });
  return outputs.map((o) => dec.decode(o.value ?? new Uint8Array()));
}

const dir = process.argv[2] ?? '.';
// On Bun a thread stuck in a pure Wasm loop cannot be ended (see wasm/host/worker-spawn.ts), so the probe's
// out_of_fuel record leaves one spinning and the process would not end by itself: --exit ends it.
const exitWhenDone = process.argv.includes('--exit');
const input = JSON.parse(await readFile(join(dir, 'input.json'), 'utf8')) as SmokeInputRecord[];

// The real transform: each record as its own batch, then many copies of the records in one batch
// (more than the 1 MiB initial shared region, so the region grows).
const shipments = await createTransformHost({
  module: new Uint8Array(await readFile(join(dir, 'shipments.wasm'))),
  name: 'shipments',
  inputTopic: 'cdc.public.shipments',
  outputTopics: ['clean.shipments', 'dlq.transform'],
  onLog: () => {},
});
const perRecord: Array<Awaited<ReturnType<typeof summary>>[]> = [];
for (const [i, r] of input.entries()) {
  const { outputs } = await shipments.process({ baseOffset: BigInt(i), records: [record(r, BigInt(i))] });
  perRecord.push(await Promise.all(outputs.map(summary)));
}
// The same records again, every call at once: pipelined batches (several in flight, the others waiting)
// must give the same outputs in the same order (on Bun through the 'done' message path). Each result is
// released once read, and the second round's outputs are copied into the first round's released bytes.
const pipelinedRound = () =>
  Promise.all(
    input.map((r, i) =>
      shipments.process({ baseOffset: BigInt(i), records: [record(r, BigInt(i))] }).then(async (result) => {
        const summaries = await Promise.all(result.outputs.map(summary));
        result.release();
        return summaries;
      }),
    ),
  );
const pipelined = [await pipelinedRound(), await pipelinedRound()];
const pipelinedSameAsOneByOne = pipelined.every((p) => JSON.stringify(p) === JSON.stringify(perRecord));
const small = input.filter((r) => r.value === null || r.value.length < 4096);
const big = Array.from({ length: 4000 }, (_, i) => record(small[i % small.length]!, 10_000n + BigInt(i)));
const bigResult = await shipments.process({ baseOffset: 10_000n, records: big });
const bigBatch = {
  records: big.length,
  inputBytes: big.reduce((n, r) => n + (r.value?.length ?? 0), 0),
  outputs: bigResult.outputs.length,
  sha256: await sha256(
    enc.encode((await Promise.all(bigResult.outputs.map(summary))).map((s) => s.sha256).join()),
  ),
};
await shipments.close();

// Failure semantics (docs/abi.md §10, §11) with the probe guest.
const probe = await createTransformHost({
  module: new Uint8Array(await readFile(join(dir, 'probe.wasm'))),
  name: 'probe',
  inputTopic: 'cdc.in',
  outputTopics: ['clean.out', 'dlq.transform'],
  onLog: () => {},
  recordTimeoutMs: 500,
  backoff: { initialMs: 20, maxMs: 200, resetAfterMs: 10_000 },
});
const trap = await failure(probeRun(probe, ['nothing', 'trap'], 100n));
const afterTrap = await probeRun(probe, ['random'], 200n);
const outOfFuel = await failure(probeRun(probe, ['nothing', 'nothing', 'loop'], 300n));
const afterOutOfFuel = await probeRun(probe, ['random'], 400n);
const [grow] = await probeRun(probe, ['grow 100'], 500n);
const probeStats = { traps: probe.stats.traps, restarts: probe.stats.restarts };
await probe.close();

console.log(
  JSON.stringify({
    perRecord,
    pipelinedSameAsOneByOne,
    bigBatch,
    probe: { trap, afterTrap, outOfFuel, afterOutOfFuel, growBeyondLimit: grow?.split(' ')[1], probeStats },
  }),
);
if (exitWhenDone) process.exit(0);
