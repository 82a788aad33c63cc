// Timestamps: Debezium sends timestamptz as ISO-8601 strings; clean events carry UTC with
// millisecond precision, as JavaScript's Date.prototype.toISOString writes them.
//
// Accepted:  YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM), year 1900-9999, real calendar dates,
//            hours 0-23, minutes and seconds 0-59, offsets up to 23:59; fractions beyond ms are
//            truncated. The UTC instant must lie in 1900-01-01T00:00:00.000Z..9999-12-31T23:59:59.999Z.
// relay/contracts/time.ts applies the same rule.

import { put2 } from '../sdk/builder';

export const MIN_MS: i64 = -2208988800000; // 1900-01-01T00:00:00.000Z
export const MAX_MS: i64 = 253402300799999; // 9999-12-31T23:59:59.999Z

/** Set by parseTimestamp: false when the text is not an accepted timestamp. */
export let timestampOk: bool = false;

function digits(p: usize, n: i32): i32 {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = <i32>load<u8>(p + <usize>i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

function isLeap(y: i64): bool {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

export function daysInMonth(y: i64, m: i32): i32 {
  if (m == 2) return isLeap(y) ? 29 : 28;
  return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: i64, m: i64, d: i64): i64 {
  y -= m <= 2 ? 1 : 0;
  const era = (y >= 0 ? y : y - 399) / 400;
  const yoe = y - era * 400;
  const mp = (m + 9) % 12;
  const doy = (153 * mp + 2) / 5 + d - 1;
  const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// One remembered date per call site ("slot": a column, or the event time), for parse and for
// format: consecutive records of a table mostly carry the same dates, and the date is the costly
// part (validation, days_from_civil and back, 64-bit divisions). A hit gives the same result as
// the full computation; a miss does the full computation and remembers it.
const SLOTS: i32 = 64;
/** Parse: the date text "YYYY-MM-DD" (bytes 0-7, and 8-9 with bit 16 set once filled) and its day. */
const parsedLo = new StaticArray<u64>(SLOTS);
const parsedHi = new StaticArray<u32>(SLOTS);
const parsedDays = new StaticArray<i64>(SLOTS);
/** Format: the first ms of the remembered day (MIN_VALUE: none yet) and its "YYYY-MM-DD" text. */
const formattedStart = new StaticArray<i64>(SLOTS);
const formattedLo = new StaticArray<u64>(SLOTS);
const formattedHi = new StaticArray<u16>(SLOTS);
for (let i = 0; i < SLOTS; i++) formattedStart[i] = i64.MIN_VALUE;

/**
 * Parses [p, p+len) (string content, no quotes); returns epoch ms and sets timestampOk. `slot`
 * (0..63) names the call site whose last date is remembered; -1: none.
 */
export function parseTimestamp(p: usize, len: i32, slot: i32 = -1): i64 {
  timestampOk = false;
  if (len < 20) return 0;
  if (load<u8>(p + 10) != 0x54) return 0;
  const lo = load<u64>(p);
  const hi = <u32>load<u16>(p + 8) | 0x10000;
  const k = slot & (SLOTS - 1);
  let days: i64 = 0;
  if (slot >= 0 && unchecked(parsedLo[k]) == lo && unchecked(parsedHi[k]) == hi) {
    days = unchecked(parsedDays[k]);
  } else {
    const y = digits(p, 4);
    if (y < 1900 || load<u8>(p + 4) != 0x2d) return 0;
    const mo = digits(p + 5, 2);
    if (mo < 1 || mo > 12 || load<u8>(p + 7) != 0x2d) return 0;
    const d = digits(p + 8, 2);
    if (d < 1 || d > daysInMonth(y, mo)) return 0;
    days = daysFromCivil(y, mo, d);
    if (slot >= 0) {
      unchecked((parsedLo[k] = lo));
      unchecked((parsedHi[k] = hi));
      unchecked((parsedDays[k] = days));
    }
  }
  const h = digits(p + 11, 2);
  if (h < 0 || h > 23 || load<u8>(p + 13) != 0x3a) return 0;
  const mi = digits(p + 14, 2);
  if (mi < 0 || mi > 59 || load<u8>(p + 16) != 0x3a) return 0;
  const s = digits(p + 17, 2);
  if (s < 0 || s > 59) return 0;
  let i = 19;
  let ms: i64 = 0;
  if (load<u8>(p + 19) == 0x2e) {
    i = 20;
    let n = 0;
    while (i < len) {
      const c = <i32>load<u8>(p + <usize>i) - 0x30;
      if (c < 0 || c > 9) break;
      if (n < 3) ms = ms * 10 + c;
      n++;
      i++;
    }
    if (n == 0 || n > 9) return 0;
    while (n < 3) {
      ms *= 10;
      n++;
    }
  }
  if (i >= len) return 0;
  let offsetMin: i64 = 0;
  const z = load<u8>(p + <usize>i);
  if (z == 0x5a) {
    if (i + 1 != len) return 0;
  } else if (z == 0x2b || z == 0x2d) {
    if (i + 6 != len) return 0;
    const oh = digits(p + <usize>i + 1, 2);
    const om = digits(p + <usize>i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59 || load<u8>(p + <usize>i + 3) != 0x3a) return 0;
    offsetMin = <i64>(oh * 60 + om);
    if (z == 0x2d) offsetMin = -offsetMin;
  } else {
    return 0;
  }
  const t = (((days * 24 + <i64>h) * 60 + <i64>mi) * 60 + <i64>s) * 1000 + ms - offsetMin * 60000;
  if (t < MIN_MS || t > MAX_MS) return 0;
  timestampOk = true;
  return t;
}

/**
 * Writes epoch ms as YYYY-MM-DDTHH:MM:SS.mmmZ (24 bytes) at q. Valid for MIN_MS..MAX_MS. `slot`
 * (0..63) names the call site whose last day is remembered; -1: none.
 */
export function formatTimestamp(q: usize, t: i64, slot: i32 = -1): void {
  const k = slot & (SLOTS - 1);
  if (slot >= 0) {
    const start = unchecked(formattedStart[k]);
    if (start != i64.MIN_VALUE && t >= start && t - start < 86400000) {
      store<u64>(q, unchecked(formattedLo[k]));
      store<u16>(q + 8, unchecked(formattedHi[k]));
      formatTime(q, <i32>(t - start));
      return;
    }
  }
  let days = <i32>(t / 86400000);
  let rem = <i32>(t % 86400000);
  if (rem < 0) {
    rem += 86400000;
    days -= 1;
  }
  formatDate(q, days);
  formatTime(q, rem);
  if (slot >= 0) {
    unchecked((formattedStart[k] = t - <i64>rem));
    unchecked((formattedLo[k] = load<u64>(q)));
    unchecked((formattedHi[k] = load<u16>(q + 8)));
  }
}

/** YYYY-MM-DD (10 bytes) at q for a day number (days since 1970-01-01). */
function formatDate(q: usize, days: i32): void {
  // civil_from_days (Howard Hinnant), in i32: |days| < 3e6 here
  const z = days + 719468;
  const era = (z >= 0 ? z : z - 146096) / 146097;
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const d = doy - (153 * mp + 2) / 5 + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  put2(q, y / 100);
  put2(q + 2, y % 100);
  store<u8>(q + 4, 0x2d);
  put2(q + 5, m);
  store<u8>(q + 7, 0x2d);
  put2(q + 8, d);
}

/** THH:MM:SS.mmmZ (14 bytes) at q + 10 for ms since midnight (0..86399999). */
function formatTime(q: usize, rem: i32): void {
  store<u8>(q + 10, 0x54);
  const secs = rem / 1000;
  put2(q + 11, secs / 3600);
  store<u8>(q + 13, 0x3a);
  put2(q + 14, (secs / 60) % 60);
  store<u8>(q + 16, 0x3a);
  put2(q + 17, secs % 60);
  store<u8>(q + 19, 0x2e);
  const ms = rem % 1000;
  store<u8>(q + 20, <u8>(0x30 + ms / 100));
  put2(q + 21, ms % 100);
  store<u8>(q + 23, 0x5a);
}
