// The ABI as a table of functions, so the SDK loop can run against the broker (abi.ts) or against
// the in-memory stub (stub_abi.ts) unchanged.

/** Scratch layout for read_batch_header's out-params (offsets in bytes). */
export const BATCH_BASE_OFFSET: usize = 0; // i64
export const BATCH_RECORD_COUNT: usize = 8; // i32
export const BATCH_BASE_TIMESTAMP: usize = 24; // i64
export const BATCH_HEADER_SCRATCH: i32 = 64;

/** Scratch layout for read_next_record's out-params. */
export const RECORD_ATTRS: usize = 0; // u8
export const RECORD_TIMESTAMP: usize = 8; // i64
export const RECORD_OFFSET: usize = 16; // i64
export const RECORD_SCRATCH: i32 = 24;

/** ABI error codes (docs/abi.md §3). */
export const NO_ACTIVE_TRANSFORM: i32 = -1;
export const INVALID_BUFFER: i32 = -2;
export const INVALID_WRITE: i32 = -3;

export class Abi {
  checkAbi: () => void;
  /** Fills the batch scratch block; returns the largest payload size in the batch, or < 0. */
  readBatchHeader: (out: usize) => i32;
  /** Fills the record scratch block and copies the payload; returns its size, -1 or -2. */
  readNextRecord: (out: usize, buf: usize, len: u32) => i32;
  /** Emits one payload; optsLen 0 = default topic. Returns len on success, else an ABI error code. */
  writeRecord: (buf: usize, len: u32, opts: usize, optsLen: u32) => i32;

  constructor(
    checkAbi: () => void,
    readBatchHeader: (out: usize) => i32,
    readNextRecord: (out: usize, buf: usize, len: u32) => i32,
    writeRecord: (buf: usize, len: u32, opts: usize, optsLen: u32) => i32,
  ) {
    this.checkAbi = checkAbi;
    this.readBatchHeader = readBatchHeader;
    this.readNextRecord = readNextRecord;
    this.writeRecord = writeRecord;
  }
}
