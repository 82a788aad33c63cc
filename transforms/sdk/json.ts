// A byte-level JSON scanner: validates RFC 8259 JSON straight from UTF-8 bytes and walks it without
// building strings or a value tree. It never reads outside [ptr, end) and never recurses, so
// hostile input (truncated, invalid UTF-8, deep nesting, huge fields) is a result, not a trap.
//
// Rules (the TypeScript contract side applies the same ones, see relay/contracts/verdict.ts):
//   - the bytes must be valid UTF-8 (as TextDecoder with fatal: true; a BOM is not whitespace);
//   - the text must be one JSON value as JSON.parse accepts it (whitespace = space, tab, LF, CR);
//   - containers may nest at most JSON_MAX_DEPTH deep (top-level object = depth 1);
//   - duplicate keys: the last one wins, as in JSON.parse (ObjectIter yields all, callers keep the last).

export const JSON_MAX_DEPTH: i32 = 32;

export const JSON_OK: i32 = 0;
export const JSON_SYNTAX: i32 = 1;
export const JSON_UTF8: i32 = 2;
export const JSON_DEPTH: i32 = 3;
/** RecordData.json() only: more values than its budget (a tree that big would not fit the memory limit). */
export const JSON_TOO_LARGE: i32 = 4;

export const K_NONE: i32 = 0;
export const K_OBJECT: i32 = 1;
export const K_ARRAY: i32 = 2;
export const K_STRING: i32 = 3;
export const K_NUMBER: i32 = 4;
export const K_TRUE: i32 = 5;
export const K_FALSE: i32 = 6;
export const K_NULL: i32 = 7;

function isWs(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

function isHex(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 6;
}

/**
 * Equality of two short byte ranges, eight bytes at a time (AssemblyScript's memory.compare is a
 * byte loop behind a call; keys and enum values are short and compared often).
 */
export function bytesEq(a: usize, b: usize, n: i32): bool {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    if (load<u64>(a + <usize>i) != load<u64>(b + <usize>i)) return false;
  }
  for (; i < n; i++) {
    if (load<u8>(a + <usize>i) != load<u8>(b + <usize>i)) return false;
  }
  return true;
}

export function skipWs(p: usize, end: usize): usize {
  if (p < end && load<u8>(p) > 0x20) return p; // the common case: no whitespace
  while (p < end && isWs(load<u8>(p))) p++;
  return p;
}

/** Validates one UTF-8 sequence whose lead byte (>= 0x80) is at p. Returns its end, or 0 if invalid. */
function utf8Seq(p: usize, end: usize): usize {
  const c = <u32>load<u8>(p);
  if (c < 0xc2) return 0;
  if (c < 0xe0) {
    if (p + 1 >= end) return 0;
    return (<u32>load<u8>(p + 1) & 0xc0) == 0x80 ? p + 2 : 0;
  }
  if (c < 0xf0) {
    if (p + 2 >= end) return 0;
    const c1 = <u32>load<u8>(p + 1);
    const lo: u32 = c == 0xe0 ? 0xa0 : 0x80;
    const hi: u32 = c == 0xed ? 0x9f : 0xbf;
    if (c1 < lo || c1 > hi) return 0;
    return (<u32>load<u8>(p + 2) & 0xc0) == 0x80 ? p + 3 : 0;
  }
  if (c < 0xf5) {
    if (p + 3 >= end) return 0;
    const c1 = <u32>load<u8>(p + 1);
    const lo: u32 = c == 0xf0 ? 0x90 : 0x80;
    const hi: u32 = c == 0xf4 ? 0x8f : 0xbf;
    if (c1 < lo || c1 > hi) return 0;
    if ((<u32>load<u8>(p + 2) & 0xc0) != 0x80) return 0;
    return (<u32>load<u8>(p + 3) & 0xc0) == 0x80 ? p + 4 : 0;
  }
  return 0;
}

/** Checks that all of [p, end) is valid UTF-8, as TextDecoder with fatal: true decides it. */
export function validUtf8(p: usize, end: usize): bool {
  while (p < end) {
    if (p + 8 <= end && (load<u64>(p) & 0x8080808080808080) == 0) {
      p += 8;
      continue;
    }
    if (load<u8>(p) < 0x80) {
      p++;
      continue;
    }
    p = utf8Seq(p, end);
    if (p == 0) return false;
  }
  return true;
}

