// Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
// `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 with the base64 secret (after `whsec_`),
// sent as `webhook-signature: v1,<base64>`. WebCrypto only, so it runs on every runtime.

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

export interface WebhookSigner {
  sign(id: string, timestampSeconds: number, body: string | Uint8Array): Promise<Record<string, string>>;
}

export function createWebhookSigner(secret: string): WebhookSigner {
  const raw = fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  const keyPromise = crypto.subtle.importKey(
    'raw',
    raw as Uint8Array<ArrayBuffer>,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return {
    sign: async function signWebhook(id, timestampSeconds, body) {
      const bodyBytes = typeof body === 'string' ? encoder.encode(body) : body;
      const prefix = encoder.encode(`${id}.${timestampSeconds}.`);
      const content = new Uint8Array(prefix.length + bodyBytes.length);
      content.set(prefix, 0);
      content.set(bodyBytes, prefix.length);
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await keyPromise, content));
      return {
        'webhook-id': id,
        'webhook-timestamp': String(timestampSeconds),
        'webhook-signature': `v1,${toBase64(mac)}`,
      };
    },
  };
}
