// What the forwarder does with the push endpoint's answer (see relay/app/push-route.ts):
//   200 committed               -> the batch is terminal at the relay: commit its offsets
//   202 timeout                 -> push the same batch again at once (idempotent by position)
//   429 (rate, paused sink)     -> wait Retry-After (else backoff), push again
//   408, 425, 5xx, network, our own request timeout -> backoff with full jitter, push again
//   409 conflict                -> stop: the relay never processed offsets this batch claims, so an
//                                  offset reset or a second forwarder group is feeding it
//   401/403                     -> stop: token or signature refused (a retry cannot fix a secret)
//   400, 413, other 4xx         -> stop: a batch the relay cannot take is a bug or a limit to raise
import { FerryError } from '../core/errors.ts';

export type PushAnswer =
  /** `alreadyDone`: records of the batch the relay had committed before (a re-push answered by position). */
  | { readonly kind: 'committed'; readonly alreadyDone: number }
  | { readonly kind: 'again' }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number | undefined }
  | { readonly kind: 'fatal'; readonly error: FerryError };

/** Short text from an answer body: the relay's `error`/`message` field, never more than 300 chars. */
function reasonOf(body: string): string {
  let text = body;
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const parts = [json.status, json.error, json.message, json.code].filter(
      (x) => typeof x === 'string',
    ) as string[];
    const issues = Array.isArray(json.issues) ? json.issues.slice(0, 3).join('; ') : '';
    text = [...parts, issues].filter((x) => x !== '').join(': ');
  } catch {
    // not JSON: the text itself
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

const refused = (status: number, message: string) =>
  ({
    kind: 'fatal',
    error: new FerryError('FERRY_PUSH_REFUSED', message, { retryable: false, status }),
  }) as const;

export function classifyPushAnswer(
  status: number,
  body: string,
  retryAfterMs: number | undefined,
): PushAnswer {
  const reason = reasonOf(body);
  if (status === 200) {
    try {
      const json = JSON.parse(body) as { status?: unknown; alreadyDone?: unknown };
      if (json.status === 'committed')
        return {
          kind: 'committed',
          alreadyDone: typeof json.alreadyDone === 'number' ? json.alreadyDone : 0,
        };
    } catch {
      // fall through
    }
    return refused(
      status,
      `the relay answered 200 without "committed" (${reason}): not a Ferry push endpoint?`,
    );
  }
  if (status === 202) return { kind: 'again' };
  if (status === 429 || status === 408 || status === 425 || status >= 500)
    return { kind: 'retry', reason: reason === '' ? String(status) : `${status} ${reason}`, retryAfterMs };
  if (status === 409)
    return refused(
      status,
      `the relay refused the batch as a conflict (409: ${reason}). It never processed offsets this batch ` +
        'holds: was the group reset, or is a second forwarder group pushing the same topic?',
    );
  if (status === 401 || status === 403)
    return refused(
      status,
      `the relay refused the push (${status}: ${reason}): check FERRY_PUSH_TOKEN and FERRY_PUSH_SIGNING_SECRET ` +
        'against its push.token and push.signingSecret',
    );
  if (status === 413)
    return refused(
      status,
      `the relay refused the batch as too large (413: ${reason}): lower --batch-size or --max-bytes, or raise ` +
        "the relay's push.maxRecords or push.maxBodyBytes (a single record larger than the latter cannot be pushed)",
    );
  return refused(
    status,
    `the relay refused the batch (${status}: ${reason}); a batch it cannot read is a bug, so the forwarder stops`,
  );
}
