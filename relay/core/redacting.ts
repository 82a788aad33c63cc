// Redaction at the two doors outside text passes through on its way to a DLQ header or a reason:
// what a sink answered (response bodies, client error messages) and the reason written with a
// dead-lettered record. Wrappers, so every runtime's sender and any DLQ writer get the same scrubbing.
import type { DlqWriter, HttpSender, SinkResponse } from './contracts.ts';
import type { Redactor } from './redact.ts';

/** Non-2xx bodies and error messages come back scrubbed and bounded; 2xx answers pass untouched. */
export function redactingSender(sender: HttpSender, redact: Redactor): HttpSender {
  const scrub = (response: SinkResponse): SinkResponse => {
    if (response.kind === 'response') {
      if (response.body === undefined || response.body === '') return response;
      return { ...response, body: redact(response.body) };
    }
    if (response.kind === 'timeout') return response;
    return { ...response, message: redact(response.message) };
  };
  return {
    ...(sender.endsRequests === undefined ? {} : { endsRequests: sender.endsRequests }),
    send: (request) => sender.send(request).then(scrub),
    close: () => sender.close(),
  };
}

/** The last line of defence for `ferry-error-message`: every reason is scrubbed before the write. */
export function redactingDlq(dlq: DlqWriter, redact: Redactor): DlqWriter {
  return {
    write: (record, reason) => dlq.write(record, { ...reason, message: redact(reason.message) }),
    close: () => dlq.close(),
  };
}