let sawEscape: bool = false;

/**
 * Validates a string starting at its opening quote, its UTF-8 included (validateJson has no separate
 * UTF-8 pass: bytes outside strings are ASCII or a syntax error). Returns the position after the
 * closing quote, or 0. Eight bytes at a time while none is a quote, a backslash, a control
 * character or a non-ASCII byte (SWAR).
 */
// scanString inlined at validateJson's member loop (the decorator needs a class).
// biome-ignore lint/complexity/noStaticOnlyClass: AssemblyScript's @inline decorator needs a class
class Str {
  @inline
  static scan(p: usize, end: usize): usize {
    p++;
    sawEscape = false;
    while (true) {
      if (p + 8 <= end) {
        // Flag bytes that are a quote, a backslash, below 0x20 or >= 0x80 (the lowest flag is exact).
        const v = load<u64>(p);
        const q = v ^ 0x2222222222222222;
        const b = v ^ 0x5c5c5c5c5c5c5c5c;
        const t =
          (((q - 0x0101010101010101) & ~q) |
            ((b - 0x0101010101010101) & ~b) |
            ((v - 0x2020202020202020) & ~v) |
            v) &
          0x8080808080808080;
        if (t == 0) {
          p += 8;
          continue;
        }
        p += <usize>(ctz(t) >> 3);
      } else if (p >= end) {
        return 0;
      }
      const c = <u32>load<u8>(p);
      if (c == 0x22) return p + 1;
      if (c >= 0x80) {
        p = utf8Seq(p, end);
        if (p == 0) return 0;
      } else if (c == 0x5c) {
        sawEscape = true;
        if (p + 1 >= end) return 0;
        const e = <u32>load<u8>(p + 1);
        if (e == 0x75) {
          if (p + 5 >= end) return 0;
          if (
            !isHex(load<u8>(p + 2)) ||
            !isHex(load<u8>(p + 3)) ||
            !isHex(load<u8>(p + 4)) ||
            !isHex(load<u8>(p + 5))
          ) {
            return 0;
          }
          p += 6;
        } else if (
          e == 0x22 ||
          e == 0x5c ||
          e == 0x2f ||
          e == 0x62 ||
          e == 0x66 ||
          e == 0x6e ||
          e == 0x72 ||
          e == 0x74
        ) {
          p += 2;
        } else {
          return 0;
        }
      } else if (c < 0x20) {
        return 0;
      } else {
        p++;
      }
    }
  }
}

function scanString(p: usize, end: usize): usize {
  return Str.scan(p, end);
}

/** The position after the run of ASCII digits at p (SWAR: eight bytes a step; the lowest flag is exact). */
function skipDigits(p: usize, end: usize): usize {
  while (p + 8 <= end) {
    const v = load<u64>(p);
    // A byte is flagged when below '0' (borrow) or above '9' (0x39 + 0x46 = 0x7f).
    const t = ((v - 0x3030303030303030) | (v + 0x4646464646464646)) & 0x8080808080808080;
    if (t != 0) return p + <usize>(ctz(t) >> 3);
    p += 8;
  }
  while (p < end && isDigit(load<u8>(p))) p++;
  return p;
}

function scanNumber(p: usize, end: usize): usize {
  if (p < end && load<u8>(p) == 0x2d) p++;
  if (p >= end) return 0;
  let c = <u32>load<u8>(p);
  if (c == 0x30) {
    p++;
  } else if (c - 0x31 < 9) {
    p = skipDigits(p + 1, end);
  } else {
    return 0;
  }
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    if (p >= end || !isDigit(load<u8>(p))) return 0;
    p = skipDigits(p, end);
  }
  if (p < end && (<u32>load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < end) {
      c = load<u8>(p);
      if (c == 0x2b || c == 0x2d) p++;
    }
    if (p >= end || !isDigit(load<u8>(p))) return 0;
    p = skipDigits(p, end);
  }
  return p;
}

