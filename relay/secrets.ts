// Every secret value of a loaded config, for the redactor (core/redact.ts): sink bearer tokens,
// webhook secrets, values of secret-looking configured headers, the admin and push tokens, the push
// signing secrets, the Upstash token, the Kafka SASL password or token and TLS key passphrase, the HTTP
// Proxy password or token, and the password of the Redis URL — whatever `${ENV}` interpolation put there.
import { connectionSecrets } from '../wasm/settings.ts';
import { toBase64 } from './adapters/http-proxy/wire.ts';
import type { RelayConfig } from './config/load.ts';

/** Header names whose configured values are credentials. */
const SECRET_HEADER = /auth|token|secret|key|cookie|signature|password|session/i;

function urlPassword(url: string): string[] {
  try {
    const parsed = new URL(url);
    return [parsed.password, decodeURIComponent(parsed.password)].filter((p) => p !== '');
  } catch {
    return [];
  }
}

export function configSecrets(config: RelayConfig): string[] {
  const out: Array<string | undefined> = [
    config.adminToken,
    config.push?.token,
    config.upstash?.token,
    config.dlq.bearer,
    config.dlq.password,
  ];
  out.push(...connectionSecrets(config.kafka.connection));
  const proxyAuth = config.httpProxy?.auth;
  if (proxyAuth?.kind === 'bearer') out.push(proxyAuth.token);
  if (proxyAuth?.kind === 'basic') {
    out.push(proxyAuth.password);
    // The Authorization header's credential, should a client error quote it.
    out.push(toBase64(new TextEncoder().encode(`${proxyAuth.username}:${proxyAuth.password}`)));
  }
  for (const secret of config.push?.signingSecrets ?? []) out.push(secret, secret.replace(/^whsec_/, ''));
  out.push(...urlPassword(config.redis.url));
  if (config.upstash) out.push(...urlPassword(config.upstash.url));
  if (config.dlq.url) out.push(...urlPassword(config.dlq.url));
  for (const route of config.relay.routes) {
    for (const sink of route.sinks) {
      out.push(sink.auth.bearer, sink.auth.webhookSecret);
      if (sink.auth.webhookSecret?.startsWith('whsec_')) out.push(sink.auth.webhookSecret.slice(6));
      for (const [name, value] of Object.entries(sink.headers)) {
        if (!SECRET_HEADER.test(name)) continue;
        out.push(value);
        // `Bearer <token>`, `Basic <credentials>`: the credential alone too.
        const space = value.indexOf(' ');
        if (space > 0) out.push(value.slice(space + 1).trim());
      }
      out.push(...urlPassword(sink.url));
    }
  }
  return [...new Set(out.filter((s): s is string => s !== undefined && s !== ''))];
}
