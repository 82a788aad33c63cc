// One push of a batch to the relay's /push/batches: bearer token, Standard Webhooks signature over the
// exact body (signed again per attempt, so the timestamp is fresh), a timeout of its own, and the answer
// classified (push-answer.ts). Network failures come back as answers, never thrown. fetch is passed in.
import { parseRetryAfter } from '../core/classify.ts';
import type { WebhookSigner } from '../core/webhook-signing.ts';
import { classifyPushAnswer, type PushAnswer } from './push-answer.ts';
import type { PushBatch } from './push-batch.ts';

/** fetch's own message plus its cause's code (ECONNREFUSED, ...) or message, when it has one. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const detail =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : undefined;
  const message = String((error as Error | null)?.message ?? error);
  return detail === undefined ? message : `${message} (${detail})`;
}

export interface PushClient {
  push(batch: PushBatch, signal?: AbortSignal): Promise<PushAnswer>;
}

export interface PushClientOptions {
  /** The relay's /push/batches URL. */
  readonly url: string;
  readonly token: string;
  /** Absent: pushes go unsigned (the relay must have push.unsigned: true). */
  readonly signer?: WebhookSigner | undefined;
  /** Longer than the relay's push.timeout (30 s by default), which answers 202 first. */
  readonly requestTimeoutMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

export function createPushClient({
  url,
  token,
  signer,
  requestTimeoutMs = 60_000,
  fetch: fetchImpl = globalThis.fetch,
  now = Date.now,
}: PushClientOptions): PushClient {
  return {
    push: async function pushBatch(batch, signal) {
      const signature = signer ? await signer.sign(batch.id, Math.floor(now() / 1000), batch.body) : {};
      // One controller per push, linked to the caller's signal by a listener removed afterwards (the
      // caller's signal lives as long as a partition is assigned).
      const request = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        request.abort();
      }, requestTimeoutMs);
      const abandon = () => request.abort();
      if (signal?.aborted) request.abort();
      signal?.addEventListener('abort', abandon, { once: true });
      try {
        const res = await fetchImpl(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...signature },
          body: batch.body as Uint8Array<ArrayBuffer>,
          signal: request.signal,
        });
        const text = await res.text();
        return classifyPushAnswer(res.status, text, parseRetryAfter(res.headers.get('retry-after'), now()));
      } catch (error) {
        if (signal?.aborted) return { kind: 'retry', reason: 'abandoned' };
        const why = timedOut ? `no answer in ${requestTimeoutMs} ms` : networkReason(error);
        return { kind: 'retry', reason: `network: ${why}` };
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abandon);
      }
    },
  };
}
