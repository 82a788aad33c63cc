// A small set of byte strings (enum values, facility codes) matched without a byte loop per
// candidate: each is keyed by its length and its first eight bytes as one u64, so a lookup is a few
// integer compares (names longer than eight bytes compare their rest only when the head matches).
import { bytesEq } from '../sdk/json';

/** The first min(n, 8) bytes at s, little-endian, zero above n. */
export function head(s: usize, n: i32): u64 {
  if (n >= 8) return load<u64>(s);
  let v: u64 = 0;
  let i = 0;
  if (n >= 4) {
    v = <u64>load<u32>(s);
    i = 4;
  }
  for (; i < n; i++) v |= (<u64>load<u8>(s + <usize>i)) << (<u64>(i << 3));
  return v;
}

/** head(s, n) when 8 bytes from s are known readable (below `limit`): one load and a mask. */
export function headWithin(s: usize, n: i32, limit: usize): u64 {
  if (n >= 8) return load<u64>(s);
  if (s + 8 > limit) return head(s, n);
  return load<u64>(s) & (((<u64>1) << (<u64>(n << 3))) - 1);
}

export class CodeTable {
  values: ArrayBuffer[];
  lens: StaticArray<i32>;
  heads: StaticArray<u64>;

  constructor(values: ArrayBuffer[]) {
    this.values = values;
    const n = values.length;
    this.lens = new StaticArray<i32>(n);
    this.heads = new StaticArray<u64>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      this.lens[i] = v.byteLength;
      this.heads[i] = head(changetype<usize>(v), v.byteLength);
    }
  }

  /** The index of the value equal to [s, s+n), or -1 (n < 0 never matches). */
  find(s: usize, n: i32): i32 {
    if (n < 0) return -1;
    const h = head(s, n);
    const count = this.lens.length;
    for (let i = 0; i < count; i++) {
      if (unchecked(this.lens[i]) != n || unchecked(this.heads[i]) != h) continue;
      if (n <= 8 || bytesEq(s + 8, changetype<usize>(unchecked(this.values[i])) + 8, n - 8)) return i;
    }
    return -1;
  }
}
