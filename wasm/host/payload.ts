// Record payload codec (docs/abi.md §5): the tail of a Kafka v2 record, as read_next_record returns it and
// write_record takes it.
//
//   payload := key_len:varint key:byte[key_len>0]  value_len:varint value:byte[value_len>0]
//              header_count:varint header*
//   header  := hkey_len:varint hkey:byte[..]  hval_len:varint hval:byte[..]
//   len -1 = null (key, value, header value; tolerated for header keys), 0 = empty.
import { readVarint, type VarintRead, varintSize, writeVarint } from './varint.ts';

export interface PayloadRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Array<{ key: string; value: Uint8Array | null }>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Header keys are short and ASCII in practice: String.fromCharCode is several times cheaper there. */
function headerKey(bytes: Uint8Array): string {
  if (bytes.length > 64) return decoder.decode(bytes);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return decoder.decode(bytes);
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function fieldSize(bytes: Uint8Array | null): number {
  return bytes === null ? 1 : varintSize(bytes.length) + bytes.length;
}

function writeField(out: Uint8Array, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) return writeVarint(out, pos, -1);
  pos = writeVarint(out, pos, bytes.length);
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** Byte-for-byte equality (header keys, topic names: short). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Encoded size of a record's payload; `headerKeys` are the UTF-8 header keys. */
export function payloadSize(record: PayloadRecord, headerKeys: Uint8Array[]): number {
  let n = fieldSize(record.key) + fieldSize(record.value) + varintSize(record.headers.length);
  for (let i = 0; i < record.headers.length; i++) {
    n += fieldSize(headerKeys[i]!) + fieldSize(record.headers[i]!.value);
  }
  return n;
}

export function headerKeyBytes(record: PayloadRecord): Uint8Array[] {
  return record.headers.map((h) => encoder.encode(h.key));
}

/** Writes the payload into `out` at `pos`; returns the end position. `out` must have payloadSize bytes. */
export function writePayload(
  out: Uint8Array,
  pos: number,
  record: PayloadRecord,
  headerKeys: Uint8Array[],
): number {
  pos = writeField(out, pos, record.key);
  pos = writeField(out, pos, record.value);
  pos = writeVarint(out, pos, record.headers.length);
  for (let i = 0; i < record.headers.length; i++) {
    pos = writeField(out, pos, headerKeys[i]!);
    pos = writeField(out, pos, record.headers[i]!.value);
  }
  return pos;
}

export function encodePayload(record: PayloadRecord): Uint8Array {
  const keys = headerKeyBytes(record);
  const out = new Uint8Array(payloadSize(record, keys));
  writePayload(out, 0, record, keys);
  return out;
}

const scratch: VarintRead = { value: 0, pos: 0 };

/** Skips one length-prefixed field; returns the position after it or -1 when malformed. */
function skipField(buf: Uint8Array, pos: number, end: number): number {
  const r = readVarint(buf, pos, end, scratch);
  if (r.pos < 0 || r.value < -1) return -1;
  const len = Math.max(r.value, 0);
  if (r.pos + len > end) return -1;
  return r.pos + len;
}

/**
 * The broker's validate_record_payload (docs/abi.md §3 write_record, §5): true when buf[start..end) is exactly
 * one payload: no length < -1, no negative header count, no truncation, no trailing bytes.
 */
export function isValidPayload(buf: Uint8Array, start: number, end: number): boolean {
  let pos = skipField(buf, start, end);
  if (pos < 0) return false;
  pos = skipField(buf, pos, end);
  if (pos < 0) return false;
  const r = readVarint(buf, pos, end, scratch);
  if (r.pos < 0 || r.value < 0) return false;
  const count = r.value;
  pos = r.pos;
  for (let i = 0; i < count; i++) {
    pos = skipField(buf, pos, end);
    if (pos < 0) return false;
    pos = skipField(buf, pos, end);
    if (pos < 0) return false;
  }
  return pos === end;
}

function readField(buf: Uint8Array, pos: number, end: number, copy: boolean): [Uint8Array | null, number] {
  const r = readVarint(buf, pos, end, scratch);
  if (r.pos < 0 || r.value < -1) throw new RangeError('malformed record payload');
  if (r.value === -1) return [null, r.pos];
  const stop = r.pos + r.value;
  if (stop > end) throw new RangeError('malformed record payload');
  return [copy ? buf.slice(r.pos, stop) : buf.subarray(r.pos, stop), stop];
}

/** Decodes a payload (already validated). With copy=false the fields are views into `buf`. */
export function decodePayload(buf: Uint8Array, start = 0, end = buf.length, copy = true): PayloadRecord {
  const [key, afterKey] = readField(buf, start, end, copy);
  const [value, afterValue] = readField(buf, afterKey, end, copy);
  let pos = afterValue;
  const r = readVarint(buf, pos, end, scratch);
  if (r.pos < 0 || r.value < 0) throw new RangeError('malformed record payload');
  const count = r.value;
  pos = r.pos;
  const headers: PayloadRecord['headers'] = [];
  for (let i = 0; i < count; i++) {
    const [hkey, afterHkey] = readField(buf, pos, end, false);
    const [hval, afterHval] = readField(buf, afterHkey, end, copy);
    pos = afterHval;
    headers.push({ key: hkey === null ? '' : headerKey(hkey), value: hval });
  }
  return { key, value, headers };
}
