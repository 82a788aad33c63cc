// Layout of the memory the main thread and a transform's worker share. No message per record: batches go
// in through an input region (the worker blocks in Atomics.wait when none is waiting), outputs come back
// through an output region, and the end of a batch is published in C_DONE_SEQ (plus Atomics.notify, or a
// small 'done' message ordered after that batch's log lines).
//
// Pipelining: up to `depth` batches may be handed over at once. Batch seq s (1, 2, ...) uses slot s % depth:
// its own input and output region and its own per-slot control words. The main thread hands batch s+depth
// to slot s % depth only after it has copied batch s's outputs out, so a slot is never overwritten early.
//
// control: Int32Array over a SharedArrayBuffer, indices below.
// input region (one per slot, a Region: see below), written by the main thread before it bumps BATCH_SEQ:
//   header (64 bytes): base_offset i64 @0, record_count i32 @8, max_payload i32 @12,
//     partition_leader_epoch i32 @16, attributes i32 @20, last_offset_delta i32 @24, producer_epoch i32 @28,
//     base_timestamp i64 @32, max_timestamp i64 @40, producer_id i64 @48, base_sequence i32 @56,
//     bytes used in the region i32 @60 (the worker makes sure it sees that much: regionBuffer)
//   records from @64: offset i64, timestamp i64, attributes i32, payload_len i32, pad i32, (4 unused),
//     pad bytes, payload (docs/abi.md §5)
// output region (one per slot, a Region), appended by the worker during a batch:
//   per record: topic_index i32, payload_len i32, pad i32, pad bytes, payload (docs/abi.md §5)
// The pads (0..7) make each payload's address in the region congruent mod 8 with the guest buffer it is
// copied from/to: copies between a SharedArrayBuffer and ordinary memory run word by word only then (V8's
// relaxed memcpy), ~3.5x faster than byte by byte for 1 KB records. The worker publishes the alignment of
// the guest's read buffer in C_IN_ALIGN; guests reuse one buffer, so later batches are laid out for it
// (one that is encoded while the previous one runs may use a stale value: only slower, never wrong).

export const C_BATCH_SEQ = 0; // main -> worker: seq of the last batch handed over
export const C_DONE_SEQ = 1; // worker -> main: seq of the last batch finished (the guest asked for the next one)
export const C_SHUTDOWN = 2; // main -> worker: 1 = break the wait ("vm was shutdown", docs/abi.md §3)
export const C_RECORD_SEQ = 3; // worker: bumped at every read_next_record (the watchdog's heartbeat)
export const C_BUSY = 4; // worker: 1 while the guest runs (start-up or batches), 0 while it waits
export const C_RECORD_INDEX = 5; // worker: index in its current batch of the record being processed, -1 none
export const C_MEMORY_BYTES = 8; // worker: guest linear memory size at the last batch boundary
export const C_IN_ALIGN = 9; // worker: (read_next_record buf) mod 8, the last one seen
/** Per-slot words from here: SLOT_BASE + slot * SLOT_WORDS + S_*. */
export const SLOT_BASE = 16;
export const SLOT_WORDS = 4;
export const S_OUT_COUNT = 0; // worker: records in the slot's output region
export const S_OUT_BYTES = 1; // worker: bytes used in the slot's output region
export const S_DONE_MSG = 2; // worker: 1 = this batch's end also comes as a 'done' message (its logs precede it)

export function controlSlots(depth: number): number {
  return SLOT_BASE + depth * SLOT_WORDS;
}

export function slotWord(slot: number, word: number): number {
  return SLOT_BASE + slot * SLOT_WORDS + word;
}

export const INPUT_HEADER_BYTES = 64;
export const RECORD_ENTRY_BYTES = 32;
export const OUTPUT_ENTRY_BYTES = 12;

export const INITIAL_REGION_BYTES = 1 << 20;
export const MAX_REGION_BYTES = 256 << 20;

/** Message the main thread posts once to a new worker. */
export interface WorkerInit {
  module: WebAssembly.Module;
  control: SharedArrayBuffer;
  /** Batches in flight at most; batch seq s uses inputs[s % depth] and outputs[s % depth]. */
  depth: number;
  inputs: Region[];
  outputs: Region[];
  args: string[];
  /** KEY=VALUE entries, in the order the guest sees them. */
  environ: string[];
  outputTopics: string[];
  memoryLimitBytes: number;
  logLineMaxBytes: number;
  /**
   * The main thread waits for C_DONE_SEQ with Atomics.waitAsync: a batch that logged nothing ends with
   * Atomics.notify alone (no message to serialize and dispatch), and not even that when the worker goes
   * straight on with a batch already handed over (at most every ceil(depth / 2) batches, and always before
   * it waits). Without waitAsync, every batch ends with a 'done' message.
   */
  notifyDone: boolean;
}

