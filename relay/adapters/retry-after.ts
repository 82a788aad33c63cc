// Retry-After (RFC 9110 10.2.3): either delay-seconds or an HTTP date. Returns milliseconds from
// `now`, or undefined when the header is absent or unreadable (bad input is data, not a crash).
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
