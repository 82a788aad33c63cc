// The main thread's half of the shared regions (layout in shared.ts): encoding an input batch into the
// input region and decoding the output region into OutputRecords. Both run once per record on the host's
// hot path, so they allocate nothing per record beyond what the caller receives: lengths are encoded with
// an inline one-byte fast path, header keys are encoded/decoded through small per-host caches (they repeat),
// and every key, value and header value handed back is a view into one per-batch copy of the region.

import { sameBytes } from './payload.ts';
import {
  growRegion,
  INPUT_HEADER_BYTES,
  OUTPUT_ENTRY_BYTES,
  RECORD_ENTRY_BYTES,
  type Region,
  regionBuffer,
  regionMax,
} from './shared.ts';
import type { InputBatch, OutputRecord } from './types.ts';
import { readVarint, type VarintRead, varintSize, writeVarint } from './varint.ts';

const TWO_32 = 4294967296;
const CACHE_ENTRIES = 32;
const CACHED_KEY_MAX_BYTES = 64;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fieldSize(bytes: Uint8Array | null): number {
  if (bytes === null) return 1;
  return varintSize(bytes.length) + bytes.length;
}

/** Header keys as strings <-> UTF-8 bytes, remembered for the few distinct keys a topic carries. */
export interface HeaderKeyCache {
  encode(key: string): Uint8Array;
  /** The key in `view` from `start` to `end`. */
  decode(view: DataView, start: number, end: number): string;
}

/** `bytes` as little-endian 32-bit words, the last one zero-padded (compared 4 bytes at a time). */
function wordsOf(bytes: Uint8Array): number[] {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    let w = 0;
    for (let j = 0; j < 4 && i + j < bytes.length; j++) w |= bytes[i + j]! << (8 * j);
    words.push(w);
  }
  return words;
}

function equalAt(view: DataView, start: number, n: number, words: number[]): boolean {
  let p = start;
  const full = start + (n & ~3);
  let k = 0;
  for (; p < full; p += 4) if (view.getInt32(p, true) !== words[k++]) return false;
  if (p === start + n) return true;
  let tail = 0;
  for (let s = 0; p < start + n; p++, s += 8) tail |= view.getUint8(p) << s;
  return tail === words[k];
}

export function createHeaderKeyCache(): HeaderKeyCache {
  const strings: string[] = [];
  const bytes: Uint8Array[] = [];
  const words: number[][] = [];
  /** The entry after the last one decoded: headers come in the same order record after record. */
  let hint = 0;
  return {
    encode(key) {
      for (let i = 0; i < strings.length; i++) if (strings[i] === key) return bytes[i]!;
      const b = encoder.encode(key);
      if (strings.length < CACHE_ENTRIES && b.length <= CACHED_KEY_MAX_BYTES) {
        strings.push(key);
        bytes.push(b);
        words.push(wordsOf(b));
      }
      return b;
    },
    decode(view, start, end) {
      const n = end - start;
      const count = strings.length;
      let i = hint < count ? hint : 0;
      for (let tried = 0; tried < count; tried++) {
        if (bytes[i]!.length === n && equalAt(view, start, n, words[i]!)) {
          hint = i + 1;
          return strings[i]!;
        }
        i = i + 1 === count ? 0 : i + 1;
      }
      const b = new Uint8Array(view.buffer.slice(view.byteOffset + start, view.byteOffset + end));
      const key = decoder.decode(b);
      // Only keys that encode back to these bytes (not invalid UTF-8): encode() hands cached bytes out.
      if (count < CACHE_ENTRIES && n <= CACHED_KEY_MAX_BYTES && sameBytes(encoder.encode(key), b)) {
        strings.push(key);
        bytes.push(b);
        words.push(wordsOf(b));
      }
      return key;
    },
  };
}

/**
 * Copies a value into the shared input region. V8 copies into a SharedArrayBuffer word by word only when
 * source and destination addresses are congruent mod 8 (byte by byte otherwise, ~3.5x slower for 1 KB), so
 * a value whose address is not goes through `bounce`, a small private buffer, at the destination's
 * address mod 8: one ordinary memcpy, then one word-by-word copy. A congruent one (a record value that owns
 * its buffer, laid out after a key whose field ends on a word boundary) is copied once.
 */
export interface Bounce {
  bytes: Uint8Array;
  /** bytes.buffer, kept: reading a view's .buffer is a call into the runtime. */
  buffer: ArrayBuffer;
}

export function createBounce(initialBytes = 1 << 12): Bounce {
  const buffer = new ArrayBuffer(initialBytes);
  return { bytes: new Uint8Array(buffer), buffer };
}

