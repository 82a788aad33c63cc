// The main thread's batch codec through the real host and the passthrough transform (which writes back the
// exact payload it read, docs/abi.md §5): record values copied straight into the input region or through the
// bounce buffer (sources at every address mod 8), keys and header values on both sides of the one-byte
// length, a batch that grows the input region; and the outputs' lifetime: every output handed out stays
// byte for byte what it was after many later batches have reused the slots, until its result is released.
import { describe, expect, it } from 'vitest';
import { transformModule } from '../../test/support/transforms.ts';
import { createHeaderKeyCache } from './batch-codec.ts';
import { createTransformHost } from './host.ts';
import type { BatchResult, HostRecord, InputBatch, OutputRecord, TransformHost } from './types.ts';

const enc = new TextEncoder();
const hex = (b: Uint8Array | null) => (b === null ? 'null' : Buffer.from(b).toString('hex'));

/** Deterministic bytes: record i, field salt. */
function bytes(length: number, i: number, salt: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let j = 0; j < length; j++) b[j] = (i * 31 + j * 7 + salt) & 0xff;
  return b;
}

/** `b` copied to `shift` bytes into a larger buffer: a view at any address mod 8, as in a fetch response. */
function at(b: Uint8Array, shift: number): Uint8Array {
  const big = new Uint8Array(b.length + 16);
  big.set(b, shift);
  return big.subarray(shift, shift + b.length);
}

const VALUE_LENGTHS = [0, 1, 63, 64, 65, 700, 922, 3000];
const KEY_LENGTHS = [-1, 0, 5, 13, 63, 64, 200];
// same lengths that differ in one byte (first word, last full word, tail), non-ASCII, empty, over 64 bytes
const HEADER_KEYS = [
  'h-0',
  'h-1',
  'ferry-event-id',
  'ferry-event-ix',
  'xerry-event-id',
  'ferry-evenT-id',
  'clé',
  '',
  'k'.repeat(70),
];

function record(i: number): HostRecord {
  const keyLength = KEY_LENGTHS[i % KEY_LENGTHS.length]!;
  const valueLength = VALUE_LENGTHS[(i * 5) % VALUE_LENGTHS.length]!;
  const value = i % 11 === 3 ? null : at(bytes(valueLength, i, 1), i % 8);
  const headers: HostRecord['headers'] = [];
  for (let h = 0; h < i % 5; h++) {
    headers.push({
      key: HEADER_KEYS[(i + h) % HEADER_KEYS.length]!,
      value: h === 2 ? null : at(bytes(h === 1 ? 90 : 20, i, h + 2), (i + h) % 8),
    });
  }
  return {
    key:
      keyLength < 0
        ? null
        : keyLength === 13
          ? enc.encode(`{"id":${100_000 + (i % 1000)}}`)
          : bytes(keyLength, i, 0),
    value,
    headers,
    offset: BigInt(i),
    timestamp: 1_795_237_152_000 + i,
  };
}

function describeRecord(r: Pick<OutputRecord, 'key' | 'value' | 'headers'>): string {
  return `${hex(r.key)} ${hex(r.value)} ${r.headers.map((h) => `${h.key}=${hex(h.value)}`).join(',')}`;
}

/** The passthrough transform (each output is the payload it read) with 4 batches in flight. */
async function passthroughHost(): Promise<TransformHost> {
  return createTransformHost({
    module: await transformModule('passthrough'),
    name: 'passthrough',
    inputTopic: 'in',
    outputTopics: ['out'],
    onLog: () => {},
    pipelineDepth: 4,
  });
}

