// The main thread's half of the shared regions (layout in shared.ts): encoding an input batch into the
// input region and decoding the output region into OutputRecords. Both run once per record on the host's
// hot path, so they allocate nothing per record beyond what the caller receives: lengths are encoded with
// an inline one-byte fast path, header keys are encoded/decoded through small per-host caches (they repeat),
// and every key, value and header value handed back is a view into one per-batch copy of the region.
import { growShared, INPUT_HEADER_BYTES, OUTPUT_ENTRY_BYTES, RECORD_ENTRY_BYTES } from './shared.ts';
import type { InputBatch, OutputRecord } from './types.ts';
import { readVarint, type VarintRead, varintSize, writeVarint } from './varint.ts';

const TWO_32 = 4294967296;
const CACHE_ENTRIES = 32;
const CACHED_KEY_MAX_BYTES = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fieldSize(bytes: Uint8Array | null): number {
  if (bytes === null) return 1;
  const n = bytes.length;
  return (n < 64 ? 1 : varintSize(n)) + n;
}

/** Writes a length-prefixed field (-1 = null); zig-zag of 0..63 is one byte (2n). */
function writeField(out: Uint8Array, pos: number, bytes: Uint8Array | null): number {
  if (bytes === null) {
    out[pos] = 1;
    return pos + 1;
  }
  const n = bytes.length;
  if (n < 64) {
    out[pos++] = n * 2;
    for (let i = 0; i < n; i++) out[pos + i] = bytes[i]!;
    return pos + n;
  }
  pos = writeVarint(out, pos, n);
  out.set(bytes, pos);
  return pos + n;
}

/** Header keys as strings <-> UTF-8 bytes, remembered for the few distinct keys a topic carries. */
export interface HeaderKeyCache {
  encode(key: string): Uint8Array;
  decode(buf: Uint8Array, start: number, end: number): string;
}

export function createHeaderKeyCache(): HeaderKeyCache {
  const strings: string[] = [];
  const bytes: Uint8Array[] = [];
  return {
    encode(key) {
      for (let i = 0; i < strings.length; i++) if (strings[i] === key) return bytes[i]!;
      const b = encoder.encode(key);
      if (strings.length < CACHE_ENTRIES && b.length <= CACHED_KEY_MAX_BYTES) {
        strings.push(key);
        bytes.push(b);
      }
      return b;
    },
    decode(buf, start, end) {
      const n = end - start;
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!;
        if (b.length !== n) continue;
        let j = 0;
        while (j < n && b[j] === buf[start + j]) j++;
        if (j === n) return strings[i]!;
      }
      const b = buf.slice(start, end);
      const key = decoder.decode(b);
      if (bytes.length < CACHE_ENTRIES && n <= CACHED_KEY_MAX_BYTES) {
        strings.push(key);
        bytes.push(b);
      }
      return key;
    },
  };
}

/**
 * A private, ordinary buffer the batch is encoded into before one copy into the shared input region: V8
 * copies into a SharedArrayBuffer word by word only when source and destination are congruent mod 8, which
 * record values (views at any offset of a fetch response) rarely are, and the single copy at offset 0 is.
 */
export interface Staging {
  bytes: Uint8Array;
  view: DataView;
}

export function createStaging(initialBytes = 1 << 16): Staging {
  const bytes = new Uint8Array(initialBytes);
  return { bytes, view: new DataView(bytes.buffer) };
}

function growStaging(stage: Staging, used: number, atLeast: number): void {
  const bytes = new Uint8Array(Math.max(atLeast, stage.bytes.length * 2));
  bytes.set(stage.bytes.subarray(0, used));
  stage.bytes = bytes;
  stage.view = new DataView(bytes.buffer);
}

/**
 * Writes `batch` into the input region (growing it when needed), through `stage`. Returns false when the
 * batch does not fit the region's maximum size. `align` is the guest read buffer's address mod 8.
 */