function scanLiteral(p: usize, end: usize, lit: u32, n: usize): usize {
  // lit packs the expected bytes little-endian ("true" = 0x65757274).
  if (p + n > end) return 0;
  if (n == 4) return load<u32>(p) == lit ? p + 4 : 0;
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != ((lit >> (<u32>i * 8)) & 0xff)) return 0;
  }
  return p + n;
}

// One bit per open container (1 = object), grown for hostile nesting; kept between documents.
let nest: ArrayBuffer = new ArrayBuffer(64);

function setBit(depth: i32, isObj: bool): void {
  const at = changetype<usize>(nest) + <usize>(depth >> 3);
  const bit = <u8>((<u32>1) << (<u32>depth & 7));
  store<u8>(at, isObj ? load<u8>(at) | bit : load<u8>(at) & ~bit);
}

function isObjectAt(mask: u64, depth: i32): bool {
  return depth < 64 ? ((mask >> <u64>depth) & 1) != 0 : getBit(depth);
}

function getBit(depth: i32): bool {
  return (load<u8>(changetype<usize>(nest) + <usize>(depth >> 3)) & <u8>((<u32>1) << (<u32>depth & 7))) != 0;
}

/**
 * Members of the root object (depth 1) and of objects that are root members' values (depth 2),
 * recorded by validateJson in the same pass, so a transform finds `source.lsn` or `after.status`
 * without scanning the document again. Entry i: key span (raw, between the quotes), whether the key
 * has escapes, value span, depth, for depth 2 the index of the depth-1 member that holds it, and
 * whether the value is a string literal with escapes.
 */
export class JsonTape {
  static readonly STRIDE: i32 = 8;
  capacity: i32;
  count: i32 = 0;
  /** More members than capacity: the tape is incomplete and callers must walk with ObjectIter. */
  overflow: bool = false;
  data: StaticArray<u32>;
  /** Entry indices of the root's members (depth 1), in order; rootCount of them. */
  roots: StaticArray<i32>;
  rootCount: i32 = 0;

  constructor(capacity: i32 = 256) {
    this.capacity = capacity;
    this.data = new StaticArray<u32>(capacity * JsonTape.STRIDE);
    this.roots = new StaticArray<i32>(capacity);
  }

  /** The entry index of the root's n-th member. */
  root(n: i32): i32 {
    return unchecked(this.roots[n]);
  }

  keyPtr(i: i32): usize {
    return <usize>unchecked(this.data[i << 3]);
  }
  keyLen(i: i32): i32 {
    return <i32>unchecked(this.data[(i << 3) + 1]);
  }
  keyEscaped(i: i32): bool {
    return unchecked(this.data[(i << 3) + 2]) != 0;
  }
  valuePtr(i: i32): usize {
    return <usize>unchecked(this.data[(i << 3) + 3]);
  }
  valueEnd(i: i32): usize {
    return <usize>unchecked(this.data[(i << 3) + 4]);
  }
  depth(i: i32): i32 {
    return <i32>unchecked(this.data[(i << 3) + 5]);
  }
  parent(i: i32): i32 {
    return <i32>unchecked(this.data[(i << 3) + 6]);
  }
  /** True when entry i's value is a string literal with escapes (meaningless for other kinds). */
  valueEscaped(i: i32): bool {
    return unchecked(this.data[(i << 3) + 7]) != 0;
  }

  /** True when entry i's key equals `name` given as UTF-8 bytes (escapes decoded when present). */
  keyEq(i: i32, name: ArrayBuffer, end: usize): bool {
    const n = name.byteLength;
    if (!this.keyEscaped(i)) {
      return this.keyLen(i) == n && bytesEq(this.keyPtr(i), changetype<usize>(name), n);
    }
    const s = decodeShort(this.keyPtr(i) - 1, end);
    return decodedLen == n && bytesEq(s, changetype<usize>(name), n);
  }

