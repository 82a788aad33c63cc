// redpanda_transform (docs/abi.md §2, §3, §5, §6), the worker side: batches arrive through shared memory,
// read_batch_header blocks on Atomics.wait unless the next batch is already handed over, outputs are
// appended to the batch's slot's shared output region (shared.ts).
import { createSlotCopiers, type SlotCopier } from './copy-helper.ts';
import { FfiTrap, type GuestMemory, OOB } from './ffi.ts';
import { parseWriteOptions } from './options.ts';
import { isValidPayload, sameBytes } from './payload.ts';
import {
  C_BATCH_SEQ,
  C_BUSY,
  C_DONE_SEQ,
  C_IN_ALIGN,
  C_MEMORY_BYTES,
  C_RECORD_INDEX,
  C_RECORD_SEQ,
  C_SHUTDOWN,
  growRegion,
  INPUT_HEADER_BYTES,
  OUTPUT_ENTRY_BYTES,
  RECORD_ENTRY_BYTES,
  type Region,
  regionBuffer,
  S_DONE_MSG,
  S_OUT_BYTES,
  S_OUT_COUNT,
  slotWord,
} from './shared.ts';
import type { WasiClock } from './wasi.ts';

export const NO_ACTIVE_TRANSFORM = -1;
export const INVALID_BUFFER = -2;
export const INVALID_WRITE = -3;

/** The wait was broken because the host is closing the VM (§3 read_batch_header). */
export class VmShutdown extends Error {
  constructor() {
    super('vm was shutdown');
    this.name = 'VmShutdown';
  }
}

export interface TransformAbiOptions {
  memory: GuestMemory;
  control: Int32Array;
  /** One input and one output region per slot; batch seq s uses slot s % inputs.length. */
  inputs: Region[];
  outputs: Region[];
  /**
   * The guest's exported memory object, once the instance exists: with it (and regions that are shared
   * memories) payloads are copied by a multi-memory helper module (copy-helper.ts).
   */
  guestMemory?: () => unknown;
  outputTopics: string[];
  clock: WasiClock;
  memoryLimitBytes: number;
  /** Called once, at the first read_batch_header: the VM is ready (§2.4). */
  onReady(): void;
  /**
   * Called when the guest asks for the next batch (the previous one is done). The worker posts one message
   * per batch: it arrives after the batch's log messages (same port, in order), and needs no
   * Atomics.waitAsync on the main thread, which not every runtime has.
   */
  onBatchDone(seq: number): void;
  /**
   * When given and it returns true (no log message of this batch is in flight), the batch ends with
   * Atomics.notify on C_DONE_SEQ instead of onBatchDone's message (shared.ts S_DONE_MSG), and the notify
   * itself is left out while the next batch is already handed over (at most ceil(depth / 2) in a row).
   */
  notifyDone?: () => boolean;
}

const LOG_APPEND_TIME = 0x08;
const encoder = new TextEncoder();

