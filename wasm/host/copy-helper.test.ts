// The worker's payload copies between the slot regions and the guest memory (copy-helper.ts), and the two
// kinds of slot region (shared.ts): a shared WebAssembly.Memory where the runtime has one, else a growable
// SharedArrayBuffer. The host's tests run the Memory path on Node, Deno and Bun; the buffer path is the
// fallback, checked here to encode the same bytes.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createBounce, createHeaderKeyCache, encodeBatch } from './batch-codec.ts';
import { createSlotCopiers } from './copy-helper.ts';
import { createRegion, growableShared, growRegion, type Region, regionBuffer } from './shared.ts';
import type { InputBatch } from './types.ts';

const PAGE = 65536;

function fill(b: Uint8Array, start: number, n: number, salt: number): void {
  for (let i = 0; i < n; i++) b[start + i] = (i * 13 + salt) & 0xff;
}

describe('slot copiers (multi-memory memory.copy)', () => {
  it('copy in and out of each slot, at any alignment, including bytes past a growth on either side', () => {
    const guest = new WebAssembly.Memory({ initial: 1 });
    const inputs = [createRegion(PAGE, 16 * PAGE), createRegion(PAGE, 16 * PAGE)];
    const outputs = [createRegion(PAGE, 16 * PAGE), createRegion(PAGE, 16 * PAGE)];
    const copiers = createSlotCopiers(guest, inputs, outputs);
    expect(copiers).not.toBeNull();
    for (let slot = 0; slot < 2; slot++) {
      const c = copiers![slot]!;
      for (const [src, dst, n] of [
        [64, 1000, 900],
        [3, 5, 1],
        [PAGE - 7, 8, 7],
        [100, 0, 0],
      ] as const) {
        fill(new Uint8Array(regionBuffer(inputs[slot]!)), src, n, slot + src);
        c.copyIn(dst, src, n);
        expect(new Uint8Array(guest.buffer, dst, n)).toEqual(
          new Uint8Array(regionBuffer(inputs[slot]!), src, n),
        );
        c.copyOut(src - 1, dst, n);
        expect(new Uint8Array(regionBuffer(outputs[slot]!), src - 1, n)).toEqual(
          new Uint8Array(guest.buffer, dst, n),
        );
      }
    }
    // Growth after linking: the regions (the main thread grows inputs, the worker outputs) and the guest.
    expect(growRegion(inputs[1]!, 3 * PAGE)).toBe(true);
    expect(growRegion(outputs[1]!, 3 * PAGE)).toBe(true);
    expect(regionBuffer(inputs[1]!).byteLength).toBeGreaterThanOrEqual(3 * PAGE);
    guest.grow(2);
    fill(new Uint8Array(regionBuffer(inputs[1]!)), 2 * PAGE + 11, 922, 7);
    copiers![1]!.copyIn(2 * PAGE + 3, 2 * PAGE + 11, 922);
    expect(new Uint8Array(guest.buffer, 2 * PAGE + 3, 922)).toEqual(
      new Uint8Array(regionBuffer(inputs[1]!), 2 * PAGE + 11, 922),
    );
    copiers![1]!.copyOut(2 * PAGE + 100, 2 * PAGE + 3, 922);
    expect(new Uint8Array(regionBuffer(outputs[1]!), 2 * PAGE + 100, 922)).toEqual(
      new Uint8Array(guest.buffer, 2 * PAGE + 3, 922),
    );
    // Slot 0 did not grow: a copy past its end traps (the ABI checks every range before it copies).
    expect(() => copiers![0]!.copyIn(0, PAGE - 4, 8)).toThrow(WebAssembly.RuntimeError);
    expect(() => copiers![0]!.copyOut(0, 3 * PAGE - 4, 8)).toThrow(WebAssembly.RuntimeError);
  });

  it('none where the helper cannot link: buffer regions, no memory, a shared guest memory', () => {
    const guest = new WebAssembly.Memory({ initial: 1 });
    const memories = [createRegion(PAGE, 4 * PAGE)];
    const buffers = [growableShared(PAGE, 4 * PAGE)];
    expect(createSlotCopiers(guest, buffers, buffers)).toBeNull();
    expect(createSlotCopiers(undefined, memories, memories)).toBeNull();
    const sharedGuest = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    expect(createSlotCopiers(sharedGuest, memories, memories)).toBeNull();
  });
});

describe('slot regions', () => {
  it('a shared memory and a growable buffer grow alike and take the same encoded batch', () => {
    const batch: InputBatch = {
      baseOffset: 10n,
      records: Array.from({ length: 300 }, (_, i) => {
        const value = new Uint8Array(700 + (i % 9));
        fill(value, 0, value.length, i);
        return {
          key: null,
          value,
          headers: [{ key: 'h', value: null }],
          offset: BigInt(10 + i),
          timestamp: i,
        };
      }),
    };
    const encoded = (region: Region) => {
      expect(encodeBatch(region, batch, createHeaderKeyCache(), 3, createBounce())).toBe(true);
      return regionBuffer(region);
    };
    const memory = createRegion(PAGE, 64 * PAGE);
    expect(memory).toBeInstanceOf(WebAssembly.Memory);
    const a = encoded(memory);
    const b = encoded(growableShared(PAGE, 64 * PAGE));
    expect(a.byteLength).toBeGreaterThan(PAGE); // both grew
    expect(b.byteLength).toBeGreaterThan(PAGE);
    const n = Math.min(a.byteLength, b.byteLength);
    expect(Buffer.from(new Uint8Array(a, 0, n)).equals(Buffer.from(new Uint8Array(b, 0, n)))).toBe(true);
    // Asking for more than the region holds shows what it holds (the caller's view then fails, not this).
    expect(regionBuffer(memory, 64 * PAGE).byteLength).toBe(a.byteLength);
    // Over the maximum: refused, not thrown.
    expect(growRegion(memory, 512 << 20)).toBe(false);
    expect(encodeBatch(growableShared(PAGE, PAGE), batch, createHeaderKeyCache(), 0, createBounce())).toBe(
      false,
    );
  });

  it('regionBuffer(region, n) shows the n bytes another thread grew a shared memory to', async () => {
    const memory = createRegion(PAGE, 16 * PAGE);
    expect(memory).toBeInstanceOf(WebAssembly.Memory);
    const worker = new Worker(
      "const { workerData, parentPort } = require('node:worker_threads'); workerData.grow(3); parentPort.postMessage(0);",
      { eval: true, workerData: memory },
    );
    try {
      await once(worker, 'message');
      expect(regionBuffer(memory, 4 * PAGE).byteLength).toBe(4 * PAGE);
    } finally {
      await worker.terminate();
    }
  });
});