describe('batch codec through the host (passthrough transform)', () => {
  it('outputs equal inputs byte for byte, and stay so after later batches reuse the slots', async () => {
    const host = await passthroughHost();
    try {
      const batches: InputBatch[] = [];
      let next = 0;
      // ~3 MiB of outputs in small batches, one batch over 1 MiB in the middle (it grows its slot's input
      // region on the main thread and output region in the worker), then small ones again.
      for (let b = 0; b < 90; b++) {
        const size = b === 45 ? 1500 : 1 + ((b * 7) % 40);
        const records = Array.from({ length: size }, () => record(next++));
        batches.push({ baseOffset: records[0]!.offset, records });
      }
      const expected = batches.map((b) => b.records.map(describeRecord));
      const results: BatchResult[] = await Promise.all(batches.map((b) => host.process(b)));
      // more batches through every slot before the first results are read
      for (let b = 0; b < 20; b++) await host.process(batches[b]!);
      expect(results.map((r) => r.outputs.map(describeRecord))).toEqual(expected);
      expect(results.every((r) => r.outputs.every((o) => o.topic === 'out'))).toBe(true);
      // outputs of one batch are independent of another's: writing into one changes no other output
      const first = results[1]!.outputs[0]!;
      first.value?.fill(0);
      expect(results[2]!.outputs.map(describeRecord)).toEqual(expected[2]);
      expect(results[0]!.outputs.map(describeRecord)).toEqual(expected[0]);
    } finally {
      await host.close();
    }
  }, 60_000);
});

describe('released results (BatchResult.release)', () => {
  it("a released batch's bytes take later outputs; results not released keep theirs; a second release is a no-op", async () => {
    const host = await passthroughHost();
    try {
      let next = 0;
      const batch = (size: number): InputBatch => {
        const records = Array.from({ length: size }, () => record(next++));
        return { baseOffset: records[0]!.offset, records };
      };
      // kept: never released, read at the end
      const keptBatches = [batch(30), batch(7)];
      const kept = await Promise.all(keptBatches.map((b) => host.process(b)));
      // released right away (twice each: the second call must not put the buffer in the pool again)
      const first = await host.process(batch(25));
      const reused = first.outputs[0]!.value!.buffer;
      first.release();
      first.release();
      // Many batches in flight at once, each checked, then released: with a buffer pooled twice, two of
      // them would share bytes and one would read the other's outputs.
      let sawReuse = false;
      for (let round = 0; round < 30; round++) {
        const batches = Array.from({ length: 6 }, (_, k) => batch(1 + ((round * 5 + k * 3) % 40)));
        const results = await Promise.all(batches.map((b) => host.process(b)));
        results.forEach((r, k) => {
          expect(r.outputs.map(describeRecord)).toEqual(batches[k]!.records.map(describeRecord));
        });
        sawReuse ||= results.some((r) => r.outputs.some((o) => o.value?.buffer === reused));
        for (const r of results) {
          r.release();
          r.release();
        }
      }
      expect(sawReuse).toBe(true); // the pool did hand the released bytes out again
      expect(kept.map((r) => r.outputs.map(describeRecord))).toEqual(
        keptBatches.map((b) => b.records.map(describeRecord)),
      );
      // an empty batch's result has nothing to release
      const empty = await host.process({ baseOffset: 0n, records: [] });
      expect(() => empty.release()).not.toThrow();
      expect(empty.outputs).toEqual([]);
    } finally {
      await host.close();
    }
  }, 60_000);
});

describe('header key cache', () => {
  const view = (b: number[]) => new DataView(new Uint8Array(b).buffer);
  it('decodes keys of the same length that differ anywhere, in any order', () => {
    const keys = createHeaderKeyCache();
    const names = [
      'ferry-event-id',
      'ferry-event-ix',
      'xerry-event-id',
      'ferry-evenT-id',
      'abc',
      'abd',
      'clé',
    ];
    for (let round = 0; round < 3; round++) {
      for (const name of round === 1 ? [...names].reverse() : names) {
        const b = [9, 9, ...enc.encode(name), 9];
        expect(keys.decode(view(b), 2, 2 + b.length - 3)).toBe(name);
      }
    }
  });
  it('does not hand out invalid UTF-8 it decoded as the encoding of the replacement character', () => {
    const keys = createHeaderKeyCache();
    expect(keys.decode(view([0xff]), 0, 1)).toBe('\uFFFD');
    expect([...keys.encode('\uFFFD')]).toEqual([0xef, 0xbf, 0xbd]);
    expect(keys.decode(view([0xef, 0xbf, 0xbd]), 0, 3)).toBe('\uFFFD');
  });
});