  /** True when entry i's key equals the ASCII name (escapes decoded when present). */
  keyIs(i: i32, name: string, end: usize): bool {
    const kp = this.keyPtr(i);
    const kl = this.keyLen(i);
    if (!this.keyEscaped(i)) {
      if (kl != name.length) return false;
      for (let j = 0; j < kl; j++) {
        if (<u32>load<u8>(kp + <usize>j) != <u32>name.charCodeAt(j)) return false;
      }
      return true;
    }
    const s = decodeShort(kp - 1, end);
    if (decodedLen != name.length) return false;
    for (let j = 0; j < decodedLen; j++) {
      if (<u32>load<u8>(s + <usize>j) != <u32>name.charCodeAt(j)) return false;
    }
    return true;
  }
}

// Tape state during one validateJson call.
let tape: JsonTape | null = null;
let open1: i32 = -1; // tape index of the depth-1 member whose value is being read
let open2: i32 = -1;

function tapeMember(depth: i32, keyStart: usize, keyEnd: usize, valuePtr: usize): void {
  const t = tape;
  if (t === null || depth > 2) return;
  if (t.count >= t.capacity) {
    t.overflow = true;
    return;
  }
  const i = t.count++;
  const d = changetype<usize>(t.data) + ((<usize>i) << 5);
  store<u32>(d, <u32>(keyStart + 1));
  store<u32>(d, <u32>(keyEnd - keyStart - 2), 4);
  store<u32>(d, <u32>sawEscape, 8);
  store<u32>(d, <u32>valuePtr, 12);
  store<u32>(d, <u32>valuePtr, 16);
  store<u32>(d, <u32>depth, 20);
  store<u32>(d, <u32>open1, 24);
  store<u32>(d, 0, 28);
  if (depth == 1) {
    unchecked((t.roots[t.rootCount++] = i));
    open1 = i;
    open2 = -1;
  } else open2 = i;
}

function tapeValueEnd(depth: i32, end: usize, escaped: bool): void {
  const t = tape;
  if (t === null) return;
  const i = depth == 1 ? open1 : depth == 2 ? open2 : -1;
  if (i >= 0 && i < t.count) {
    const d = changetype<usize>(t.data) + ((<usize>i) << 5);
    store<u32>(d, <u32>end, 16);
    store<u32>(d, <u32>escaped, 28);
  }
}

/** A failed document: invalid UTF-8 anywhere outranks the syntax error (TextDecoder runs first). */
function syntaxOrUtf8(ptr: usize, end: usize): i32 {
  return validUtf8(ptr, end) ? JSON_SYNTAX : JSON_UTF8;
}

/**
 * Validates [ptr, ptr+len) as one JSON document. Returns JSON_OK or an error code, checked in the
 * order the TypeScript side meets them: UTF-8 first (TextDecoder), then syntax (JSON.parse), then
 * depth. UTF-8 is checked inside string literals during the one pass (anything else must be ASCII
 * to be JSON); a document that fails is checked whole for UTF-8 to pick the code. Iterative, so
 * nesting depth costs memory (1 bit per level) and never stack. With a tape, it also records where
 * the root's members and their objects' members are (see JsonTape).
 */
