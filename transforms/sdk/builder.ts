// A growable byte buffer for building output payloads and JSON without per-record allocation:
// the backing ArrayBuffer is kept between records and only grows (doubling) when a record needs it.
import { varintSize, writeVarint } from './varint';

const HEX: string = '0123456789abcdef';

/**
 * Copies n bytes (non-overlapping). Short copies inline (memory.copy is a call out): 8 bytes at a
 * time and the last 8 as one overlapping move; below 8 bytes two overlapping moves of 4 or 2. No
 * byte loop, and nothing read or written outside [src, src+n) and [dst, dst+n).
 */
export function copyBytes(dst: usize, src: usize, n: i32): void {
  if (n >= 8) {
    if (n > 128) {
      memory.copy(dst, src, <usize>n);
      return;
    }
    const last = <usize>(n - 8);
    for (let i: usize = 0; i < last; i += 8) store<u64>(dst + i, load<u64>(src + i));
    store<u64>(dst + last, load<u64>(src + last));
    return;
  }
  if (n >= 4) {
    store<u32>(dst, load<u32>(src));
    store<u32>(dst + <usize>(n - 4), load<u32>(src + <usize>(n - 4)));
    return;
  }
  if (n >= 2) {
    store<u16>(dst, load<u16>(src));
    store<u16>(dst + <usize>(n - 2), load<u16>(src + <usize>(n - 2)));
    return;
  }
  if (n == 1) store<u8>(dst, load<u8>(src));
}

/**
 * A prepared constant (a key, a JSON fragment) zero-padded to at least PADDED_MIN bytes and to a
 * multiple of 8, so put() copies it in whole words: no branch on its length below PADDED_MIN.
 */
export const PADDED_MIN: i32 = 24;

export class Padded {
  buf: ArrayBuffer;
  len: i32;

  constructor(bytes: ArrayBuffer) {
    const n = bytes.byteLength;
    this.len = n;
    this.buf = new ArrayBuffer(max(PADDED_MIN, (n + 7) & ~7));
    memory.copy(changetype<usize>(this.buf), changetype<usize>(bytes), <usize>n);
  }

  /**
   * Writes the constant at q and returns q + its length. It stores its padding too: up to
   * max(PADDED_MIN, len + 7) bytes from q must be writable (bytes after the returned position are
   * scratch that the next writes overwrite). Inlined: it is a few moves.
   */
  @inline
  put(q: usize): usize {
    const s = changetype<usize>(this.buf);
    const n = this.len;
    store<u64>(q, load<u64>(s));
    store<u64>(q + 8, load<u64>(s + 8));
    store<u64>(q + 16, load<u64>(s + 16));
    if (n > PADDED_MIN) paddedRest(q, s, n);
    return q + <usize>n;
  }
}

function paddedRest(q: usize, s: usize, n: i32): void {
  for (let i: usize = 24; i < <usize>n; i += 8) store<u64>(q + i, load<u64>(s + i));
}

/** Writes the bytes of a prepared buffer at q; returns the position after them. */
export function putRaw(q: usize, b: ArrayBuffer): usize {
  const n = b.byteLength;
  copyBytes(q, changetype<usize>(b), n);
  return q + <usize>n;
}

const POW10_U64: StaticArray<u64> = [
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000, 100000000000,
  1000000000000, 10000000000000, 100000000000000, 1000000000000000, 10000000000000000, 100000000000000000,
  1000000000000000000, 10000000000000000000,
];

// "00".."99" as little-endian pairs: two digits with one load and one store.
const DIGITS2 = new StaticArray<u16>(100);
for (let i = 0; i < 100; i++) DIGITS2[i] = <u16>((0x30 + i / 10) | ((0x30 + (i % 10)) << 8));

/** Two decimal digits of v (0..99) at q. */
export function put2(q: usize, v: u32): void {
  store<u16>(q, unchecked(DIGITS2[v]));
}

/** Writes v in decimal at q (at most 20 bytes); returns the position after it. */
export function putInt(q: usize, v: i64): usize {
  if (v < 0) {
    store<u8>(q++, 0x2d);
    if (v == i64.MIN_VALUE) {
      // -v does not fit an i64: its digits spelled out
      const s = '9223372036854775808';
      for (let i = 0; i < 19; i++) store<u8>(q + <usize>i, <u8>s.charCodeAt(i));
      return q + 19;
    }
    v = -v;
  }
  let u = <u64>v;
  // Digit count from the bit length (log10(2) ~ 1233 / 4096), corrected by one compare.
  const t = ((64 - <i32>clz(u | 1)) * 1233) >> 12;
  const n = t + 1 - <i32>((u | 1) < unchecked(POW10_U64[t]));
  const end = q + <usize>n;
  let at = end;
  while (u > 0xffffffff) {
    store<u8>(--at, <u8>(0x30 + (u % 10)));
    u /= 10;
  }
  // 32-bit division for the rest (most ids, offsets and LSNs fit), two digits per step
  let w = <u32>u;
  while (w >= 100) {
    at -= 2;
    put2(at, w % 100);
    w /= 100;
  }
  if (w >= 10) put2(at - 2, w);
  else store<u8>(at - 1, <u8>(0x30 + w));
  return end;
}

