// Identifiers that travel as HTTP header values (the event id is the idempotency key and the
// webhook-id of every request): what every HTTP client accepts, checked before a record reaches one.
// A record whose event id fails this can never be delivered, so it is dead-lettered at once, never
// retried, parked or counted against a sink's breaker.

/** Longer event ids are refused: they would bloat every request, dedupe key and log line. */
export const MAX_EVENT_ID_CHARS = 1024;

// What undici and fetch (ByteString) both accept in a header value: tab, visible ASCII and space,
// and Latin-1 above 0x7f; nothing else (no CR, LF, NUL or other control characters, no code point
// above 0xff).
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]|[\x7f]/;

/** Why `id` cannot be an event id on the wire, or undefined when it can. Never echoes the id. */
export function eventIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'event id is empty';
  if (id.length > MAX_EVENT_ID_CHARS)
    return `event id is ${id.length} characters long (limit ${MAX_EVENT_ID_CHARS})`;
  const bad = INVALID_HEADER_CHAR.exec(id);
  if (bad !== null) {
    const code = bad[0].codePointAt(0) ?? 0;
    return `event id contains U+${code.toString(16).toUpperCase().padStart(4, '0')} at ${bad.index}, not allowed in a header value`;
  }
  if (id.trim() !== id) return 'event id starts or ends with whitespace';
  return undefined;
}
