// Zig-zag signed LEB128 varints, the Kafka record varint used in every ABI buffer (docs/abi.md §0, §5).
// Lengths fit in 32 bits, so the hot paths use numbers; decoding accepts up to 10 bytes as the broker does.

/** Bytes needed to encode `value` (a safe integer) as a zig-zag varint. */
export function varintSize(value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `value` at `pos`, returns the position after it. The caller made room (varintSize). */
export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  while (v >= 0x80) {
    out[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

/** Result of a decode: the value and the position after it, or `pos = -1` when truncated/over-long. */
export interface VarintRead {
  value: number;
  pos: number;
}

/**
 * Reads a zig-zag varint from `buf[pos..end)`. Returns pos = -1 if the bytes run out or the varint is
 * longer than 10 bytes. Values beyond 2^53 lose precision; every caller compares them with small bounds.
 * Most lengths are one byte (-64..63): that case is decoded here, small enough to be inlined into the
 * callers' loops; longer ones go through readLongVarint.
 */
export function readVarint(buf: Uint8Array, pos: number, end: number, out: VarintRead): VarintRead {
  const b = pos < end ? buf[pos]! : 0x80;
  if (b < 0x80) {
    out.value = b & 1 ? -((b + 1) >>> 1) : b >>> 1; // zig-zag: even -> positive, odd -> negative
    out.pos = pos + 1;
    return out;
  }
  return readLongVarint(buf, pos, end, out);
}

function readLongVarint(buf: Uint8Array, pos: number, end: number, out: VarintRead): VarintRead {
  let raw = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) {
      out.pos = -1;
      return out;
    }
    const b = buf[pos++]!;
    raw += (b & 0x7f) * mul;
    if (b < 0x80) {
      // zig-zag: even -> positive, odd -> negative
      out.value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      out.pos = pos;
      return out;
    }
    mul *= 128;
  }
  out.pos = -1;
  return out;
}
