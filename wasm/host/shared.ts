// Layout of the memory the main thread and a transform's worker share. No message per record: batches go
// in through `input` (the worker blocks in Atomics.wait), outputs come back through `output`, and the worker
// posts one small 'done' message per batch (ordered after that batch's log lines, no waitAsync needed).
//
// control: Int32Array over a SharedArrayBuffer, indices below.
// input (growable SAB), written by the main thread before it bumps BATCH_SEQ:
//   header (64 bytes): base_offset i64 @0, record_count i32 @8, max_payload i32 @12,
//     partition_leader_epoch i32 @16, attributes i32 @20, last_offset_delta i32 @24, producer_epoch i32 @28,
//     base_timestamp i64 @32, max_timestamp i64 @40, producer_id i64 @48, base_sequence i32 @56
//   records from @64: offset i64, timestamp i64, attributes i32, payload_len i32, pad i32, (4 unused),
//     pad bytes, payload (ABI.md §5)
// output (growable SAB), appended by the worker during a batch:
//   per record: topic_index i32, payload_len i32, pad i32, pad bytes, payload (ABI.md §5)
// The pads (0..7) make each payload's address in the region congruent mod 8 with the guest buffer it is
// copied from/to: copies between a SharedArrayBuffer and ordinary memory run word by word only then (V8's
// relaxed memcpy), ~3.5x faster than byte by byte for 1 KB records. The worker publishes the alignment of
// the guest's read buffer in C_IN_ALIGN; guests reuse one buffer, so the next batch is laid out for it.

export const C_BATCH_SEQ = 0; // main -> worker: bumped when a batch is ready
export const C_DONE_SEQ = 1; // worker -> main: the batch seq once the guest asks for the next batch (+ a 'done' message)
export const C_SHUTDOWN = 2; // main -> worker: 1 = break the wait ("vm was shutdown", ABI.md §3)
export const C_RECORD_SEQ = 3; // worker: bumped at every read_next_record (the watchdog's heartbeat)
export const C_BUSY = 4; // worker: 1 while the guest runs (start-up or a batch), 0 while it waits
export const C_RECORD_INDEX = 5; // worker: index in the batch of the record being processed, -1 none
export const C_OUT_COUNT = 6; // worker: records in the output region
export const C_OUT_BYTES = 7; // worker: bytes used in the output region
export const C_MEMORY_BYTES = 8; // worker: guest linear memory size at the last batch boundary
export const C_DONE_MSG = 10; // worker: 1 = this batch's end comes as a 'done' message (logs precede it), 0 = notify only
export const C_IN_ALIGN = 9; // worker: (read_next_record buf) mod 8, the last one seen
export const CONTROL_SLOTS = 16;

export const INPUT_HEADER_BYTES = 64;
export const RECORD_ENTRY_BYTES = 32;
export const OUTPUT_ENTRY_BYTES = 12;

export const INITIAL_REGION_BYTES = 1 << 20;
export const MAX_REGION_BYTES = 256 << 20;

/** Message the main thread posts once to a new worker. */
export interface WorkerInit {
  module: WebAssembly.Module;
  control: SharedArrayBuffer;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  args: string[];
  /** KEY=VALUE entries, in the order the guest sees them. */
  environ: string[];
  outputTopics: string[];
  memoryLimitBytes: number;
  logLineMaxBytes: number;
  /**
   * The main thread waits for C_DONE_SEQ with Atomics.waitAsync: a batch that logged nothing ends with
   * Atomics.notify alone (no message to serialize and dispatch). Without waitAsync, every batch ends with a
   * 'done' message.
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
