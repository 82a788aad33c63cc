// JSON-lines logger for the entry points (one object per line on stderr). Messages and fields only:
// callers never pass secrets, and the config's tokens are not logged.
import type { Logger } from './core/contracts.ts';

export function createJsonLogger({
  name = 'ferry-relay',
  quiet = false,
}: {
  name?: string;
  quiet?: boolean;
} = {}): Logger {
  const write = (level: string, message: string, fields?: Readonly<Record<string, unknown>>) => {
    if (quiet && level === 'info') return;
    console.error(JSON.stringify({ time: new Date().toISOString(), level, name, message, ...fields }));
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
