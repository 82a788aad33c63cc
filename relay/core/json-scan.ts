// A byte-level JSON well-formedness check, so intake can dead-letter unparseable records at once
// without decoding and parsing every value (TextDecoder + JSON.parse of a 1 KB value allocated ~2.5 KB
// per record and built an object no sink looked at when sinks send the value as it is).
//
// It accepts exactly what `JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))`
// accepts: a leading UTF-8 BOM (the decoder strips it), RFC 8259 grammar with JSON whitespace only,
// well-formed UTF-8 inside strings (no overlongs, no surrogates, nothing above U+10FFFF), any nesting
// depth (an explicit stack, no recursion). It builds nothing; in the same pass it notes where the CDC
// commit time sits (`source.ts_ms`, `payload.source.ts_ms`, `occurredAt`), so the freshness metric
// needs no parse either. json-scan.test.ts checks it against JSON.parse on a corpus, hostile input and
// generated documents.
import type { SourceRecord } from './contracts.ts';

/** Where a watched field's value is: absent, null, a number or a string (byte span), or anything else. */
const ABSENT = 0;
const NULL = 1;
const NUMBER = 2;
const STRING = 3;
const OTHER = 4;

// Container tags: which watched path an object is on.
const T_NONE = 0;
const T_ROOT = 1;
const T_SOURCE = 2; // root.source
const T_PAYLOAD = 3; // root.payload
const T_PSOURCE = 4; // root.payload.source
// Key tags: what the value after a key is.
const K_NONE = 0;
const K_SOURCE = 1;
const K_PAYLOAD = 2;
const K_OCCURRED = 3;
const K_TS_A = 4; // root.source.ts_ms
const K_PSOURCE = 5; // root.payload.source
const K_TS_B = 6; // root.payload.source.ts_ms

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const SOURCE = bytesOf('source');
const PAYLOAD = bytesOf('payload');
const OCCURRED_AT = bytesOf('occurredAt');
const TS_MS = bytesOf('ts_ms');

// Byte classes: 1 = JSON whitespace; in strings, 2 = ends the fast run ('"', '\\', controls, non-ASCII).
const WS = new Uint8Array(256);
WS[0x20] = 1;
WS[0x09] = 1;
WS[0x0a] = 1;
WS[0x0d] = 1;
const STR_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STR_STOP[c] = 1;
STR_STOP[0x22] = 1;
STR_STOP[0x5c] = 1;
for (let c = 0x80; c < 0x100; c++) STR_STOP[c] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

export interface JsonScanner {
  /** True when the bytes are one well-formed JSON document (as JSON.parse after a fatal UTF-8 decode). */
  scan(bytes: Uint8Array): boolean;
  /** After a successful scan: the document is the literal `null` (the relay treats it as a tombstone). */
  readonly isNull: boolean;
  /**
   * After a successful scan: the commit time as commitTimestampOf (record.ts) computes it from the
   * parsed value, or undefined when a watched key was escaped and only a parse can tell.
   */
  commitTimestamp(bytes: Uint8Array, record: SourceRecord): number | undefined;
}

