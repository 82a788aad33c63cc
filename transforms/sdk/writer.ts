// RecordWriter: encodes an output record into a reused buffer (docs/abi.md §5) and emits it through the
// ABI table. Unlike the JS SDK it never throws: write() returns 0 or the ABI's negative error code,
// so the transform decides what a refused write means (AssemblyScript cannot catch).
import { Abi } from './abi_types';
import { ByteBuilder } from './builder';
import { WriteOptions } from './options';
import { encodeHeaders, encodePayload } from './payload';
import { OnRecordWrittenEvent, Record, RecordHeader } from './record';
import { varintSize, writeVarint } from './varint';

export class RecordWriter {
  abi: Abi;
  out: ByteBuilder = new ByteBuilder(4096);
  tail: ByteBuilder = new ByteBuilder(512);
  written: i64 = 0;

  constructor(abi: Abi) {
    this.abi = abi;
  }

  /** Writes `record` to the default output topic, or to options.topic. Returns 0 or an ABI error (< 0). */
  write(record: Record, options: WriteOptions | null = null): i32 {
    return this.emit(encodePayload(record, this.out.reset()), options);
  }

  /**
   * Writes the input record unchanged plus `extra` headers (a dead letter, say), without copying
   * the key and value: the payload is extended in place in the read buffer (the header count is
   * rewritten, the headers shifted if it needs a longer varint, the new headers appended in the
   * slack kept after the payload). Only when they do not fit is the record re-encoded.
   * The event's header views must not be used afterwards.
   */
  forward(event: OnRecordWrittenEvent, extra: RecordHeader[], options: WriteOptions | null = null): i32 {
    const rec = event.record;
    const oldCount = rec.headers.length;
    const newCount = oldCount + extra.length;
    let extraBytes = 0;
    for (let i = 0; i < extra.length; i++) {
      const h = unchecked(extra[i]);
      extraBytes += varintSize(h.key.len) + h.key.len;
      const v = h.value;
      extraBytes += v === null ? 1 : varintSize(v.len) + v.len;
    }
    const start = event.payload.ptr;
    const len = event.payload.len;
    // A count that needs a longer varint shifts the existing headers right by the difference.
    const grow = varintSize(newCount) - varintSize(oldCount);
    if (len + grow + extraBytes <= event.bufferCapacity) {
      // (the payload starts at the buffer's start, so capacity bounds it)
      const countPtr = event.headerCountPtr;
      const oldHeaders = countPtr + <usize>varintSize(oldCount);
      if (grow > 0) memory.copy(oldHeaders + <usize>grow, oldHeaders, start + <usize>len - oldHeaders);
      writeVarint(countPtr, newCount);
      const b = encodeHeaders(extra, this.tail.reset());
      memory.copy(start + <usize>(len + grow), b.ptr, <usize>b.len);
      return this.writePayload(start, len + grow + b.len, options);
    }
    const all: RecordHeader[] = [];
    for (let i = 0; i < oldCount; i++) all.push(unchecked(rec.headers[i]));
    for (let i = 0; i < extra.length; i++) all.push(unchecked(extra[i]));
    const copy = new Record();
    copy.key = rec.key;
    copy.value = rec.value;
    copy.headers = all;
    return this.write(copy, options);
  }

  /** Emits an already encoded payload (for example event.payload, to pass a record through unchanged). */
  writePayload(ptr: usize, len: i32, options: WriteOptions | null = null): i32 {
    let opts: usize = 0;
    let optsLen: u32 = 0;
    if (options !== null) {
      opts = options.encoded.ptr;
      optsLen = <u32>options.encoded.len;
    }
    const r = this.abi.writeRecord(ptr, <u32>len, opts, optsLen);
    if (r == len) {
      this.written++;
      return 0;
    }
    return r < 0 ? r : -2;
  }

  emit(b: ByteBuilder, options: WriteOptions | null): i32 {
    return this.writePayload(b.ptr, b.len, options);
  }
}
