// RecordData.json(): a generic JSON value tree built on the byte scanner (json.ts). Convenient for
// transforms that are not on a hot path; failure is a JsonResult with ok == false, never an abort.
// Hot transforms should walk the bytes with ObjectIter instead (no strings, no tree).
import {
  decodedLen,
  decodeString,
  JSON_OK,
  JSON_TOO_LARGE,
  K_ARRAY,
  K_FALSE,
  K_NULL,
  K_NUMBER,
  K_OBJECT,
  K_STRING,
  K_TRUE,
  kindAt,
  ObjectIter,
  parseNumber,
  skipValue,
  skipWs,
  validateJson,
} from './json';

export class JsonValue {
  kind: i32 = K_NULL;
  num: f64 = 0;
  str: string = '';
  items: JsonValue[] = [];
  keys: string[] = [];

  isNull(): bool {
    return this.kind == K_NULL;
  }
  isString(): bool {
    return this.kind == K_STRING;
  }
  isNumber(): bool {
    return this.kind == K_NUMBER;
  }
  isBool(): bool {
    return this.kind == K_TRUE || this.kind == K_FALSE;
  }
  isObject(): bool {
    return this.kind == K_OBJECT;
  }
  isArray(): bool {
    return this.kind == K_ARRAY;
  }
  asBool(): bool {
    return this.kind == K_TRUE;
  }

  /** The member `key` of an object (the last one if repeated, as JSON.parse), or null. */
  get(key: string): JsonValue | null {
    if (this.kind != K_OBJECT) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (unchecked(this.keys[i]) == key) return unchecked(this.items[i]);
    }
    return null;
  }

  /** Element i of an array, or null. */
  at(i: i32): JsonValue | null {
    if (this.kind != K_ARRAY || i < 0 || i >= this.items.length) return null;
    return unchecked(this.items[i]);
  }
}

export class JsonResult {
  ok: bool = false;
  /** JSON_SYNTAX, JSON_UTF8 or JSON_DEPTH when !ok. */
  error: i32 = 0;
  value: JsonValue | null = null;
}

// Values left to build in the current parseJson call.
let budget: i32 = 0;

const OVER_BUDGET = new JsonValue();

function build(p: usize, end: usize): JsonValue {
  if (--budget < 0) return OVER_BUDGET;
  const v = new JsonValue();
  p = skipWs(p, end);
  const k = kindAt(p, end);
  v.kind = k;
  if (k == K_STRING) {
    const s = decodeString(p, end);
    v.str = String.UTF8.decodeUnsafe(s, <usize>decodedLen);
  } else if (k == K_NUMBER) {
    v.num = parseNumber(p, end);
  } else if (k == K_OBJECT) {
    const it = new ObjectIter();
    it.start(p, end);
    while (budget >= 0 && it.next()) {
      const s = decodeString(it.keyPtr - 1, end);
      v.keys.push(String.UTF8.decodeUnsafe(s, <usize>decodedLen));
      v.items.push(build(it.valuePtr, it.valueEnd));
    }
  } else if (k == K_ARRAY) {
    const stop = skipValue(p, end) - 1;
    let q = skipWs(p + 1, stop);
    while (budget >= 0 && q < stop) {
      const e = skipValue(q, stop);
      v.items.push(build(q, e));
      q = skipWs(e, stop);
      if (q < stop && load<u8>(q) == 0x2c) q = skipWs(q + 1, stop);
    }
  }
  return v;
}

/**
 * Parses [ptr, ptr+len). Nesting is capped (json.ts JSON_MAX_DEPTH), so building cannot overflow
 * the stack, and so is the number of values (maxValues), so a hostile document cannot exhaust the
 * transform's memory: beyond it the result is JSON_TOO_LARGE.
 */
export function parseJson(ptr: usize, len: i32, maxValues: i32 = 8192): JsonResult {
  const r = new JsonResult();
  const err = validateJson(ptr, len);
  if (err != JSON_OK) {
    r.error = err;
    return r;
  }
  budget = maxValues;
  const value = build(ptr, ptr + <usize>len);
  if (budget < 0) {
    r.error = JSON_TOO_LARGE;
    return r;
  }
  r.ok = true;
  r.value = value;
  return r;
}