/** One per relay (it keeps the last scan's findings; scans are synchronous). */
export function createJsonScanner(): JsonScanner {
  // Container stack: 1 = object, 2 = array; tags only matter for the first levels.
  let kinds = new Uint8Array(64);
  let tags = new Uint8Array(64);
  // Findings of the last scan.
  let aKind = ABSENT;
  let aStart = 0;
  let aEnd = 0;
  let bKind = ABSENT;
  let bStart = 0;
  let bEnd = 0;
  let oKind = ABSENT;
  let oStart = 0;
  let oEnd = 0;
  let escapedKey = false;
  let topNull = false;
  // Set by scanString: the string's end (after the closing quote), or -1; whether it had an escape.
  let hadEscape = false;
  const utf8 = new TextDecoder();
  let words: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  const grow = () => {
    const k = new Uint8Array(kinds.length * 2);
    k.set(kinds);
    kinds = k;
    const t = new Uint8Array(tags.length * 2);
    t.set(tags);
    tags = t;
  };

  /** b[i] is the opening quote. Returns the index after the closing quote, or -1. */
  function scanString(b: Uint8Array, i: number, n: number): number {
    hadEscape = false;
    i++;
    for (;;) {
      // Four bytes at a time while none is '"', '\\', a control or non-ASCII (most of a long string).
      const at = b.byteOffset;
      while (i + 4 <= n) {
        const w = words.getUint32(at + i, true);
        const q = w ^ 0x22222222;
        const e = w ^ 0x5c5c5c5c;
        if (
          ((w | ((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((e - 0x01010101) & ~e)) & 0x80808080) !==
          0
        )
          break;
        i += 4;
      }
      while (i < n && STR_STOP[b[i] as number] === 0) i++;
      if (i >= n) return -1;
      const c = b[i] as number;
      if (c === 0x22) return i + 1;
      if (c === 0x5c) {
        hadEscape = true;
        const e = b[i + 1];
        if (
          e === 0x22 ||
          e === 0x5c ||
          e === 0x2f ||
          e === 0x62 ||
          e === 0x66 ||
          e === 0x6e ||
          e === 0x72 ||
          e === 0x74
        ) {
          i += 2;
          continue;
        }
        if (e === 0x75) {
          if (
            i + 5 < n &&
            HEX[b[i + 2] as number] === 1 &&
            HEX[b[i + 3] as number] === 1 &&
            HEX[b[i + 4] as number] === 1 &&
            HEX[b[i + 5] as number] === 1
          ) {
            i += 6;
            continue;
          }
        }
        return -1;
      }
      if (c < 0x20) return -1;
      // Non-ASCII: one well-formed UTF-8 sequence.
      const c1 = b[i + 1] ?? 0;
      if (c >= 0xc2 && c <= 0xdf) {
        if ((c1 & 0xc0) !== 0x80) return -1;
        i += 2;
      } else if (c >= 0xe0 && c <= 0xef) {
        const lo = c === 0xe0 ? 0xa0 : 0x80;
        const hi = c === 0xed ? 0x9f : 0xbf;
        if (c1 < lo || c1 > hi || ((b[i + 2] ?? 0) & 0xc0) !== 0x80) return -1;
        i += 3;
      } else if (c >= 0xf0 && c <= 0xf4) {
        const lo = c === 0xf0 ? 0x90 : 0x80;
        const hi = c === 0xf4 ? 0x8f : 0xbf;
        if (c1 < lo || c1 > hi || ((b[i + 2] ?? 0) & 0xc0) !== 0x80 || ((b[i + 3] ?? 0) & 0xc0) !== 0x80)
          return -1;
        i += 4;
      } else return -1;
    }
  }

  /** b[i] is '-' or a digit. Returns the index after the number, or -1. */
  function scanNumber(b: Uint8Array, i: number, n: number): number {
    if (b[i] === 0x2d) i++;
    let c = b[i] ?? 0;
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      i++;
      while (i < n && (b[i] as number) >= 0x30 && (b[i] as number) <= 0x39) i++;
    } else return -1;
    c = b[i] ?? 0;
    if (c === 0x2e) {
      i++;
      const from = i;
      while (i < n && (b[i] as number) >= 0x30 && (b[i] as number) <= 0x39) i++;
      if (i === from) return -1;
      c = b[i] ?? 0;
    }
    if (c === 0x65 || c === 0x45) {
      i++;
      c = b[i] ?? 0;
      if (c === 0x2b || c === 0x2d) i++;
      const from = i;
      while (i < n && (b[i] as number) >= 0x30 && (b[i] as number) <= 0x39) i++;
      if (i === from) return -1;
    }
    return i;
  }

  function literal(b: Uint8Array, i: number, word: string): number {
    for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
    return i + word.length;
  }

  function keyIs(b: Uint8Array, start: number, end: number, name: Uint8Array): boolean {
    if (end - start !== name.length) return false;
    for (let k = 0; k < name.length; k++) if (b[start + k] !== name[k]) return false;
    return true;
  }

  /** The tag of the value after key b[start..end) (quotes excluded) in a container tagged `t`. */
  function keyTag(b: Uint8Array, start: number, end: number, t: number): number {
    if (t === T_NONE) return K_NONE;
    if (hadEscape) {
      // "\u0073ource" is "source" to JSON.parse: only a parse can say.
      escapedKey = true;
      return K_NONE;
    }
    if (t === T_ROOT) {
      if (keyIs(b, start, end, SOURCE)) return K_SOURCE;
      if (keyIs(b, start, end, PAYLOAD)) return K_PAYLOAD;
      if (keyIs(b, start, end, OCCURRED_AT)) return K_OCCURRED;
      return K_NONE;
    }
    if (t === T_SOURCE) return keyIs(b, start, end, TS_MS) ? K_TS_A : K_NONE;
    if (t === T_PAYLOAD) return keyIs(b, start, end, SOURCE) ? K_PSOURCE : K_NONE;
    if (t === T_PSOURCE) return keyIs(b, start, end, TS_MS) ? K_TS_B : K_NONE;
    return K_NONE;
  }

  /** A later duplicate key replaces the earlier value (as JSON.parse does): forget what it held. */
  function resetFor(key: number): void {
    if (key === K_SOURCE || key === K_TS_A) aKind = ABSENT;
    else if (key === K_PAYLOAD || key === K_PSOURCE || key === K_TS_B) bKind = ABSENT;
    else if (key === K_OCCURRED) oKind = ABSENT;
  }

  function note(key: number, kind: number, start: number, end: number): void {
    if (key === K_TS_A) {
      aKind = kind;
      aStart = start;
      aEnd = end;
    } else if (key === K_TS_B) {
      bKind = kind;
      bStart = start;
      bEnd = end;
    } else if (key === K_OCCURRED) {
      oKind = kind;
      oStart = start;
      oEnd = end;
    }
  }

  function scan(b: Uint8Array): boolean {
    const n = b.length;
    // One DataView per underlying buffer (a fetched batch), not per record.
    if (words.buffer !== b.buffer) words = new DataView(b.buffer);
    let i = 0;
    if (n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) i = 3;
    aKind = ABSENT;
    bKind = ABSENT;
    oKind = ABSENT;
    escapedKey = false;
    topNull = false;
    let depth = 0;
    let key = K_NONE; // tag of the value about to be read

    // Each turn reads one value, then the separators up to the next value (or the end).
    for (;;) {
      while (i < n && WS[b[i] as number] === 1) i++;
      if (i >= n) return false;
      const c = b[i] as number;
      const start = i;
      if (c === 0x7b || c === 0x5b) {
        // Open a container.
        resetFor(key);
        if (depth + 1 >= kinds.length) grow();
        depth++;
        kinds[depth] = c === 0x7b ? 1 : 2;
        let tag = T_NONE;
        if (c === 0x7b) {
          if (depth === 1) tag = T_ROOT;
          else if (key === K_SOURCE) tag = T_SOURCE;
          else if (key === K_PAYLOAD) tag = T_PAYLOAD;
          else if (key === K_PSOURCE) tag = T_PSOURCE;
        }
        tags[depth] = tag;
        note(key, OTHER, 0, 0);
        i++;
        while (i < n && WS[b[i] as number] === 1) i++;
        if (i >= n) return false;
        const d = b[i] as number;
        if (c === 0x7b) {
          if (d === 0x7d) {
            i++;
            depth--;
          } else {
            // A key, then ':'.
            if (d !== 0x22) return false;
            const end = scanString(b, i, n);
            if (end < 0) return false;
            key = keyTag(b, i + 1, end - 1, tag);
            i = end;
            while (i < n && WS[b[i] as number] === 1) i++;
            if (b[i] !== 0x3a) return false;
            i++;
            continue;
          }
        } else if (d === 0x5d) {
          i++;
          depth--;
        } else {
          key = K_NONE;
          continue;
        }
      } else {
        let kind: number;
        if (c === 0x22) {
          i = scanString(b, i, n);
          kind = STRING;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          i = scanNumber(b, i, n);
          kind = NUMBER;
        } else if (c === 0x74) {
          i = literal(b, i, 'true');
          kind = OTHER;
        } else if (c === 0x66) {
          i = literal(b, i, 'false');
          kind = OTHER;
        } else if (c === 0x6e) {
          i = literal(b, i, 'null');
          kind = NULL;
          if (depth === 0) topNull = true;
        } else return false;
        if (i < 0) return false;
        resetFor(key);
        note(key, kind, start, i);
      }
      // After a value: close containers, or a separator to the next value, or the end.
      for (;;) {
        while (i < n && WS[b[i] as number] === 1) i++;
        if (depth === 0) return i === n;
        if (i >= n) return false;
        const s = b[i] as number;
        const open = kinds[depth] as number;
        if (s === 0x2c) {
          i++;
          if (open === 2) {
            key = K_NONE;
            break;
          }
          while (i < n && WS[b[i] as number] === 1) i++;
          if (b[i] !== 0x22) return false;
          const end = scanString(b, i, n);
          if (end < 0) return false;
          key = keyTag(b, i + 1, end - 1, tags[depth] as number);
          i = end;
          while (i < n && WS[b[i] as number] === 1) i++;
          if (b[i] !== 0x3a) return false;
          i++;
          break;
        }
        if ((s === 0x7d && open === 1) || (s === 0x5d && open === 2)) {
          i++;
          depth--;
          continue;
        }
        return false;
      }
    }
  }

  const ascii = (b: Uint8Array, start: number, end: number) => {
    let s = '';
    for (let k = start; k < end; k++) s += String.fromCharCode(b[k] as number);
    return s;
  };

  function commitTimestamp(b: Uint8Array, record: SourceRecord): number | undefined {
    if (escapedKey) return undefined;
    // commitTimestampOf: source.ts_ms ?? payload.source.ts_ms, if a finite number; else occurredAt.
    const kind = aKind !== ABSENT && aKind !== NULL ? aKind : bKind;
    if (kind === NUMBER) {
      const ts = aKind === NUMBER ? Number(ascii(b, aStart, aEnd)) : Number(ascii(b, bStart, bEnd));
      if (Number.isFinite(ts)) return ts;
    }
    if (oKind === STRING) {
      const occurred: unknown = JSON.parse(utf8.decode(b.subarray(oStart, oEnd)));
      const t = Date.parse(occurred as string);
      if (!Number.isNaN(t)) return t;
    }
    return record.timestamp;
  }

  return {
    scan,
    get isNull() {
      return topNull;
    },
    commitTimestamp,
  };
}
