// The last door outside text passes on its way to dlq.relay: the reason written with a dead-lettered
// record is scrubbed whoever wrote it (deliver.ts, the parse stage), whatever DLQ writer is behind.
// (Response bodies and client errors are scrubbed earlier: by the senders, and in deliver.ts with
// every configured secret; keeping the request path free of a wrapper keeps 2xx answers as cheap.)
import type { DlqWriter } from './contracts.ts';
import type { Redactor } from './redact.ts';

/** The last line of defence for `ferry-error-message`: every reason is scrubbed before the write. */
export function redactingDlq(dlq: DlqWriter, redact: Redactor): DlqWriter {
  return {
    write: (record, reason) => dlq.write(record, { ...reason, message: redact(reason.message) }),
    close: () => dlq.close(),
  };
}
