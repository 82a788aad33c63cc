// The record loop (docs/abi.md §2): read_batch_header blocks until the broker hands over a batch (and
// tells it the previous one is finished), then every record is read, decoded and handed to the
// callback. Memory stays flat: the read buffer, the event objects and the writer's buffer are
// reused, and a collection runs every COLLECT_EVERY records or COLLECT_BYTES of payloads,
// whichever comes first, counted across batches.
//
// The build preset uses AssemblyScript's minimal runtime, whose collector traces from globals
// only, never from the Wasm stack. __collect() is therefore called only between records, where no
// frame below holds a managed reference that a global does not also hold: the loop itself is kept
// in a global (see onRecordWritten in index.ts), and so must be anything a transform keeps
// between records (module-level `const`/`let` are globals).
import {
  Abi,
  BATCH_HEADER_SCRATCH,
  BATCH_RECORD_COUNT,
  INVALID_BUFFER,
  RECORD_ATTRS,
  RECORD_OFFSET,
  RECORD_SCRATCH,
  RECORD_TIMESTAMP,
} from './abi_types';
import { DecodedPayload, decodePayload } from './payload';
import { OnRecordWrittenEvent, RecordData, RecordHeader } from './record';
import { log } from './wasi';
import { RecordWriter } from './writer';

export type OnRecordWrittenCallback = (event: OnRecordWrittenEvent, writer: RecordWriter) => void;

const MIN_READ_BUFFER: i32 = 4096;
const EMPTY = new ArrayBuffer(0);
/** Records between two collections (bounds the garbage of records that allocate). */
export const COLLECT_EVERY: i32 = 128;
/** Payload bytes between two collections, for large records (a 1 MB record is collected after). */
export const COLLECT_BYTES: i32 = 128 * 1024;
/** Room kept after the largest payload so RecordWriter.forward can append headers in place. */
export const FORWARD_SLACK: i32 = 4096;

export class TransformLoop {
  abi: Abi;
  callback: OnRecordWrittenCallback;
  writer: RecordWriter;
  event: OnRecordWrittenEvent = new OnRecordWrittenEvent();
  decoded: DecodedPayload = new DecodedPayload();
  readBuf: ArrayBuffer = new ArrayBuffer(MIN_READ_BUFFER);
  batchScratch: ArrayBuffer = new ArrayBuffer(BATCH_HEADER_SCRATCH);
  recordScratch: ArrayBuffer = new ArrayBuffer(RECORD_SCRATCH);
  keyData: RecordData = new RecordData();
  valueData: RecordData = new RecordData();
  /** Reused header objects; event.record.headers is trimmed to the record's count. */
  headerPool: RecordHeader[] = [];
  /** Records handled, and their payload bytes, since the last collection. */
  sinceCollect: i32 = 0;
  sinceCollectBytes: i32 = 0;
  /** Records whose payload could not be decoded (skipped, logged once per batch). */
  malformed: i64 = 0;

  constructor(abi: Abi, callback: OnRecordWrittenCallback) {
    this.abi = abi;
    this.callback = callback;
    this.writer = new RecordWriter(abi);
  }

  /** Processes one batch. Returns false when the ABI reports no batch (the stub's end of input). */
  runBatch(): bool {
    const hdr = changetype<usize>(this.batchScratch);
    const maxSize = this.abi.readBatchHeader(hdr);
    if (maxSize < 0) return false;
    if (maxSize + FORWARD_SLACK > this.readBuf.byteLength) this.growReadBuffer(maxSize + FORWARD_SLACK);
    const count = load<i32>(hdr + BATCH_RECORD_COUNT);
    const malformedBefore = this.malformed;
    for (let i = 0; i < count; i++) {
      if (!this.runRecord()) break;
      // Counted across batches (a collection per batch of 100 cost ~2% of the time): every
      // COLLECT_EVERY records, sooner when the records were large (garbage grows with their size).
      if (++this.sinceCollect >= COLLECT_EVERY || this.sinceCollectBytes >= COLLECT_BYTES) {
        this.sinceCollect = 0;
        this.sinceCollectBytes = 0;
        __collect();
      }
    }
    if (this.malformed != malformedBefore) log(2, 'ferry sdk: skipped records with a malformed payload');
    return true;
  }

  /** Reads and handles one record; false when the batch has no more records. */
  runRecord(): bool {
    const rs = changetype<usize>(this.recordScratch);
    let n = this.abi.readNextRecord(rs, changetype<usize>(this.readBuf), <u32>this.readBuf.byteLength);
    while (n == INVALID_BUFFER) {
      // Buffer too small: the record was not consumed, so grow and retry (docs/abi.md §3).
      this.growReadBuffer(this.readBuf.byteLength << 1);
      n = this.abi.readNextRecord(rs, changetype<usize>(this.readBuf), <u32>this.readBuf.byteLength);
    }
    if (n < 0) return false;
    this.sinceCollectBytes += n;
    const buf = changetype<usize>(this.readBuf);
    const ev = this.event;
    const rec = ev.record;
    rec.attributes = load<u8>(rs + RECORD_ATTRS);
    rec.timestamp = load<i64>(rs + RECORD_TIMESTAMP);
    rec.offset = load<i64>(rs + RECORD_OFFSET);
    ev.payload.set(buf, n);
    const d = this.decoded;
    if (!decodePayload(buf, n, d)) {
      this.malformed++;
      return true;
    }
    ev.headerCountPtr = d.headerCountPtr;
    ev.bufferCapacity = this.readBuf.byteLength;
    rec.key = d.keyLen < 0 ? null : this.keyData.set(d.keyPtr, d.keyLen);
    rec.value = d.valueLen < 0 ? null : this.valueData.set(d.valuePtr, d.valueLen);
    const pool = this.headerPool;
    while (pool.length < d.headerCount) pool.push(new RecordHeader(new RecordData(), new RecordData()));
    const headers = rec.headers;
    headers.length = 0;
    for (let i = 0; i < d.headerCount; i++) {
      const span = unchecked(d.headers[i]);
      const h = unchecked(pool[i]);
      h.key.set(span.keyPtr, span.keyLen);
      // A null header value gets its own null; the pooled RecordData is kept for the next record.
      h.value = span.valueLen < 0 ? null : pooledValue(h, span.valuePtr, span.valueLen);
      headers.push(h);
    }
    this.callback(ev, this.writer);
    return true;
  }

  /**
   * Replaces the read buffer with a bigger one (rounded up to 4 KiB), freeing the old one first:
   * with records near 1 MB, holding both would pass the broker's 2 MiB memory limit. Called only
   * between records, where collecting is safe (see the top of this file).
   */
  growReadBuffer(size: i32): void {
    this.readBuf = EMPTY;
    __collect();
    this.readBuf = new ArrayBuffer((size + 0xfff) & ~0xfff);
  }

  /** Runs forever against the broker (read_batch_header blocks), or until the stub runs dry. */
  run(maxBatches: i32 = -1): void {
    this.abi.checkAbi();
    for (let b = 0; maxBatches < 0 || b < maxBatches; b++) {
      if (!this.runBatch()) return;
    }
  }
}

function pooledValue(h: RecordHeader, ptr: usize, len: i32): RecordData {
  let v = h.value;
  if (v === null) v = new RecordData();
  return v.set(ptr, len);
}
