// Timestamps, with the rule the Wasm transforms apply (transforms/supply-chain/time.ts):
// YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM), year 1900-9999, a real calendar date, hours 0-23,
// minutes and seconds 0-59, offsets up to 23:59; fractions beyond ms truncated; the UTC instant
// within 1900-01-01T00:00:00.000Z..9999-12-31T23:59:59.999Z. Clean events carry toISOString().

export const MIN_MS = -2208988800000;
export const MAX_MS = 253402300799999;

const PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

const daysInMonth = (y: number, m: number): number =>
  m === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;

/** Epoch milliseconds of an accepted timestamp, or null. */
export function parseTimestamp(text: string): number | null {
  const m = PATTERN.exec(text);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59)
    return null;
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8]!;
  let offsetMin = 0;
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMin = (oh * 60 + om) * (zone[0] === '-' ? -1 : 1);
  }
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60_000;
  return t < MIN_MS || t > MAX_MS ? null : t;
}

export const isTimestamp = (text: string): boolean => parseTimestamp(text) !== null;
