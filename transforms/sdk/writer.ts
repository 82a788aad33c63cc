// RecordWriter: encodes an output record into a reused buffer (ABI.md §5) and emits it through the
// ABI table. Unlike the JS SDK it never throws: write() returns 0 or the ABI's negative error code,
// so the transform decides what a refused write means (AssemblyScript cannot catch).
import { Abi } from './abi_types';
import { ByteBuilder } from './builder';
import { WriteOptions } from './options';
import { Record, RecordData } from './record';

export class RecordWriter {
  abi: Abi;
  out: ByteBuilder = new ByteBuilder(4096);
  written: i64 = 0;

  constructor(abi: Abi) {
    this.abi = abi;
  }

  /** Writes `record` to the default output topic, or to options.topic. Returns 0 or an ABI error (< 0). */
  write(record: Record, options: WriteOptions | null = null): i32 {
    const b = this.out.reset();
    putData(b, record.key);
    putData(b, record.value);
    const headers = record.headers;
    const n = headers.length;
    b.varint(n);
    for (let i = 0; i < n; i++) {
      const h = unchecked(headers[i]);
      putData(b, h.key);
      putData(b, h.value);
    }
    return this.emit(b, options);
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

function putData(b: ByteBuilder, d: RecordData | null): void {
  if (d === null) {
    b.varint(-1);
    return;
  }
  b.varint(d.len);
  b.bytes(d.ptr, d.len);
}
