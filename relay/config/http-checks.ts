// Checks of the HTTP parts of a sink that the schema cannot express and that would otherwise fail every
// delivery at run time (the HTTP client refuses the request): header names and values, the bearer
// token, the webhook secret. Messages name the problem, never the value (values may be secrets).

// RFC 9110 token characters.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Set by the relay or the HTTP client itself; a configured value would be dropped or break the request. */
const RESERVED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'idempotency-key',
]);
const SIGNATURE_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature']);

/** What is wrong with a header value, or undefined: control characters (HTAB aside) or non-Latin-1. */
export function headerValueProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f)
      return 'must not contain control characters (CR, LF, NUL, ...)';
    if (c > 0xff) return 'must contain only Latin-1 characters';
  }
  return undefined;
}

export interface SinkHttpParts {
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: { readonly bearer?: string | undefined; readonly webhookSecret?: string | undefined };
}

/** `path: problem` lines for one sink, `at` being its config path. */
export function checkSinkHttp(at: string, sink: SinkHttpParts): string[] {
  const errors: string[] = [];
  Object.entries(sink.headers).forEach(([name, value], i) => {
    if (!TOKEN.test(name)) {
      errors.push(`${at}.headers: header ${i + 1} has a name that is not a valid HTTP token`);
      return;
    }
    const lower = name.toLowerCase();
    if (RESERVED.has(lower)) errors.push(`${at}.headers.${name}: is set by the relay, not configurable`);
    else if (SIGNATURE_HEADERS.has(lower) && sink.auth.webhookSecret)
      errors.push(`${at}.headers.${name}: is set by the webhook signature`);
    else if (lower === 'authorization' && sink.auth.bearer)
      errors.push(`${at}.headers.${name}: conflicts with auth.bearer`);
    const problem = headerValueProblem(value);
    if (problem) errors.push(`${at}.headers.${name}: ${problem}`);
  });
  if (sink.auth.bearer !== undefined) {
    const problem = headerValueProblem(sink.auth.bearer);
    if (problem) errors.push(`${at}.auth.bearer: ${problem}`);
  }
  const secret = sink.auth.webhookSecret;
  if (secret !== undefined) {
    const base64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/.test(base64))
      errors.push(`${at}.auth.webhookSecret: must be whsec_ followed by a non-empty base64 key`);
  }
  return errors;
}
