// Record payload codec (docs/abi.md §5): the tail of a Kafka v2 record that read_next_record returns and
// write_record takes, without length, attributes, timestamp delta and offset delta.
//
//   payload  := key_len:varint key:byte[key_len>0]  value_len:varint value:byte[value_len>0]
//               header_count:varint header*
//   header   := hkey_len:varint hkey:byte[..]  hval_len:varint hval:byte[..]
//   len -1   =  null (key, value, header value); 0 = empty
//
// decodePayload fills a DecodedPayload with offsets into the input buffer (no copies);
// encodePayload appends the same layout to a ByteBuilder.
import { ByteBuilder } from './builder';
import { Record, RecordData, RecordHeader } from './record';
import { Reader, varintSize, writeVarint } from './varint';

/** Offsets of one header inside a payload. valueLen -1 = null. */
export class HeaderSpan {
  keyPtr: usize = 0;
  keyLen: i32 = 0;
  valuePtr: usize = 0;
  valueLen: i32 = -1;
}

export class DecodedPayload {
  keyPtr: usize = 0;
  keyLen: i32 = -1;
  valuePtr: usize = 0;
  valueLen: i32 = -1;
  headerCount: i32 = 0;
  /** Where the header_count varint starts (RecordWriter.forward rewrites it in place). */
  headerCountPtr: usize = 0;
  /** Reused across records; only the first headerCount entries are meaningful. */
  headers: HeaderSpan[] = [];
}

const reader = new Reader();

/** Decodes [ptr, ptr+len) into `out`. Returns false on any malformation (nothing traps). */
export function decodePayload(ptr: usize, len: i32, out: DecodedPayload): bool {
  const r = reader.reset(ptr, len);
  out.keyLen = r.sized();
  if (!r.ok) return false;
  out.keyPtr = r.pos;
  if (out.keyLen > 0) r.pos += <usize>out.keyLen;
  out.valueLen = r.sized();
  if (!r.ok) return false;
  out.valuePtr = r.pos;
  if (out.valueLen > 0) r.pos += <usize>out.valueLen;
  out.headerCountPtr = r.pos;
  const count = r.varint();
  if (!r.ok || count < 0 || count > <i64>(r.end - r.pos)) return false;
  const n = <i32>count;
  const spans = out.headers;
  while (spans.length < n) spans.push(new HeaderSpan());
  for (let i = 0; i < n; i++) {
    const h = unchecked(spans[i]);
    h.keyLen = r.sized();
    if (!r.ok) return false;
    if (h.keyLen < 0) h.keyLen = 0; // the broker tolerates a null header key; treat it as empty
    h.keyPtr = r.pos;
    r.pos += <usize>h.keyLen;
    h.valueLen = r.sized();
    if (!r.ok) return false;
    h.valuePtr = r.pos;
    if (h.valueLen > 0) r.pos += <usize>h.valueLen;
  }
  out.headerCount = n;
  return r.pos == r.end;
}

function putData(b: ByteBuilder, d: RecordData | null): void {
  if (d === null) {
    b.varint(-1);
    return;
  }
  b.varint(d.len);
  b.bytes(d.ptr, d.len);
}

/** Appends header entries (without the count) to `out`. */
export function encodeHeaders(headers: RecordHeader[], out: ByteBuilder): ByteBuilder {
  for (let i = 0; i < headers.length; i++) {
    const h = unchecked(headers[i]);
    putData(out, h.key);
    putData(out, h.value);
  }
  return out;
}

/** Appends `record` as one payload (key, value, header count, headers) to `out`. */
export function encodePayload(record: Record, out: ByteBuilder): ByteBuilder {
  putData(out, record.key);
  putData(out, record.value);
  out.varint(record.headers.length);
  return encodeHeaders(record.headers, out);
}

function dataSize(d: RecordData | null): i32 {
  return d === null ? 1 : varintSize(d.len) + d.len;
}

function putDataAt(q: usize, d: RecordData | null): usize {
  if (d === null) return q + <usize>writeVarint(q, -1);
  q += <usize>writeVarint(q, d.len);
  if (d.len > 0) memory.copy(q, d.ptr, <usize>d.len);
  return q + <usize>d.len;
}

/**
 * Frames a value that was built in place, at [b.ptr + front, b.ptr + b.len), into one payload without
 * copying it: the key and the value's length go into the `front` bytes kept free before the value,
 * the header count and headers are appended after it. Returns the payload's start (it ends at
 * b.ptr + b.len), or 0 when the key does not fit in `front` (then nothing was changed).
 */
export function frameInPlace(
  b: ByteBuilder,
  front: i32,
  key: RecordData | null,
  headers: RecordHeader[],
): usize {
  const valueLen = b.len - front;
  const head = dataSize(key) + varintSize(valueLen);
  if (head > front) return 0;
  let tail = varintSize(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = unchecked(headers[i]);
    tail += dataSize(h.key) + dataSize(h.value);
  }
  let q = b.reserve(tail);
  q += <usize>writeVarint(q, headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = unchecked(headers[i]);
    q = putDataAt(q, h.key);
    q = putDataAt(q, h.value);
  }
  b.len += tail;
  const start = b.ptr + <usize>(front - head);
  const at = putDataAt(start, key);
  writeVarint(at, valueLen);
  return start;
}
