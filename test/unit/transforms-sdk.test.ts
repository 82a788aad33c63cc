// The guest SDK outside any broker or host: transforms/sdk/testing/sdk-harness.ts runs the SDK's
// record loop on the in-memory stub ABI (transforms/sdk/stub_abi.ts). The payloads it writes are
// decoded with the host's codec (wasm/host/payload.ts), so the two sides of docs/abi.md §5/§6 are
// checked against each other.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileEntryCached } from '../../wasm/build/index.ts';
import { decodePayload, encodePayload, parseWriteOptions } from '../../wasm/host/index.ts';

interface Harness {
  memory: WebAssembly.Memory;
  _start(): void;
  scratch(): number;
  addRecord(len: number): void;
  endBatch(): void;
  run(): number;
  outputPtr(i: number): number;
  outputLen(i: number): number;
  optionsPtr(i: number): number;
  optionsLen(i: number): number;
  malformed(): number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
let wasm: Uint8Array<ArrayBuffer>;

function instantiate(env: Record<string, string> = {}): Harness {
  let memory: WebAssembly.Memory | undefined;
  const entries = Object.entries(env).map(([k, v]) => enc.encode(`${k}=${v}\0`));
  const view = () => new DataView(memory!.buffer);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), {
    wasi_snapshot_preview1: {
      fd_write: (_fd: number, iovs: number, n: number, written: number) => {
        let total = 0;
        for (let i = 0; i < n; i++) total += view().getUint32(iovs + i * 8 + 4, true);
        view().setUint32(written, total, true);
        return 0;
      },
      proc_exit: (code: number) => {
        throw new Error(`proc_exit ${code}`);
      },
      environ_sizes_get: (count: number, size: number) => {
        view().setUint32(count, entries.length, true);
        view().setUint32(
          size,
          entries.reduce((s, e) => s + e.length, 0),
          true,
        );
        return 0;
      },
      environ_get: (ptrs: number, buf: number) => {
        let at = buf;
        entries.forEach((e, i) => {
          view().setUint32(ptrs + i * 4, at, true);
          new Uint8Array(memory!.buffer, at, e.length).set(e);
          at += e.length;
        });
        return 0;
      },
    },
  });
  const h = instance.exports as unknown as Harness;
  memory = h.memory;
  h._start();
  return h;
}

function feed(h: Harness, batches: Uint8Array[][]): void {
  for (const batch of batches) {
    for (const payload of batch) {
      new Uint8Array(h.memory.buffer, h.scratch(), payload.length).set(payload);
      h.addRecord(payload.length);
    }
    h.endBatch();
  }
}

function outputs(h: Harness, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const payload = new Uint8Array(h.memory.buffer, h.outputPtr(i), h.outputLen(i)).slice();
    const options = new Uint8Array(h.memory.buffer, h.optionsPtr(i), h.optionsLen(i)).slice();
    const parsed = parseWriteOptions(options);
    const topic = !parsed.ok ? 'INVALID' : parsed.topic === null ? null : dec.decode(parsed.topic);
    return { record: decodePayload(payload), topic };
  });
}

const record = (
  value: string | null,
  headers: Array<{ key: string; value: Uint8Array | null }> = [],
  key: string | null = 'k',
) =>
  encodePayload({
    key: key === null ? null : enc.encode(key),
    value: value === null ? null : enc.encode(value),
    headers,
  });

describe('AssemblyScript SDK on the stub ABI', () => {
  beforeAll(async () => {
    const path = await compileEntryCached({ entry: 'sdk/testing/sdk-harness.ts', name: 'sdk-harness' });
    wasm = new Uint8Array(readFileSync(path));
  }, 120_000);

  it('reads records, parses JSON values and writes with headers (payload codec, docs/abi.md §5)', () => {
    const h = instantiate({ HARNESS_TAG: 'unit' });
    feed(h, [[record('{"n": 21}', [{ key: 'a', value: null }]), record('"hello"')], [record('{"n":')]]);
    const out = outputs(h, h.run());
    expect(out).toHaveLength(3);
    const [first, second, third] = out.map((o) => o.record);
    expect(dec.decode(first!.value!)).toBe('{"double":42.0}');
    expect(dec.decode(first!.key!)).toBe('k');
    expect(first!.headers.map((x) => [x.key, x.value && dec.decode(x.value)])).toEqual([
      ['seen-headers', '1'],
      ['tag', 'unit'],
    ]);
    expect(dec.decode(second!.value!)).toBe('"HELLO"');
    // A parse failure is a value the transform routes, never an abort.
    expect(dec.decode(third!.value!)).toBe('not json: 1');
    expect(out.every((o) => o.topic === null)).toBe(true);
  });

  it('routes with the topic write option (docs/abi.md §6) and passes tombstones through byte for byte', () => {
    const h = instantiate();
    const tomb = record(null, [{ key: 'x', value: enc.encode('y') }], 'gone');
    feed(h, [[record('v', [{ key: 'route', value: enc.encode('1') }]), tomb]]);
    const out = outputs(h, h.run());
    expect(out[0]!.topic).toBe('other-topic');
    expect(out[1]!.topic).toBeNull();
    expect(encodePayload(out[1]!.record)).toEqual(tomb);
  });

  it('grows its read buffer for large records and skips malformed payloads without trapping', () => {
    const h = instantiate();
    const big = JSON.stringify('x'.repeat(200_000));
    feed(h, [[record(big), new Uint8Array([0x05, 0x01]), record('"after"')]]);
    const out = outputs(h, h.run());
    expect(out).toHaveLength(2);
    expect(dec.decode(out[0]!.record.value!)).toBe(big.toUpperCase());
    expect(dec.decode(out[1]!.record.value!)).toBe('"AFTER"');
    expect(h.malformed()).toBe(1);
  });

  it('survives deep and invalid JSON in json()', () => {
    const h = instantiate();
    const wide = `[${'0,'.repeat(100_000)}0]`; // 100k values: over json()'s budget, refused before memory runs out
    feed(h, [
      ['['.repeat(50_000), '{"a":"\\ud800"}', '\u00ff\u00fe', '{"n":1e400}', wide].map((v) => record(v)),
    ]);
    const out = outputs(h, h.run()).map((o) => dec.decode(o.record.value!));
    expect(out[0]).toBe('not json: 1');
    expect(out[1]).toBe('{"A":"\\UD800"}');
    expect(out[2]).toBe('not json: 1');
    expect(out[3]).toBe('{"double":Infinity}');
    expect(out[4]).toBe('not json: 4');
  });
});
