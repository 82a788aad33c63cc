// Scrubbing text that comes from outside (sink response bodies, error messages of the HTTP, Kafka and
// Redis clients) before it reaches a log line, a metric label or a DLQ header. Built once from the
// loaded config with every configured secret value; also blanks anything shaped like a credential
// (authorization-like headers, Bearer/Basic values, token query parameters, URL passwords, JSON
// fields named like secrets), replaces control characters, and bounds the length: a long text keeps
// a prefix plus its length and a hash, so two log lines about the same value can still be matched.

export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not searched for (they would blank ordinary words). */
const MIN_SECRET_CHARS = 4;
/** Texts longer than this are cut before scanning: the patterns run over a bounded window. */
const MAX_SCAN_CHARS = 256 * 1024;
export const DEFAULT_MAX_CHARS = 1024;

/** Scrubbed, control characters replaced, at most `maxChars` (+ the length/hash suffix). */
export type Redactor = (text: string, maxChars?: number) => string;

const HEADER_NAMES =
  'authorization|proxy-authorization|x-api-key|api-key|apikey|x-auth-token|x-access-token|cookie|set-cookie|webhook-signature|x-hub-signature(?:-256)?';
const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // "authorization":"Bearer …" (JSON, quoted keys) and `authorization: …` (header dumps).
  [
    new RegExp(`(["']?)(${HEADER_NAMES})\\1(\\s*[:=]\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'),
    `$1$2$1$3"${REDACTED}"`,
  ],
  [new RegExp(`(["']?)(${HEADER_NAMES})\\1(\\s*[:=]\\s*)(?!")[^\\r\\n,;}]+`, 'gi'), `$1$2$1$3${REDACTED}`],
  // JSON fields named like secrets: "token": "…", "client_secret": "…", "password": "…".
  [
    /(["'])([\w-]*(?:token|secret|passw(?:or)?d|api[_-]?key|session)[\w-]*)\1(\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
    `$1$2$1$3"${REDACTED}"`,
  ],
  // Credentials after an auth scheme anywhere in free text.
  [/\b(Bearer|Basic|Digest|Token)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${REDACTED}`],
  // Token-like query parameters.
  [
    /([?&;](?:access_token|refresh_token|id_token|token|api_key|apikey|key|secret|password|sig|signature|code)=)[^&\s"'#<>]+/gi,
    `$1${REDACTED}`,
  ],
  // A password in a URL's userinfo: scheme://user:password@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi, `$1${REDACTED}@`],
  // Standard Webhooks secrets.
  [/\bwhsec_[A-Za-z0-9+/=]+/g, `whsec_${REDACTED}`],
];

// C0 controls (tab kept), DEL and C1 controls: no CR/LF reaches a header or a log line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/** FNV-1a, 32 bits, as 8 hex digits: a runtime-free fingerprint to match truncated values (not security). */
export function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** `text` if it fits, else a prefix plus the full length and a fingerprint of the whole. */
export function bound(text: string, maxChars: number, fullLength = text.length): string {
  if (text.length <= maxChars && fullLength === text.length) return text;
  return `${text.slice(0, maxChars)}… [${fullLength} chars, fnv1a ${fingerprint(text)}]`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The forms a secret may take in someone else's text: as is, URL-encoded, JSON-escaped. */
function variants(secret: string): string[] {
  const out = new Set<string>([secret]);
  try {
    out.add(encodeURIComponent(secret));
  } catch {
    // lone surrogates: only the raw form
  }
  out.add(JSON.stringify(secret).slice(1, -1));
  return [...out];
}

export function createRedactor({
  secrets = [],
  maxChars: defaultMax = DEFAULT_MAX_CHARS,
}: {
  /** Every configured secret value (tokens, passwords, webhook secrets). */
  readonly secrets?: Iterable<string | undefined>;
  readonly maxChars?: number;
} = {}): Redactor {
  const known = [
    ...new Set(
      [...secrets].flatMap((s) => (s !== undefined && s.length >= MIN_SECRET_CHARS ? variants(s) : [])),
    ),
  ].sort((a, b) => b.length - a.length);
  const exact = known.length > 0 ? new RegExp(known.map(escapeRegExp).join('|'), 'g') : undefined;

  /** A text cut in the middle of a secret ends with its prefix: blank that too. */
  const cutSecret = (text: string): string => {
    for (const s of known) {
      for (let n = Math.min(s.length - 1, text.length); n >= MIN_SECRET_CHARS; n--) {
        if (text.endsWith(s.slice(0, n))) return text.slice(0, text.length - n) + REDACTED;
      }
    }
    return text;
  };

  return function redact(text: string, maxChars = defaultMax): string {
    const full = typeof text === 'string' ? text : String(text);
    let out = full.length > MAX_SCAN_CHARS ? full.slice(0, MAX_SCAN_CHARS) : full;
    if (exact !== undefined) out = cutSecret(out.replace(exact, REDACTED));
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    out = out.replace(CONTROL, ' ');
    return bound(out, maxChars, full.length > MAX_SCAN_CHARS ? full.length : out.length);
  };
}

/** For tests and tools with no config: patterns only. */
export const redactPatterns: Redactor = createRedactor();