/** Messages a worker posts to the main thread (rare: ready, logs, the final trap). */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; seq: number }
  | { type: 'log'; level: 'info' | 'warn'; line: string }
  | {
      type: 'trap';
      kind: 'trap' | 'proc_exit' | 'exited' | 'shutdown';
      message: string;
      recordIndex: number;
    };

/** A growable SharedArrayBuffer (ES2024), typed loosely because the project's lib is ES2023. */
export function growableShared(initial: number, max: number): SharedArrayBuffer {
  const Ctor = SharedArrayBuffer as unknown as new (
    n: number,
    o: { maxByteLength: number },
  ) => SharedArrayBuffer;
  return new Ctor(initial, { maxByteLength: max });
}

export function growShared(sab: SharedArrayBuffer, atLeast: number): boolean {
  const g = sab as unknown as { grow(n: number): void; maxByteLength: number };
  if (atLeast > g.maxByteLength) return false;
  if (atLeast <= sab.byteLength) return true;
  g.grow(Math.min(g.maxByteLength, Math.max(atLeast, sab.byteLength * 2)));
  return true;
}

/**
 * A slot region: a shared WebAssembly.Memory where the runtime has them (the worker then copies payloads
 * between it and the guest's memory with `memory.copy` in a helper module, copy-helper.ts), else a
 * growable SharedArrayBuffer. Either way the bytes are read and written through views of regionBuffer(),
 * re-made when its byteLength has changed: one side grows a region (the main thread its inputs, the worker
 * its outputs), the other re-reads regionBuffer() before it uses bytes past the length it knew.
 */
export type Region = WebAssembly.Memory | SharedArrayBuffer;

/**
 * Most batches one host takes at once. Each slot has two regions, and each reserves ~9 GiB of address space
 * (createRegion), so a process with many partitions at a high depth could run short of it; past 8 batches
 * in flight the bench measured no gain.
 */
export const MAX_PIPELINE_DEPTH = 16;

const PAGE = 65536;

export function createRegion(initial: number, max: number): Region {
  // Address space, not memory: V8 reserves a shared memory's maximum plus guard regions (~9 GiB each on
  // Node 24; 400 of them, 50 hosts at depth 4, took 3.6 TiB of virtual space and worked). Pages are
  // committed as the region grows, as with the growable SharedArrayBuffer.
  try {
    return new WebAssembly.Memory({
      initial: Math.ceil(initial / PAGE),
      maximum: Math.ceil(max / PAGE),
      shared: true,
    } as WebAssembly.MemoryDescriptor);
  } catch {
    return growableShared(initial, max);
  }
}

/**
 * The region's bytes now: a shared Memory's buffer is a fixed-length SAB of its current size. V8 replaces
 * it after a growth made by the OTHER thread only when this thread next handles interrupts (its `buffer`
 * getter does not look), so a reader that needs `atLeast` bytes the other side has published (a length
 * stored before C_BATCH_SEQ / C_DONE_SEQ) and finds fewer asks with grow(0), which re-reads the shared
 * length and refreshes this thread's buffer (and the copy helper's view of the memory).
 */
export function regionBuffer(region: Region, atLeast = 0): SharedArrayBuffer {
  if (!(region instanceof WebAssembly.Memory)) return region;
  if (region.buffer.byteLength < atLeast) region.grow(0);
  return region.buffer as unknown as SharedArrayBuffer;
}

/** Grows the region (doubling) to at least `atLeast` bytes; false when that is over its maximum. */
export function growRegion(region: Region, atLeast: number): boolean {
  if (!(region instanceof WebAssembly.Memory)) return growShared(region, atLeast);
  const size = region.buffer.byteLength;
  if (atLeast <= size) return true;
  if (atLeast > MAX_REGION_BYTES) return false;
  const target = Math.min(MAX_REGION_BYTES, Math.max(atLeast, size * 2));
  try {
    region.grow(Math.ceil(target / PAGE) - size / PAGE);
  } catch {
    return false;
  }
  return true;
}

/** Largest size the region may grow to. */
export function regionMax(region: Region): number {
  return region instanceof WebAssembly.Memory
    ? MAX_REGION_BYTES
    : (region as unknown as { maxByteLength: number }).maxByteLength;
}