export function createTransformAbi(opts: TransformAbiOptions) {
  const {
    memory,
    control,
    inputs,
    outputs,
    guestMemory,
    clock,
    memoryLimitBytes,
    onReady,
    onBatchDone,
    notifyDone,
  } = opts;
  const topicNames = opts.outputTopics.map((t) => encoder.encode(t));
  const depth = inputs.length;
  // Batches finished without telling the main thread (neither notify nor message) before it is told anyway.
  const quietMax = Math.ceil(depth / 2);
  let quiet = 0;
  let seenSeq = 0;
  let slot = 0;
  let started = false;
  let active = false;
  let recordCount = 0;
  let cursor = 0;
  let inPos = 0;
  // Fixed-length views, re-made whenever a region has grown: a view that tracks a growable
  // SharedArrayBuffer's length asks the runtime for that length on every access. One set per slot.
  const inViews = inputs.map((r) => new DataView(regionBuffer(r)));
  const outBytesBySlot = outputs.map((r) => new Uint8Array(regionBuffer(r)));
  const outViews = outputs.map((r) => new DataView(regionBuffer(r)));
  /** The current slot's input bytes (regionBuffer, fixed length). */
  let input = regionBuffer(inputs[0]!);
  let output = outputs[0]!;
  // memory.copy helpers, one per slot: undefined until the guest's memory exists, null where unavailable.
  let copiers: SlotCopier[] | null | undefined;
  let copier: SlotCopier | null = null;
  let inView = inViews[0]!;
  let outBytes = outBytesBySlot[0]!;
  let outView = outViews[0]!;
  let outPos = 0;
  let outCount = 0;

  /** Copies the i64 at `from` in the input header to guest address `to` (two 32-bit halves, no BigInt). */
  function copy64(dv: DataView, to: number, from: number): void {
    dv.setUint32(to, inView.getUint32(from, true), true);
    dv.setUint32(to + 4, inView.getUint32(from + 4, true), true);
  }

  function finishBatch(): void {
    const mem = memory.bytes();
    Atomics.store(control, C_MEMORY_BYTES, mem.length);
    Atomics.store(control, slotWord(slot, S_OUT_COUNT), outCount);
    Atomics.store(control, slotWord(slot, S_OUT_BYTES), outPos);
    Atomics.store(control, C_RECORD_INDEX, -1);
    const byNotify = notifyDone?.() === true;
    Atomics.store(control, slotWord(slot, S_DONE_MSG), byNotify ? 0 : 1);
    Atomics.store(control, C_DONE_SEQ, seenSeq);
    active = false;
    if (!byNotify) {
      onBatchDone(seenSeq);
      quiet = 0;
    } else if (++quiet >= quietMax || Atomics.load(control, C_BATCH_SEQ) === seenSeq) {
      // No batch waiting (this thread is about to sleep) or the main thread has not heard for a while:
      // wake it. Otherwise it learns of this batch with a later one (fewer cross-thread wake-ups).
      quiet = 0;
      Atomics.notify(control, C_DONE_SEQ);
    }
  }

  /** Takes the next batch (seq seenSeq + 1), waiting only if it has not been handed over yet. */
  function waitForBatch(): void {
    for (;;) {
      if (Atomics.load(control, C_SHUTDOWN) === 1) throw new VmShutdown();
      const seq = Atomics.load(control, C_BATCH_SEQ);
      if (seq !== seenSeq) {
        seenSeq = (seenSeq + 1) | 0;
        return;
      }
      Atomics.store(control, C_BUSY, 0);
      Atomics.wait(control, C_BATCH_SEQ, seq);
    }
  }

  /** Points the views at slot seenSeq % depth (re-made if the main thread grew its input region). */
  function useSlot(): void {
    slot = seenSeq % depth;
    inView = inViews[slot]!;
    // The main thread grows input regions: the batch's size (header @60, within any view) is read first so
    // that a growth this thread has not caught up with yet is made visible before any record is read.
    input = regionBuffer(inputs[slot]!, inView.getInt32(60, true));
    output = outputs[slot]!;
    if (inView.byteLength !== input.byteLength) {
      inView = new DataView(input, 0, input.byteLength);
      inViews[slot] = inView;
    }
    if (copiers === undefined) {
      const g = guestMemory?.();
      if (g !== undefined) copiers = createSlotCopiers(g, inputs, outputs);
    }
    copier = copiers?.[slot] ?? null;
    outBytes = outBytesBySlot[slot]!;
    outView = outViews[slot]!;
  }

  function emit(topicIndex: number, src: Uint8Array, ptr: number, len: number): void {
    // src is memory.bytes(): its buffer is memory.buffer() (cached; a view's .buffer is a runtime call)
    const at = outPos + OUTPUT_ENTRY_BYTES;
    const pad = (ptr - at) & 7; // payload congruent with ptr mod 8: word-wise copy (shared.ts)
    const need = at + pad + len;
    if (need > outBytes.length) {
      if (!growRegion(output, need)) throw new FfiTrap('output of one batch exceeds the host buffer');
      const grown = regionBuffer(output);
      outBytes = new Uint8Array(grown, 0, grown.byteLength);
      outView = new DataView(grown, 0, grown.byteLength);
      outBytesBySlot[slot] = outBytes;
      outViews[slot] = outView;
    }
    outView.setInt32(outPos, topicIndex, true);
    outView.setInt32(outPos + 4, len, true);
    outView.setInt32(outPos + 8, pad, true);
    const dst = at + pad;
    if (copier !== null) {
      try {
        copier.copyOut(dst, ptr, len);
      } catch {
        // Both ranges were checked: a trap means the helper's view of a size is stale (never seen). Copy here.
        outBytes.set(new Uint8Array(memory.buffer(), ptr, len), dst);
      }
    } else if (len <= 64) {
      // Short payloads: a loop beats creating a view for set().
      for (let i = 0; i < len; i++) outBytes[dst + i] = src[ptr + i]!;
    } else outBytes.set(new Uint8Array(memory.buffer(), ptr, len), dst); // (cheaper than subarray)
    outPos = need;
    outCount++;
  }

  return {
    check_abi_version_1(): void {},
    check_abi_version_2(): void {},

    read_batch_header(
      baseOffset: number,
      recordCountPtr: number,
      leaderEpoch: number,
      attributes: number,
      lastOffsetDelta: number,
      baseTimestamp: number,
      maxTimestamp: number,
      producerId: number,
      producerEpoch: number,
      baseSequence: number,
    ): number {
      memory.check(baseOffset, 8);
      memory.check(recordCountPtr, 4);
      memory.check(leaderEpoch, 4);
      memory.check(attributes, 2);
      memory.check(lastOffsetDelta, 4);
      memory.check(baseTimestamp, 8);
      memory.check(maxTimestamp, 8);
      memory.check(producerId, 8);
      memory.check(producerEpoch, 2);
      memory.check(baseSequence, 4);
      // Every call after the first means "previous batch done" (§2.4); unread records are dropped.
      if (started) {
        finishBatch();
      } else {
        started = true;
        Atomics.store(control, C_BUSY, 0);
        onReady();
      }
      if (memory.bytes().length > memoryLimitBytes) {
        throw new FfiTrap(
          `linear memory ${memory.bytes().length} bytes exceeds the limit of ${memoryLimitBytes}`,
        );
      }
      waitForBatch();
      Atomics.store(control, C_BUSY, 1);
      Atomics.add(control, C_RECORD_SEQ, 1);
      useSlot();
      const dv = memory.view();
      recordCount = inView.getInt32(8, true);
      const maxPayload = inView.getInt32(12, true);
      const attrs = inView.getInt32(20, true);
      copy64(dv, baseOffset >>> 0, 0);
      dv.setInt32(recordCountPtr, recordCount, true);
      dv.setInt32(leaderEpoch, inView.getInt32(16, true), true);
      dv.setInt16(attributes, attrs, true);
      dv.setInt32(lastOffsetDelta, inView.getInt32(24, true), true);
      copy64(dv, baseTimestamp >>> 0, 32);
      copy64(dv, maxTimestamp >>> 0, 40);
      copy64(dv, producerId >>> 0, 48);
      dv.setInt16(producerEpoch, inView.getInt32(28, true), true);
      dv.setInt32(baseSequence, inView.getInt32(56, true), true);
      // Wall clock = first timestamp, or max timestamp for log_append_time batches (§3).
      const tsAt = attrs & LOG_APPEND_TIME ? 40 : 32;
      clock.realtimeMs = Number(inView.getBigInt64(tsAt, true));
      active = true;
      cursor = 0;
      inPos = INPUT_HEADER_BYTES;
      outPos = 0;
      outCount = 0;
      return maxPayload;
    },

    read_next_record(attrsPtr: number, tsPtr: number, offsetPtr: number, buf: number, len: number): number {
      // §0: every range is checked before the call does anything (one refresh of the views).
      const mem = memory.bytes();
      const size = mem.length;
      const a = attrsPtr >>> 0;
      const t = tsPtr >>> 0;
      const o = offsetPtr >>> 0;
      const dst = buf >>> 0;
      const cap = len >>> 0;
      if (a + 1 > size || t + 8 > size || o + 8 > size || dst + cap > size) throw new FfiTrap(OOB);
      if (!active || cursor >= recordCount) return NO_ACTIVE_TRANSFORM;
      const at = inPos;
      const payload = inView.getInt32(at + 20, true);
      // Too small: -2 and the record is NOT consumed, so the guest may retry (§3).
      if (cap < payload) return INVALID_BUFFER;
      const dv = memory.view();
      mem[a] = inView.getInt32(at + 16, true);
      // offset and timestamp: i64 little-endian in both buffers, copied as two 32-bit halves (no BigInt).
      const lo = inView.getUint32(at + 8, true);
      const hi = inView.getInt32(at + 12, true);
      dv.setUint32(t, lo, true);
      dv.setInt32(t + 4, hi, true);
      dv.setUint32(o, inView.getUint32(at, true), true);
      dv.setUint32(o + 4, inView.getUint32(at + 4, true), true);
      const start = at + RECORD_ENTRY_BYTES + inView.getInt32(at + 24, true);
      if (copier !== null) {
        try {
          copier.copyIn(dst, start, payload);
        } catch {
          // Ranges checked above: only a stale size in the helper (a growth not seen yet) gets here.
          mem.set(new Uint8Array(input, start, payload), dst);
        }
      } else mem.set(new Uint8Array(input, start, payload), dst); // (cheaper than subarray)
      control[C_IN_ALIGN] = dst & 7;
      clock.realtimeMs = hi * 4294967296 + lo;
      // Plain stores: the watchdog only needs to see the values change (int32 accesses never tear).
      control[C_RECORD_INDEX] = cursor;
      control[C_RECORD_SEQ] = control[C_RECORD_SEQ]! + 1;
      cursor++;
      inPos = start + payload;
      return payload;
    },

    write_record(buf: number, len: number): number {
      const mem = memory.bytes();
      const p = buf >>> 0;
      const n = len >>> 0;
      if (p + n > mem.length) throw new FfiTrap(OOB);
      if (!active) return NO_ACTIVE_TRANSFORM;
      if (!isValidPayload(mem, p, p + n)) return INVALID_BUFFER;
      emit(0, mem, p, n);
      return n;
    },

    write_record_with_options(buf: number, len: number, opts: number, optsLen: number): number {
      memory.check(buf, len);
      memory.check(opts, optsLen);
      if (!active) return NO_ACTIVE_TRANSFORM;
      const mem = memory.bytes();
      const p = buf >>> 0;
      const n = len >>> 0;
      if (!isValidPayload(mem, p, p + n)) return INVALID_BUFFER;
      if (optsLen === 0) {
        // No options: the default output topic (what most calls carry, so no parse and no result object).
        emit(0, mem, p, n);
        return n;
      }
      let parsed: ReturnType<typeof parseWriteOptions>;
      try {
        parsed = parseWriteOptions(mem.subarray(opts >>> 0, (opts >>> 0) + (optsLen >>> 0)));
      } catch (error) {
        // The broker's reader throws out_of_range: a host exception, so a trap (§3, §6).
        throw new FfiTrap(`failure executing host function: ${(error as Error).message}`);
      }
      if (!parsed.ok) return INVALID_BUFFER;
      let index = 0;
      if (parsed.topic !== null) {
        index = topicNames.findIndex((t) => sameBytes(t, parsed.topic!));
        if (index < 0) return INVALID_WRITE;
      }
      emit(index, mem, p, n);
      return n;
    },
  };
}
