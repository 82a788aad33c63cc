// How the command line reports failures: an expected one (service down, file missing, bad input,
// unknown topic) is one line on stderr and a non-zero exit code; the stack trace is printed only with
// --verbose (or FERRY_VERBOSE=1), for the cases where the line is not enough.

/** A failure the user can act on; its message is the whole story. */
export class CliError extends Error {
  /** 1: the operation failed; 2: the input (flags, files, config) is invalid. */
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

interface SystemError {
  readonly code?: unknown;
  readonly path?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly hostname?: unknown;
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
};

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
};

function systemError(error: unknown): SystemError | undefined {
  return typeof error === 'object' && error !== null ? (error as SystemError) : undefined;
}

/**
 * The network reason behind a failed `fetch` (undici wraps it as `TypeError: fetch failed` with the
 * system error as its cause), or undefined when the error is not a network failure.
 */
export function networkReason(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; depth++) {
    const s = systemError(e);
    const code = typeof s?.code === 'string' ? s.code : undefined;
    if (code && code in NETWORK_ERRORS) {
      const where =
        typeof s?.address === 'string' && s.port !== undefined
          ? ` (${s.address}:${String(s.port)})`
          : typeof s?.hostname === 'string'
            ? ` (${s.hostname})`
            : '';
      return `${NETWORK_ERRORS[code]}${where}`;
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

/** The innermost cause's message (`fetch failed` → `bad port`), for errors no code explains. */
export function rootMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause instanceof Error; depth++) e = e.cause;
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0] || 'failed';
}

/** One line that says what went wrong, without a stack trace. */
export function explain(error: unknown): string {
  if (error instanceof CliError) return error.message;
  const s = systemError(error);
  const code = typeof s?.code === 'string' ? s.code : undefined;
  if (code && code in FILE_ERRORS && typeof s?.path === 'string') return `${s.path}: ${FILE_ERRORS[code]}`;
  const network = networkReason(error);
  if (network) return `cannot connect: ${network}`;
  return rootMessage(error);
}

export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : 1;
}

/** True when failures should also print their stack trace. */
export function verboseRequested(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return argv.includes('--verbose') || env.FERRY_VERBOSE === '1' || env.FERRY_VERBOSE === 'true';
}
