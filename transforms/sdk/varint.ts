// Zig-zag signed LEB128 varints, the Kafka record varint (docs/abi.md §0, §5): every length and count
// in an ABI buffer uses it, including header_count and the write-option topic length.
//
//   zigzag(n)  = (n << 1) ^ (n >> 63)          so 0,-1,1,-2,2 -> 0,1,2,3,4
//   byte       = 7 payload bits, low group first; high bit set = more bytes follow; at most 10 bytes
//
// Pure functions over raw memory; decoding never reads past `end` and reports failure instead.

/** Bytes needed to encode `value`. */
export function varintSize(value: i64): i32 {
  let v = <u64>((value << 1) ^ (value >> 63));
  let n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/** Encodes `value` at `ptr` (the caller reserved varintSize(value) bytes); returns bytes written. */
export function writeVarint(ptr: usize, value: i64): i32 {
  let v = <u64>((value << 1) ^ (value >> 63));
  let n = 0;
  while (v >= 0x80) {
    store<u8>(ptr + n++, <u8>(v | 0x80));
    v >>= 7;
  }
  store<u8>(ptr + n++, <u8>v);
  return n;
}

/** A read position over [pos, end) that turns malformed input into `ok = false`, never a trap. */
export class Reader {
  pos: usize = 0;
  end: usize = 0;
  ok: bool = true;

  reset(ptr: usize, len: i32): Reader {
    this.pos = ptr;
    this.end = ptr + <usize>len;
    this.ok = true;
    return this;
  }

  /** Decodes one varint; on truncation or more than 10 bytes sets ok = false and returns 0. */
  varint(): i64 {
    let result: u64 = 0;
    let shift: u64 = 0;
    let p = this.pos;
    const end = this.end;
    for (let i = 0; i < 10; i++) {
      if (p >= end) break;
      const b = <u64>load<u8>(p++);
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        this.pos = p;
        return <i64>(result >> 1) ^ -(<i64>(result & 1));
      }
      shift += 7;
    }
    this.ok = false;
    return 0;
  }

  /** Reads a length (-1 = null) and checks that many bytes remain; returns -1 for null, -2 on error. */
  sized(): i32 {
    const n = this.varint();
    if (!this.ok) return -2;
    if (n == -1) return -1;
    if (n < -1 || n > <i64>(this.end - this.pos)) {
      this.ok = false;
      return -2;
    }
    return <i32>n;
  }
}
