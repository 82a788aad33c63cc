// Every import from the broker's `redpanda_transform` host module (ABI v2, docs/abi.md §3) lives in this
// file and nowhere else. AssemblyScript imports a `declare function` from the module named after
// its file, so this file's name is the import module (no decorators needed). abi.ts wraps these
// into an Abi table; stub_abi.ts implements the same table in memory for tests without a broker.
// Pointers are offsets into this module's exported `memory`; out-params are written little-endian.

/** Marker only: imported so the broker's deploy-time check sees ABI v2. */
export declare function check_abi_version_2(): void;

/** Blocks until a batch arrives; writes 10 out-params; returns the largest payload size or -1. */
export declare function read_batch_header(
  baseOffset: usize, // i64 out
  recordCount: usize, // i32 out
  partitionLeaderEpoch: usize, // i32 out
  attributes: usize, // i16 out
  lastOffsetDelta: usize, // i32 out
  baseTimestamp: usize, // i64 out
  maxTimestamp: usize, // i64 out
  producerId: usize, // i64 out
  producerEpoch: usize, // i16 out
  baseSequence: usize, // i32 out
): i32;

/** Copies the next payload into buf; -1 = batch exhausted, -2 = buffer too small (not consumed). */
export declare function read_next_record(
  attrs: usize,
  timestamp: usize,
  offset: usize,
  buf: usize,
  len: u32,
): i32;

/** Emits a payload to output topic 0; returns len on success. */
export declare function write_record(buf: usize, len: u32): i32;

/** Emits a payload with options (docs/abi.md §6); returns len, -2 malformed, -3 topic not an output. */
export declare function write_record_with_options(buf: usize, len: u32, opts: usize, optsLen: u32): i32;
