// Standard Webhooks signing and verifying (https://www.standardwebhooks.com): the signed content is
// `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 with the base64 secret (after `whsec_`),
// sent as `webhook-signature: v1,<base64>`. Several space-separated signatures may be sent (one per
// secret while a secret is rotated); a receiver accepts the message when any `v1` one matches one of
// its secrets and the timestamp is within its tolerance of now. WebCrypto only, so it runs on every
// runtime; `crypto.subtle.verify` compares in constant time.

const encoder = new TextEncoder();

function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i] as number);
  return btoa(bin);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;

/** Padded standard base64 to bytes; undefined when it is anything else (bad input is data). */
function base64Bytes(text: string): Uint8Array | undefined {
  return BASE64.test(text) ? fromBase64(text) : undefined;
}

/** The key bytes of `whsec_<base64>` (or bare base64); undefined when it is not that. */
export function webhookSecretKey(secret: string): Uint8Array | undefined {
  return base64Bytes(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
}

/** One or more secrets: a list, or one string holding several separated by spaces (for rotation). */
export function splitWebhookSecrets(secrets: string | readonly string[]): string[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return list.flatMap((s) => s.split(/\s+/)).filter((s) => s !== '');
}

function importKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  const raw = webhookSecretKey(secret);
  if (raw === undefined)
    throw new TypeError('a webhook secret must be whsec_ followed by a non-empty base64 key');
  return crypto.subtle.importKey(
    'raw',
    raw as Uint8Array<ArrayBuffer>,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    [usage],
  );
}

function signedContent(id: string, timestampSeconds: number | string, body: string | Uint8Array): Uint8Array {
  const bodyBytes = typeof body === 'string' ? encoder.encode(body) : body;
  const prefix = encoder.encode(`${id}.${timestampSeconds}.`);
  const content = new Uint8Array(prefix.length + bodyBytes.length);
  content.set(prefix, 0);
  content.set(bodyBytes, prefix.length);
  return content;
}

export interface WebhookSigner {
  /** The three headers; `webhook-signature` holds one `v1,` signature per secret. */
  sign(id: string, timestampSeconds: number, body: string | Uint8Array): Promise<Record<string, string>>;
}

/** Signs with every secret given (several while rotating: the receiver needs to know one of them). */
export function createWebhookSigner(secrets: string | readonly string[]): WebhookSigner {
  const list = splitWebhookSecrets(secrets);
  if (list.length === 0) throw new TypeError('no webhook secret');
  const keys = list.map((s) => importKey(s, 'sign'));
  // An invalid secret fails the first sign, not an unhandled rejection before it.
  for (const k of keys) k.catch(() => {});
  return {
    sign: async function signWebhook(id, timestampSeconds, body) {
      const content = signedContent(id, timestampSeconds, body) as Uint8Array<ArrayBuffer>;
      const signatures: string[] = [];
      for (const key of keys) {
        const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await key, content));
        signatures.push(`v1,${toBase64(mac)}`);
      }
      return {
        'webhook-id': id,
        'webhook-timestamp': String(timestampSeconds),
        'webhook-signature': signatures.join(' '),
      };
    },
  };
}

export type WebhookVerification =
  | { readonly ok: true; readonly id: string; readonly timestampSeconds: number }
  | {
      readonly ok: false;
      readonly code: 'FERRY_SIGNATURE_MISSING' | 'FERRY_SIGNATURE_TIMESTAMP' | 'FERRY_SIGNATURE_INVALID';
      readonly message: string;
    };

export interface WebhookVerifier {
  /** Checks the three headers against `body` (the exact bytes received) at `nowMs`. */
  verify(
    headers: { readonly get: (name: string) => string | null | undefined },
    body: string | Uint8Array,
    nowMs: number,
  ): Promise<WebhookVerification>;
}

/** A signature's bytes are 32; anything much longer in the header is not a signature list. */
const MAX_SIGNATURE_HEADER = 4096;
/** Room for a forwarder's batch id: a topic name (Kafka allows 249 characters) and two int64 offsets. */
const MAX_ID = 1024;

export function createWebhookVerifier(
  secrets: string | readonly string[],
  { toleranceSeconds = 300 }: { toleranceSeconds?: number } = {},
): WebhookVerifier {
  const list = splitWebhookSecrets(secrets);
  if (list.length === 0) throw new TypeError('no webhook secret');
  const keys = list.map((s) => importKey(s, 'verify'));
  for (const k of keys) k.catch(() => {});
  return {
    verify: async function verifyWebhook(headers, body, nowMs) {
      const id = headers.get('webhook-id') ?? '';
      const timestamp = headers.get('webhook-timestamp') ?? '';
      const signature = headers.get('webhook-signature') ?? '';
      if (id === '' || timestamp === '' || signature === '') {
        const missing = [
          id === '' && 'webhook-id',
          timestamp === '' && 'webhook-timestamp',
          signature === '' && 'webhook-signature',
        ].filter(Boolean);
        return { ok: false, code: 'FERRY_SIGNATURE_MISSING', message: `missing ${missing.join(', ')}` };
      }
      if (id.length > MAX_ID || signature.length > MAX_SIGNATURE_HEADER)
        return { ok: false, code: 'FERRY_SIGNATURE_INVALID', message: 'signature headers too long' };
      if (!/^\d{1,12}$/.test(timestamp))
        return {
          ok: false,
          code: 'FERRY_SIGNATURE_TIMESTAMP',
          message: 'webhook-timestamp must be whole seconds since the epoch',
        };
      const seconds = Number(timestamp);
      const skew = seconds - Math.floor(nowMs / 1000);
      if (Math.abs(skew) > toleranceSeconds)
        return {
          ok: false,
          code: 'FERRY_SIGNATURE_TIMESTAMP',
          message: `webhook-timestamp is ${Math.abs(skew)} s ${skew < 0 ? 'old' : 'in the future'}, beyond the ${toleranceSeconds} s tolerance`,
        };
      const content = signedContent(id, timestamp, body) as Uint8Array<ArrayBuffer>;
      for (const entry of signature.split(' ')) {
        const comma = entry.indexOf(',');
        if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
        const mac = base64Bytes(entry.slice(comma + 1));
        if (mac?.length !== 32) continue;
        for (const key of keys) {
          if (await crypto.subtle.verify('HMAC', await key, mac as Uint8Array<ArrayBuffer>, content))
            return { ok: true, id, timestampSeconds: seconds };
        }
      }
      return { ok: false, code: 'FERRY_SIGNATURE_INVALID', message: 'no v1 signature matches' };
    },
  };
}