/** Writes a length-prefixed field straight into the region (`out` is a view of it from offset 0). */
function writeShared(out: Uint8Array, pos: number, bytes: Uint8Array | null, bounce: Bounce): number {
  if (bytes === null) return writeVarint(out, pos, -1);
  const n = bytes.length;
  pos = writeVarint(out, pos, n);
  if (n < 64) {
    for (let i = 0; i < n; i++) out[pos + i] = bytes[i]!;
    return pos + n;
  }
  const o = pos & 7;
  if (((bytes.byteOffset - o) & 7) === 0) {
    out.set(bytes, pos);
  } else {
    let b = bounce.bytes;
    if (b.length < n + 8) {
      const buffer = new ArrayBuffer(Math.max(n + 8, b.length * 2));
      b = new Uint8Array(buffer);
      bounce.bytes = b;
      bounce.buffer = buffer;
    }
    b.set(bytes, o);
    out.set(new Uint8Array(bounce.buffer, o, n), pos);
  }
  return pos + n;
}

/**
 * Writes `batch` into the input region (growing it when needed). Returns false when the batch does not fit
 * the region's maximum size. `align` is the guest read buffer's address mod 8.
 */
export function encodeBatch(
  input: Region,
  batch: InputBatch,
  keys: HeaderKeyCache,
  align: number,
  bounce: Bounce,
): boolean {
  const max = regionMax(input);
  // Fixed-length views (re-made when the region grows): views that track a growable buffer's length ask
  // the runtime for it at every access.
  let sab = regionBuffer(input);
  let bytes = new Uint8Array(sab, 0, sab.byteLength);
  let view = new DataView(sab, 0, sab.byteLength);
  let pos = INPUT_HEADER_BYTES;
  let maxPayload = 0;
  let maxTs = Number.NEGATIVE_INFINITY;
  const records = batch.records;
  const count = records.length;
  for (let r = 0; r < count; r++) {
    const record = records[r]!;
    const headers = record.headers;
    const headerCount = headers.length;
    let size = fieldSize(record.key) + fieldSize(record.value) + varintSize(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const header = headers[h]!;
      size += fieldSize(keys.encode(header.key)) + fieldSize(header.value);
    }
    const pad = (align - (pos + RECORD_ENTRY_BYTES)) & 7; // payload ≡ guest buffer mod 8 (shared.ts)
    const need = pos + RECORD_ENTRY_BYTES + pad + size;
    if (need > bytes.length) {
      if (need > max || !growRegion(input, need)) return false;
      sab = regionBuffer(input);
      bytes = new Uint8Array(sab, 0, sab.byteLength);
      view = new DataView(sab, 0, sab.byteLength);
    }
    view.setBigInt64(pos, record.offset, true);
    const ts = record.timestamp;
    view.setUint32(pos + 8, (ts % TWO_32) >>> 0, true);
    view.setInt32(pos + 12, Math.floor(ts / TWO_32), true);
    view.setInt32(pos + 16, 0, true);
    view.setInt32(pos + 20, size, true);
    view.setInt32(pos + 24, pad, true);
    let p = writeShared(bytes, pos + RECORD_ENTRY_BYTES + pad, record.key, bounce);
    p = writeShared(bytes, p, record.value, bounce);
    p = writeVarint(bytes, p, headerCount);
    for (let h = 0; h < headerCount; h++) {
      const header = headers[h]!;
      p = writeShared(bytes, p, keys.encode(header.key), bounce);
      p = writeShared(bytes, p, header.value, bounce);
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
  view.setInt32(60, pos, true); // bytes used: the worker reads this far (shared.ts regionBuffer)
  return true;
}

/**
 * Node's uninitialised allocation (Buffer.allocUnsafeSlow): a fresh zero-filled buffer of the output
 * region's size (~1 MB per 1000 records) costs more than copying into it. The bytes a batch uses are
 * overwritten by the copy before anyone sees them, the rest is zeroed. Runtimes without it zero-fill.
 */
const allocUnsafe = (globalThis as { Buffer?: { allocUnsafeSlow?(size: number): Uint8Array } }).Buffer
  ?.allocUnsafeSlow;

const MIN_OUTPUT_BUFFER = 64 * 1024;
/** Larger copies are not kept for reuse (a batch of 1000 ~1 KB outputs needs 2 MiB). */
const MAX_POOLED_BUFFER = 8 * 1024 * 1024;

/**
 * Where the private copies of output regions go. A copy into memory that was just used (and released)
 * is still in the CPU's cache; a fresh allocation for every batch is not, and writing ~100 KB into
 * memory the cache has never seen cost about twice the copy itself (~20 us per batch of 100 records,
 * a fifth of a microsecond per record). Buffers come back only through BatchResult.release(): one that
 * is never released is garbage-collected as before.
 */
export interface OutputBuffers {
  /** A buffer of at least `length` bytes (whatever it held before is overwritten by the copy). */
  take(length: number): ArrayBuffer;
  /** `buffer` may be handed out again: nobody reads the views into it any more. */
  give(buffer: ArrayBuffer): void;
}

export function createOutputBuffers(keep: number): OutputBuffers {
  const free: ArrayBuffer[] = [];
  return {
    take(length) {
      for (let i = free.length - 1; i >= 0; i--) {
        const b = free[i]!;
        if (b.byteLength >= length) {
          free[i] = free[free.length - 1]!;
          free.pop();
          return b;
        }
      }
      let size = MIN_OUTPUT_BUFFER;
      while (size < length) size *= 2;
      if (allocUnsafe === undefined) return new ArrayBuffer(size);
      const b = allocUnsafe(size); // its own ArrayBuffer, from offset 0 (not Node's small-buffer pool)
      // Views into it reach the whole buffer (.buffer): no uninitialised bytes past what the copy writes.
      b.fill(0, length);
      return b.buffer as ArrayBuffer;
    },
    give(buffer) {
      if (buffer.byteLength > MAX_POOLED_BUFFER) return;
      if (free.length < keep) {
        free.push(buffer);
        return;
      }
      // Full: keep the larger one (batch sizes change; small buffers fit fewer of them).
      let smallest = 0;
      for (let i = 1; i < free.length; i++)
        if (free[i]!.byteLength < free[smallest]!.byteLength) smallest = i;
      if (free[smallest]!.byteLength < buffer.byteLength) free[smallest] = buffer;
    },
  };
}

/** One private copy of the first `length` bytes of the output region (decodeOutputs returns views into it). */
export function copyOutputRegion(output: Region, length: number, buffers: OutputBuffers): Uint8Array {
  // The worker may have grown it: regionBuffer() is read after the batch ended (C_DONE_SEQ), and made to
  // show `length` bytes if this thread has not caught up with that growth yet.
  const used = new Uint8Array(regionBuffer(output, length), 0, length);
  const copy = new Uint8Array(buffers.take(length), 0, length); // a plain Uint8Array, not a Buffer
  copy.set(used);
  return copy;
}

const scratch: VarintRead = { value: 0, pos: 0 };

/** A length (validated by the worker, §5) at `at`, or a thrown error; `scratch.pos` is the position after it. */
function lengthAt(buf: Uint8Array, at: number, end: number): number {
  const r = readVarint(buf, at, end, scratch);
  if (r.pos < 0 || r.value < -1) throw new RangeError('malformed record payload');
  return r.value;
}

const malformed = () => new RangeError('malformed record payload');

/**
 * Decodes `count` output entries from `bytes` (a private copy of the used output region): every key, value
 * and header value is a view into `bytes` (payloads validated by the worker, §5; a malformed one throws).
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
  // One loop with the position in a local: each length is read by lengthAt (varint.ts, whose one-byte
  // fast path is inlined), which leaves the next position in scratch.pos.
  for (let i = 0; i < count; i++) {
    const topic = topics[view.getInt32(pos, true)]!;
    let at = pos + OUTPUT_ENTRY_BYTES + view.getInt32(pos + 8, true);
    const end = at + view.getInt32(pos + 4, true);
    let n = lengthAt(bytes, at, end);
    at = scratch.pos;
    let key: Uint8Array | null = null;
    if (n >= 0) {
      if (at + n > end) throw malformed();
      key = new Uint8Array(ab, base + at, n);
      at += n;
    }
    n = lengthAt(bytes, at, end);
    at = scratch.pos;
    let value: Uint8Array | null = null;
    if (n >= 0) {
      if (at + n > end) throw malformed();
      value = new Uint8Array(ab, base + at, n);
      at += n;
    }
    const headerCount = lengthAt(bytes, at, end);
    at = scratch.pos;
    const headers: OutputRecord['headers'] = headerCount > 0 ? new Array(headerCount) : [];
    for (let h = 0; h < headerCount; h++) {
      n = lengthAt(bytes, at, end);
      at = scratch.pos;
      const start = at;
      if (n > 0) at += n;
      if (at > end) throw malformed();
      const hkey = n <= 0 ? '' : keys.decode(view, start, at);
      n = lengthAt(bytes, at, end);
      at = scratch.pos;
      let hvalue: Uint8Array | null = null;
      if (n >= 0) {
        if (at + n > end) throw malformed();
        hvalue = new Uint8Array(ab, base + at, n);
        at += n;
      }
      headers[h] = { key: hkey, value: hvalue };
    }
    outputs.push({ topic, key, value, headers });
    pos = end;
  }
  return outputs;
}