export function encodeBatch(
  input: SharedArrayBuffer,
  batch: InputBatch,
  keys: HeaderKeyCache,
  align: number,
  stage: Staging,
): boolean {
  const max = (input as unknown as { maxByteLength: number }).maxByteLength;
  let bytes = stage.bytes;
  let view = stage.view;
  let pos = INPUT_HEADER_BYTES;
  let maxPayload = 0;
  let maxTs = Number.NEGATIVE_INFINITY;
  const records = batch.records;
  const count = records.length;
  for (let r = 0; r < count; r++) {
    const record = records[r]!;
    const headers = record.headers;
    const headerCount = headers.length;
    let size =
      fieldSize(record.key) + fieldSize(record.value) + (headerCount < 64 ? 1 : varintSize(headerCount));
    for (let h = 0; h < headerCount; h++) {
      const header = headers[h]!;
      size += fieldSize(keys.encode(header.key)) + fieldSize(header.value);
    }
    const pad = (align - (pos + RECORD_ENTRY_BYTES)) & 7; // payload ≡ guest buffer mod 8 (shared.ts)
    const need = pos + RECORD_ENTRY_BYTES + pad + size;
    if (need > bytes.length) {
      if (need > max) return false;
      growStaging(stage, pos, need);
      bytes = stage.bytes;
      view = stage.view;
    }
    view.setBigInt64(pos, record.offset, true);
    const ts = record.timestamp;
    view.setUint32(pos + 8, (ts % TWO_32) >>> 0, true);
    view.setInt32(pos + 12, Math.floor(ts / TWO_32), true);
    view.setInt32(pos + 16, 0, true);
    view.setInt32(pos + 20, size, true);
    view.setInt32(pos + 24, pad, true);
    let p = writeField(bytes, pos + RECORD_ENTRY_BYTES + pad, record.key);
    p = writeField(bytes, p, record.value);
    p = writeVarint(bytes, p, headerCount);
    for (let h = 0; h < headerCount; h++) {
      const header = headers[h]!;
      p = writeField(bytes, p, keys.encode(header.key));
      p = writeField(bytes, p, header.value);
    }
    pos = need;
    if (size > maxPayload) maxPayload = size;
    if (ts > maxTs) maxTs = ts;
  }
  const first = records[0]!;
  const last = records[count - 1]!;
  view.setBigInt64(0, batch.baseOffset, true);
  view.setInt32(8, count, true);
  view.setInt32(12, maxPayload, true);
  view.setInt32(16, batch.partitionLeaderEpoch ?? 0, true);
  view.setInt32(20, 0, true); // attributes: create_time, uncompressed (§2.6)
  view.setInt32(24, Number(last.offset - batch.baseOffset), true);
  view.setInt32(28, batch.producerEpoch ?? -1, true);
  view.setBigInt64(32, BigInt(Math.trunc(first.timestamp)), true);
  view.setBigInt64(40, BigInt(Math.trunc(maxTs)), true);
  view.setBigInt64(48, batch.producerId ?? -1n, true);
  view.setInt32(56, batch.baseSequence ?? -1, true);
  if (!growShared(input, pos)) return false;
  new Uint8Array(input, 0, pos).set(bytes.subarray(0, pos));
  return true;
}

/**
 * Node's uninitialised allocation (Buffer.allocUnsafeSlow): a fresh zero-filled buffer of the output
 * region's size (~1 MB per 1000 records) costs more than copying into it. Every byte of it is overwritten
 * by the copy below before anyone sees it. Runtimes without it (web Workers elsewhere) zero-fill.
 */
const allocUnsafe = (globalThis as { Buffer?: { allocUnsafeSlow?(size: number): Uint8Array } }).Buffer
  ?.allocUnsafeSlow;

/** One private copy of the first `length` bytes of the output region (decodeOutputs returns views into it). */
export function copyOutputRegion(output: SharedArrayBuffer, length: number): Uint8Array {
  const used = new Uint8Array(output, 0, length);
  if (allocUnsafe === undefined) return used.slice();
  const b = allocUnsafe(length);
  const copy = new Uint8Array(b.buffer, b.byteOffset, length); // a plain Uint8Array, not a Buffer
  copy.set(used);
  return copy;
}

const scratch: VarintRead = { value: 0, pos: 0 };
let at = 0;

/** Reads a length (validated by the worker, §5) at `at`; advances `at`. One byte covers -64..63. */
function readLength(buf: Uint8Array, end: number): number {
  const b = at < end ? buf[at]! : 0x80;
  if (b < 0x80) {
    at++;
    return b & 1 ? -((b + 1) >>> 1) : b >>> 1;
  }
  const r = readVarint(buf, at, end, scratch);
  if (r.pos < 0 || r.value < -1) throw new RangeError('malformed record payload');
  at = r.pos;
  return r.value;
}

/** A view of the field at `at` (null for length -1); `base` is bytes' offset in its buffer. */
function field(buf: Uint8Array, ab: ArrayBuffer, base: number, end: number): Uint8Array | null {
  const n = readLength(buf, end);
  if (n < 0) return null;
  const start = at;
  at += n;
  if (at > end) throw new RangeError('malformed record payload');
  // new Uint8Array(buffer, offset, length) is cheaper than subarray (no species lookup).
  return new Uint8Array(ab, base + start, n);
}

/**
 * Decodes `count` output entries from `bytes` (a private copy of the used output region): every key, value
 * and header value is a view into `bytes`.
 */
export function decodeOutputs(
  bytes: Uint8Array,
  count: number,
  topics: readonly string[],
  keys: HeaderKeyCache,
): OutputRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ab = bytes.buffer as ArrayBuffer;
  const base = bytes.byteOffset;
  const outputs: OutputRecord[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const topic = topics[view.getInt32(pos, true)]!;
    at = pos + OUTPUT_ENTRY_BYTES + view.getInt32(pos + 8, true);
    const end = at + view.getInt32(pos + 4, true);
    const key = field(bytes, ab, base, end);
    const value = field(bytes, ab, base, end);
    const headerCount = readLength(bytes, end);
    const headers: OutputRecord['headers'] = [];
    for (let h = 0; h < headerCount; h++) {
      const n = readLength(bytes, end);
      const start = at;
      if (n > 0) at += n;
      if (at > end) throw new RangeError('malformed record payload');
      const hkey = n <= 0 ? '' : keys.decode(bytes, start, at);
      headers.push({ key: hkey, value: field(bytes, ab, base, end) });
    }
    outputs.push({ topic, key, value, headers });
    pos = end;
  }
  return outputs;
}
