// JSON-lines logger for the entry points (one object per line on stderr). Callers never pass secrets
// and the config's tokens are not logged; as the last line of defence every string in a line (the
// message and every field, at any depth) goes through the redactor, which also bounds its length: a
// 100 KB event id becomes a prefix plus its length and fingerprint. Long arrays keep their first items.
import type { Logger } from './core/contracts.ts';
import { createRedactor, type Redactor } from './core/redact.ts';

/** Longest string kept whole in a log line (message or field). */
export const MAX_LOG_FIELD_CHARS = 1024;
/** Longest array kept whole in a log line. */
export const MAX_LOG_ARRAY_ITEMS = 50;

export function createJsonLogger({
  name = 'ferry-relay',
  quiet = false,
  redact = createRedactor(),
  maxFieldChars = MAX_LOG_FIELD_CHARS,
  write: print = (line: string) => console.error(line),
}: {
  name?: string;
  quiet?: boolean;
  /** Built from the loaded config's secrets (relay/secrets.ts); patterns only by default. */
  redact?: Redactor;
  maxFieldChars?: number;
  /** Where lines go (stderr by default). */
  write?: (line: string) => void;
} = {}): Logger {
  const replacer = (_key: string, value: unknown): unknown => {
    if (typeof value === 'string') return redact(value, maxFieldChars);
    if (typeof value === 'bigint') return value.toString();
    if (Array.isArray(value) && value.length > MAX_LOG_ARRAY_ITEMS)
      return [...value.slice(0, MAX_LOG_ARRAY_ITEMS), `… ${value.length} items`];
    return value;
  };
  const write = (level: string, message: string, fields?: Readonly<Record<string, unknown>>) => {
    if (quiet && level === 'info') return;
    const line = { time: new Date().toISOString(), level, name, message, ...fields };
    let text: string;
    try {
      text = JSON.stringify(line, replacer);
    } catch {
      // A field that cannot be serialised (a cycle) must not cost the line.
      text = JSON.stringify({ time: line.time, level, name, message: redact(message, maxFieldChars) });
    }
    print(text);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