export function validateJson(
  ptr: usize,
  len: i32,
  maxDepth: i32 = JSON_MAX_DEPTH,
  into: JsonTape | null = null,
): i32 {
  if (into !== null) {
    into.count = 0;
    into.rootCount = 0;
    into.overflow = false;
  }
  tape = into;
  open1 = -1;
  open2 = -1;
  if (len <= 0) return JSON_SYNTAX;
  const end = ptr + <usize>len;
  let p = skipWs(ptr, end);
  let depth = 0;
  let deepest = 0;
  // Container kinds, 1 bit per level (1 = object): a register for the first 64 levels, `nest` beyond.
  let mask: u64 = 0;
  // mode 2: expect an object member (its key, then its value); 0: expect a value; 1: after a value.
  let mode = 0;
  while (true) {
    if (mode == 2) {
      // One place for every member key (after "{" and after ","), then on to its value.
      if (p >= end || load<u8>(p) != 0x22) return syntaxOrUtf8(ptr, end);
      const k = p;
      p = Str.scan(p, end);
      if (p == 0) return syntaxOrUtf8(ptr, end);
      const ke = p;
      p = skipWs(p, end);
      if (p >= end || load<u8>(p) != 0x3a) return syntaxOrUtf8(ptr, end);
      p = skipWs(p + 1, end);
      if (depth <= 2) tapeMember(depth, k, ke, p);
      // The common member: a string, number or null, then "," and the next key. Taken here without
      // the generic value and after-value steps (the same checks, the same tape); anything else
      // (containers, true/false, whitespace, "}", errors) goes the generic way.
      if (p < end) {
        const c = <u32>load<u8>(p);
        let q: usize = 0;
        let escaped = false;
        const scalar = c == 0x22 || c - 0x30 < 10 || c == 0x2d || c == 0x6e;
        if (c == 0x22) {
          q = Str.scan(p, end);
          escaped = sawEscape;
        } else if (c == 0x6e) {
          q = scanLiteral(p, end, 0x6c6c756e, 4);
        } else if (scalar) {
          q = scanNumber(p, end);
        }
        if (scalar) {
          if (q == 0) return syntaxOrUtf8(ptr, end);
          p = q;
          if (depth <= 2) tapeValueEnd(depth, p, escaped);
          if (p + 1 < end && load<u8>(p) == 0x2c && load<u8>(p + 1) == 0x22) {
            p++;
            continue; // the next member
          }
          mode = 1;
          continue;
        }
      }
      mode = 0;
    }
    if (mode == 0) {
      if (p >= end) return syntaxOrUtf8(ptr, end);
      const c = <u32>load<u8>(p);
      if (c == 0x7b || c == 0x5b) {
        const isObj = c == 0x7b;
        if (depth < 64) {
          const bit = (<u64>1) << (<u64>depth);
          mask = isObj ? mask | bit : mask & ~bit;
        } else {
          // Past 64 levels (hostile input only): one bit per level in `nest`, sized once per document.
          const need = (len >> 3) + 1;
          if (nest.byteLength < need) nest = new ArrayBuffer(need);
          setBit(depth, isObj);
        }
        depth++;
        if (depth > deepest) deepest = depth;
        p = skipWs(p + 1, end);
        if (p >= end) return syntaxOrUtf8(ptr, end);
        const d = <u32>load<u8>(p);
        if (d == (isObj ? <u32>0x7d : <u32>0x5d)) {
          depth--;
          p++;
          if (depth <= 2 && depth > 0 && isObjectAt(mask, depth - 1)) tapeValueEnd(depth, p, false);
          mode = 1;
          continue;
        }
        if (isObj) mode = 2;
        continue;
      }
      let q: usize = 0;
      let escaped = false;
      if (c == 0x22) {
        q = scanString(p, end);
        escaped = sawEscape;
      } else if (c == 0x2d || isDigit(c)) {
        q = scanNumber(p, end);
      } else if (c == 0x74) {
        q = scanLiteral(p, end, 0x65757274, 4);
      } else if (c == 0x66) {
        q = scanLiteral(p, end, 0x736c6166, 4);
        if (q != 0) q = q < end && load<u8>(q) == 0x65 ? q + 1 : 0;
      } else if (c == 0x6e) {
        q = scanLiteral(p, end, 0x6c6c756e, 4);
      }
      if (q == 0) return syntaxOrUtf8(ptr, end);
      p = q;
      if (depth <= 2 && depth > 0 && isObjectAt(mask, depth - 1)) tapeValueEnd(depth, p, escaped);
      mode = 1;
      continue;
    }
    // After a value.
    p = skipWs(p, end);
    if (depth == 0) {
      if (p != end) return syntaxOrUtf8(ptr, end);
      return deepest > maxDepth ? JSON_DEPTH : JSON_OK;
    }
    if (p >= end) return syntaxOrUtf8(ptr, end);
    const c = <u32>load<u8>(p);
    const inObj = isObjectAt(mask, depth - 1);
    if (c == 0x2c) {
      p = skipWs(p + 1, end);
      mode = inObj ? 2 : 0;
      continue;
    }
    if (c == (inObj ? <u32>0x7d : <u32>0x5d)) {
      depth--;
      p++;
      if (depth <= 2 && depth > 0 && isObjectAt(mask, depth - 1)) tapeValueEnd(depth, p, false);
      continue;
    }
    return syntaxOrUtf8(ptr, end);
  }
}

