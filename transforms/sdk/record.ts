// The record model, mirroring Redpanda's JS SDK (docs/abi.md §12): an event carries a record whose key,
// value and header values are RecordData. Input RecordData are views into the SDK's read buffer and
// are valid only during the onRecordWritten callback (the JS SDK detaches them the same way);
// copy with .array().slice() or .text() to keep anything.
import { JsonResult, parseJson } from './json_value';

export class RecordData {
  ptr: usize = 0;
  len: i32 = 0;
  /** Keeps the memory alive when the data was made from a string or array. */
  owner: ArrayBuffer | null = null;

  static fromString(s: string): RecordData {
    const buf = String.UTF8.encode(s);
    return RecordData.fromBuffer(buf, 0, buf.byteLength);
  }

  static fromArray(a: Uint8Array): RecordData {
    return RecordData.fromBuffer(a.buffer, a.byteOffset, a.byteLength);
  }

  static fromBuffer(buf: ArrayBuffer, offset: i32, len: i32): RecordData {
    const d = new RecordData();
    d.owner = buf;
    d.ptr = changetype<usize>(buf) + <usize>offset;
    d.len = len;
    return d;
  }

  /** Points this view at raw memory (no copy). Used by the SDK loop and by allocation-free transforms. */
  set(ptr: usize, len: i32): RecordData {
    this.ptr = ptr;
    this.len = len;
    return this;
  }

  /** The bytes as a UTF-8 string. Invalid sequences never abort (they decode leniently). */
  text(): string {
    return String.UTF8.decodeUnsafe(this.ptr, <usize>this.len);
  }

  /** A copy of the bytes. */
  array(): Uint8Array {
    const a = new Uint8Array(this.len);
    memory.copy(a.dataStart, this.ptr, <usize>this.len);
    return a;
  }

  /** Parses the bytes as JSON. Failure is a value (result.ok == false), never an abort. */
  json(): JsonResult {
    return parseJson(this.ptr, this.len);
  }

  /** True when the bytes equal the ASCII/UTF-8 string `s`. */
  equals(s: string): bool {
    if (String.UTF8.byteLength(s) != this.len) return false;
    const n = s.length;
    let p = this.ptr;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return this.text() == s;
      if (load<u8>(p++) != <u8>c) return false;
    }
    return true;
  }
}

export class RecordHeader {
  key: RecordData;
  value: RecordData | null;

  constructor(key: RecordData, value: RecordData | null) {
    this.key = key;
    this.value = value;
  }

  static of(key: string, value: string): RecordHeader {
    return new RecordHeader(RecordData.fromString(key), RecordData.fromString(value));
  }
}

/** A record to read or write. null key/value = Kafka null (a tombstone when the value is null). */
export class Record {
  key: RecordData | null = null;
  value: RecordData | null = null;
  headers: RecordHeader[] = [];

  /** The first header with this key, or null. */
  header(name: string): RecordHeader | null {
    for (let i = 0; i < this.headers.length; i++) {
      const h = unchecked(this.headers[i]);
      if (h.key.equals(name)) return h;
    }
    return null;
  }
}

/** The input record plus its position. */
export class WrittenRecord extends Record {
  offset: i64 = 0;
  timestamp: i64 = 0;
  attributes: u8 = 0;
}

export class OnRecordWrittenEvent {
  record: WrittenRecord = new WrittenRecord();
  /** The raw payload bytes as read_next_record returned them (docs/abi.md §5). */
  payload: RecordData = new RecordData();
  /** Where the payload's header_count varint starts, and how many bytes the read buffer holds. */
  headerCountPtr: usize = 0;
  bufferCapacity: i32 = 0;
}
