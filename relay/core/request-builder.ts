// Builds the HTTP request for one record and one sink: URL from the template, body (the record value
// as it came, or a projection of fields), configured headers, bearer auth, Standard Webhooks signature,
// and the idempotency key every delivery carries.
import type { SinkRequest, SourceRecord } from './contracts.ts';
import { FerryError } from './errors.ts';
import type { SinkOptions } from './options.ts';
import { getPath } from './record.ts';
import { compileUrlTemplate } from './url-template.ts';
import { exceedsDepth, MAX_VALUE_DEPTH } from './value-depth.ts';
import { createWebhookSigner } from './webhook-signing.ts';

export const IDEMPOTENCY_HEADER = 'idempotency-key';

export interface RequestBuilder {
  /** Whether build() reads the parsed value (a projection body or a templated URL). */
  readonly readsValue: boolean;
  /** Synchronous unless the sink signs its requests (Web Crypto is asynchronous). May throw. */
  build(
    record: SourceRecord,
    value: unknown,
    eventId: string,
    nowMs: number,
  ): SinkRequest | Promise<SinkRequest>;
}

export function createRequestBuilder(sink: SinkOptions): RequestBuilder {
  const url = compileUrlTemplate(sink.url);
  const signer = sink.auth.webhookSecret ? createWebhookSigner(sink.auth.webhookSecret) : undefined;
  const baseHeaders: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(sink.headers)) baseHeaders[k.toLowerCase()] = v;
  if (sink.auth.bearer) baseHeaders.authorization = `Bearer ${sink.auth.bearer}`;
  const baseNames = Object.keys(baseHeaders);
  const { body } = sink;

  return {
    readsValue: body.kind === 'project' || url.fields.length > 0,
    build: function buildRequest(record, value, eventId, nowMs) {
      let payload: Uint8Array | string | null;
      if (body.kind === 'value') {
        payload = record.value;
      } else {
        const projected: Record<string, unknown> = {};
        for (const [name, path] of Object.entries(body.fields)) {
          const field = getPath(value, path) ?? null;
          // Checked up front: JSON.stringify recurses, and a deep enough value overflows the stack.
          if (exceedsDepth(field, MAX_VALUE_DEPTH - 1))
            throw new FerryError(
              'FERRY_VALUE_TOO_DEEP',
              `body field ${name} nests deeper than ${MAX_VALUE_DEPTH} levels`,
            );
          projected[name] = field;
        }
        payload = JSON.stringify(projected);
      }
      // A loop over the fixed headers, not an object spread (slow on JSC, per record).
      const headers: Record<string, string> = {};
      for (let i = 0; i < baseNames.length; i++) {
        const name = baseNames[i] as string;
        headers[name] = baseHeaders[name] as string;
      }
      headers[IDEMPOTENCY_HEADER] = eventId;
      const request: SinkRequest = {
        url: url.render(value),
        method: sink.method,
        headers,
        body: sink.method === 'GET' || sink.method === 'HEAD' ? null : payload,
        timeoutMs: sink.timeoutMs,
      };
      if (!signer) return request;
      return signer.sign(eventId, Math.floor(nowMs / 1000), payload ?? '').then((signature) => {
        Object.assign(headers, signature);
        return request;
      });
    },
  };
}