// ---- Walking a document that validateJson accepted (behaviour on unvalidated bytes is bounded
// ---- by `end` but meaningless).

/** The kind of the value starting at p (after whitespace). */
export function kindAt(p: usize, end: usize): i32 {
  if (p >= end) return K_NONE;
  const c = <u32>load<u8>(p);
  if (c == 0x7b) return K_OBJECT;
  if (c == 0x5b) return K_ARRAY;
  if (c == 0x22) return K_STRING;
  if (c == 0x74) return K_TRUE;
  if (c == 0x66) return K_FALSE;
  if (c == 0x6e) return K_NULL;
  return K_NUMBER;
}

/** End of the string literal starting at p (its opening quote); the position after the closing quote. */
export function skipString(p: usize, end: usize): usize {
  p++;
  while (p < end) {
    const c = load<u8>(p);
    if (c == 0x22) return p + 1;
    p += c == 0x5c ? 2 : 1;
  }
  return end;
}

/** The position just after the value starting at p. */
export function skipValue(p: usize, end: usize): usize {
  if (p >= end) return end;
  const c = <u32>load<u8>(p);
  if (c == 0x22) return skipString(p, end);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    while (p < end) {
      const d = <u32>load<u8>(p);
      if (d == 0x22) {
        p = skipString(p, end);
        continue;
      }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return p + 1;
      }
      p++;
    }
    return end;
  }
  // number or literal: up to the next delimiter
  while (p < end) {
    const d = <u32>load<u8>(p);
    if (d == 0x2c || d == 0x7d || d == 0x5d || isWs(d)) break;
    p++;
  }
  return p;
}

/**
 * Iterates the members of an object: after next() returns true, keyPtr/keyLen span the raw key
 * (between the quotes, escapes not decoded; keyEscaped says if there are any) and valuePtr/valueEnd
 * span the value.
 */
export class ObjectIter {
  p: usize = 0;
  end: usize = 0;
  keyPtr: usize = 0;
  keyLen: i32 = 0;
  keyEscaped: bool = false;
  valuePtr: usize = 0;
  valueEnd: usize = 0;

  /** Starts at the object's opening brace; false if p is not an object. */
  start(p: usize, end: usize): bool {
    this.end = end;
    if (p >= end || load<u8>(p) != 0x7b) {
      this.p = end;
      return false;
    }
    this.p = p + 1;
    return true;
  }

  next(): bool {
    const end = this.end;
    let p = skipWs(this.p, end);
    if (p >= end) return false;
    let c = load<u8>(p);
    if (c == 0x2c) {
      p = skipWs(p + 1, end);
      if (p >= end) return false;
      c = load<u8>(p);
    }
    if (c != 0x22) {
      this.p = end;
      return false;
    }
    const keyEnd = skipString(p, end);
    this.keyPtr = p + 1;
    this.keyLen = <i32>(keyEnd - p - 2);
    let escaped = false;
    for (let q = p + 1; q < keyEnd - 1; q++) {
      if (load<u8>(q) == 0x5c) {
        escaped = true;
        break;
      }
    }
    this.keyEscaped = escaped;
    p = skipWs(keyEnd, end);
    p = skipWs(p + 1, end); // the colon
    this.valuePtr = p;
    this.valueEnd = skipValue(p, end);
    this.p = this.valueEnd;
    return true;
  }

  /** True when the current key equals the ASCII name `name` (escapes decoded when present). */
  keyIs(name: string): bool {
    if (!this.keyEscaped) {
      if (this.keyLen != name.length) return false;
      for (let i = 0; i < this.keyLen; i++) {
        if (<u32>load<u8>(this.keyPtr + <usize>i) != <u32>name.charCodeAt(i)) return false;
      }
      return true;
    }
    const s = decodeShort(this.keyPtr - 1, this.end);
    if (decodedLen != name.length) return false;
    for (let i = 0; i < decodedLen; i++) {
      if (<u32>load<u8>(s + <usize>i) != <u32>name.charCodeAt(i)) return false;
    }
    return true;
  }
}

// ---- String decoding into a reused scratch buffer.