export class ByteBuilder {
  buf: ArrayBuffer;
  len: i32 = 0;

  constructor(initial: i32 = 1024) {
    this.buf = new ArrayBuffer(initial);
  }

  get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  reset(): ByteBuilder {
    this.len = 0;
    return this;
  }

  /** Makes room for `n` more bytes and returns the write position. */
  reserve(n: i32): usize {
    const need = this.len + n;
    let cap = this.buf.byteLength;
    if (need > cap) {
      while (cap < need) cap <<= 1;
      const next = new ArrayBuffer(cap);
      memory.copy(changetype<usize>(next), changetype<usize>(this.buf), <usize>this.len);
      this.buf = next;
    }
    return changetype<usize>(this.buf) + <usize>this.len;
  }

  byte(b: u8): ByteBuilder {
    const p = this.reserve(1);
    store<u8>(p, b);
    this.len++;
    return this;
  }

  bytes(ptr: usize, n: i32): ByteBuilder {
    if (n <= 0) return this;
    const p = this.reserve(n);
    copyBytes(p, ptr, n);
    this.len += n;
    return this;
  }

  /** Appends the bytes of a prepared buffer (e.g. a String.UTF8.encode'd constant). */
  raw(b: ArrayBuffer): ByteBuilder {
    return this.bytes(changetype<usize>(b), b.byteLength);
  }

  /** Appends a string as UTF-8 (lone surrogates become U+FFFD, as TextEncoder does). */
  str(s: string): ByteBuilder {
    const n = String.UTF8.byteLength(s);
    const p = this.reserve(n);
    this.len += <i32>(
      String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p, false, String.UTF8.ErrorMode.REPLACE)
    );
    return this;
  }

  varint(v: i64): ByteBuilder {
    const p = this.reserve(varintSize(v));
    this.len += writeVarint(p, v);
    return this;
  }

  /** Appends a non-negative or negative integer in decimal. */
  int(v: i64): ByteBuilder {
    const p = this.reserve(20);
    this.len += <i32>(putInt(p, v) - p);
    return this;
  }

  /** Zero-padded unsigned decimal of exactly `width` digits (for timestamps). */
  padded(v: i64, width: i32): ByteBuilder {
    const p = this.reserve(width);
    let u = <u64>(v < 0 ? -v : v);
    for (let i = width - 1; i >= 0; i--) {
      store<u8>(p + i, <u8>(0x30 + (u % 10)));
      u /= 10;
    }
    this.len += width;
    return this;
  }

  /** A JSON string literal from UTF-8 bytes that are already valid: escapes ", \ and controls. */
  jsonString(ptr: usize, n: i32): ByteBuilder {
    const p0 = this.reserve(n * 6 + 2);
    let p = p0;
    store<u8>(p++, 0x22);
    for (let i = 0; i < n; i++) {
      const c = load<u8>(ptr + i);
      if (c == 0x22 || c == 0x5c) {
        store<u8>(p++, 0x5c);
        store<u8>(p++, c);
      } else if (c < 0x20) {
        store<u8>(p++, 0x5c);
        store<u8>(p++, 0x75);
        store<u8>(p++, 0x30);
        store<u8>(p++, 0x30);
        store<u8>(p++, <u8>HEX.charCodeAt(c >> 4));
        store<u8>(p++, <u8>HEX.charCodeAt(c & 15));
      } else {
        store<u8>(p++, c);
      }
    }
    store<u8>(p++, 0x22);
    this.len += <i32>(p - p0);
    return this;
  }

  /** A JSON string literal from an AS string. */
  jsonStr(s: string): ByteBuilder {
    const start = this.len;
    this.str(s);
    const n = this.len - start;
    // Copy out the raw bytes then re-append escaped (strings here are short).
    const tmp = new ArrayBuffer(n);
    memory.copy(changetype<usize>(tmp), this.ptr + <usize>start, <usize>n);
    this.len = start;
    return this.jsonString(changetype<usize>(tmp), n);
  }
}