let scratch: ArrayBuffer = new ArrayBuffer(256);
/** Length in bytes of the last decodeString result. */
export let decodedLen: i32 = 0;
/** Length in UTF-16 code units (what JavaScript's .length reports) of the last decodeString result. */
export let decodedUnits: i32 = 0;

function hexVal(c: u32): u32 {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57;
}

function hex4(p: usize): u32 {
  return (
    (hexVal(load<u8>(p)) << 12) |
    (hexVal(load<u8>(p + 1)) << 8) |
    (hexVal(load<u8>(p + 2)) << 4) |
    hexVal(load<u8>(p + 3))
  );
}

function putUtf8(q: usize, cp: u32): usize {
  if (cp < 0x80) {
    store<u8>(q, <u8>cp);
    return q + 1;
  }
  if (cp < 0x800) {
    store<u8>(q, <u8>(0xc0 | (cp >> 6)));
    store<u8>(q + 1, <u8>(0x80 | (cp & 0x3f)));
    return q + 2;
  }
  if (cp < 0x10000) {
    store<u8>(q, <u8>(0xe0 | (cp >> 12)));
    store<u8>(q + 1, <u8>(0x80 | ((cp >> 6) & 0x3f)));
    store<u8>(q + 2, <u8>(0x80 | (cp & 0x3f)));
    return q + 3;
  }
  store<u8>(q, <u8>(0xf0 | (cp >> 18)));
  store<u8>(q + 1, <u8>(0x80 | ((cp >> 12) & 0x3f)));
  store<u8>(q + 2, <u8>(0x80 | ((cp >> 6) & 0x3f)));
  store<u8>(q + 3, <u8>(0x80 | (cp & 0x3f)));
  return q + 4;
}

/**
 * Decodes the string literal at p (its opening quote) to UTF-8 in a scratch buffer that the next
 * call reuses; returns its address and sets decodedLen / decodedUnits. A lone surrogate escape
 * becomes U+FFFD in the bytes (as TextEncoder would make it) and counts one code unit (as in JS).
 */
export function decodeString(p: usize, end: usize): usize {
  const stop = skipString(p, end) - 1;
  const raw = <i32>(stop - p - 1);
  if (scratch.byteLength < raw + 4) scratch = new ArrayBuffer(raw + 4);
  let q = changetype<usize>(scratch);
  let units = 0;
  p++;
  while (p < stop) {
    const c = <u32>load<u8>(p);
    if (c != 0x5c) {
      store<u8>(q++, <u8>c);
      if ((c & 0xc0) != 0x80) units += c >= 0xf0 ? 2 : 1;
      p++;
      continue;
    }
    const e = <u32>load<u8>(p + 1);
    p += 2;
    let cp: u32 = e;
    if (e == 0x6e) cp = 0x0a;
    else if (e == 0x74) cp = 0x09;
    else if (e == 0x72) cp = 0x0d;
    else if (e == 0x62) cp = 0x08;
    else if (e == 0x66) cp = 0x0c;
    else if (e == 0x75) {
      cp = hex4(p);
      p += 4;
      if (cp - 0xd800 < 0x400) {
        if (p + 6 <= stop && load<u8>(p) == 0x5c && load<u8>(p + 1) == 0x75) {
          const lo = hex4(p + 2);
          if (lo - 0xdc00 < 0x400) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
            units++;
          } else {
            cp = 0xfffd;
          }
        } else {
          cp = 0xfffd;
        }
      } else if (cp - 0xdc00 < 0x400) {
        cp = 0xfffd;
      }
    }
    q = putUtf8(q, cp);
    units++;
  }
  decodedLen = <i32>(q - changetype<usize>(scratch));
  decodedUnits = units;
  return changetype<usize>(scratch);
}

/** Escaped strings longer than this (raw bytes) are not decoded by decodeShort. */
export const SHORT_STRING_MAX: i32 = 1024;

/**
 * decodeString for strings that are compared with short names (keys, enum values, codes): one
 * whose raw content is longer than SHORT_STRING_MAX cannot equal any of them, so it is not decoded
 * (a hostile 1 MB escaped string must not double the memory a record takes). Then decodedLen = -1
 * and the result is 0.
 */
export function decodeShort(p: usize, end: usize): usize {
  if (<i32>(skipString(p, end) - p) - 2 > SHORT_STRING_MAX) {
    decodedLen = -1;
    decodedUnits = -1;
    return 0;
  }
  return decodeString(p, end);
}

/**
 * The length in UTF-16 code units (JavaScript's .length) of the string literal at p, counted on the
 * raw literal without decoding it: an escape is one unit (a surrogate pair is two escapes), a raw
 * 4-byte UTF-8 sequence two, any other character one.
 */
export function stringUnits(p: usize, end: usize): i32 {
  const stop = skipString(p, end) - 1;
  let units = 0;
  let q = p + 1;
  while (q < stop) {
    const c = <u32>load<u8>(q);
    if (c == 0x5c) {
      q += load<u8>(q + 1) == 0x75 ? 6 : 2;
      units++;
      continue;
    }
    if ((c & 0xc0) != 0x80) units += c >= 0xf0 ? 2 : 1;
    q++;
  }
  return units;
}

/** The raw content of a string literal at p when it has no escapes (a view into the input); else 0. */
export function rawStringIfPlain(p: usize, end: usize): usize {
  const stop = skipString(p, end) - 1;
  for (let q = p + 1; q < stop; q++) if (load<u8>(q) == 0x5c) return 0;
  decodedLen = <i32>(stop - p - 1);
  return p + 1;
}

// ---- Numbers.

const POW10: StaticArray<f64> = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
];

function pow10(e: i32): f64 {
  return e <= 22 ? unchecked(POW10[e]) : 10 ** <f64>e;
}

/** Parses the number literal at p to f64 (exact for up to 15 significant digits and |exp| <= 22). */
export function parseNumber(p: usize, end: usize): f64 {
  // Integers of up to 15 digits (ids, counts, LSNs, epoch ms): exact in a u64 and in the f64.
  let q = p;
  if (q < end && load<u8>(q) == 0x2d) q++;
  const first = q;
  let int: u64 = 0;
  while (q < end && q - first < 16) {
    const d = <u32>load<u8>(q) - 0x30;
    if (d > 9) break;
    int = int * 10 + <u64>d;
    q++;
  }
  if (
    q > first &&
    q - first <= 15 &&
    (q >= end || (load<u8>(q) != 0x2e && (<u32>load<u8>(q) | 0x20) != 0x65))
  ) {
    return first != p ? -(<f64>int) : <f64>int;
  }
  let neg = false;
  if (p < end && load<u8>(p) == 0x2d) {
    neg = true;
    p++;
  }
  let mant: u64 = 0;
  let digits = 0;
  let exp: i32 = 0;
  while (p < end && isDigit(load<u8>(p))) {
    if (digits < 19) {
      mant = mant * 10 + <u64>(load<u8>(p) - 0x30);
      if (mant != 0) digits++;
    } else exp++;
    p++;
  }
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    while (p < end && isDigit(load<u8>(p))) {
      if (digits < 19) {
        mant = mant * 10 + <u64>(load<u8>(p) - 0x30);
        if (mant != 0) digits++;
        exp--;
      }
      p++;
    }
  }
  if (p < end && (<u32>load<u8>(p) | 0x20) == 0x65) {
    p++;
    let eneg = false;
    const s = load<u8>(p);
    if (s == 0x2d || s == 0x2b) {
      eneg = s == 0x2d;
      p++;
    }
    let e: i32 = 0;
    while (p < end && isDigit(load<u8>(p))) {
      if (e < 100000) e = e * 10 + <i32>(load<u8>(p) - 0x30);
      p++;
    }
    exp += eneg ? -e : e;
  }
  let v = <f64>mant;
  if (mant == 0) return neg ? -0.0 : 0.0;
  if (exp > 0) {
    if (exp > 400) v = Infinity;
    else v *= pow10(exp);
  } else if (exp < 0) {
    if (exp < -400) v = 0;
    else if (exp >= -22) v /= unchecked(POW10[-exp]);
    else v = v / 1e22 / 10 ** <f64>(-exp - 22);
  }
  return neg ? -v : v;
}
