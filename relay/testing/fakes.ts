// Test doubles for the seams that are not the system under test: a scripted HTTP sender that records
// every request, and a DLQ writer that keeps what it was given.
import type {
  DeadLetterReason,
  DlqWriter,
  HttpSender,
  SinkRequest,
  SinkResponse,
  SourceRecord,
} from '../core/contracts.ts';

export interface ScriptedSender extends HttpSender {
  readonly requests: SinkRequest[];
  /** Max concurrent sends seen. */
  maxConcurrent: number;
  respond: (request: SinkRequest) => SinkResponse | Promise<SinkResponse>;
}

export function createScriptedSender(
  respond: ScriptedSender['respond'] = () => ({ kind: 'response', status: 200 }),
  delayMs = 0,
): ScriptedSender {
  let current = 0;
  const sender: ScriptedSender = {
    requests: [],
    maxConcurrent: 0,
    respond,
    async send(request) {
      sender.requests.push(request);
      current++;
      sender.maxConcurrent = Math.max(sender.maxConcurrent, current);
      try {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        return await sender.respond(request);
      } finally {
        current--;
      }
    },
    async close() {},
  };
  return sender;
}

export interface MemoryDlq extends DlqWriter {
  readonly records: Array<{ record: SourceRecord; reason: DeadLetterReason }>;
  failNext: number;
  /** Thrown by every write while set (e.g. a permanent DlqWriteError). */
  failWith: unknown;
}

export function createMemoryDlq(): MemoryDlq {
  const dlq: MemoryDlq = {
    records: [],
    failNext: 0,
    failWith: undefined,
    async write(record, reason) {
      if (dlq.failWith !== undefined) throw dlq.failWith;
      if (dlq.failNext > 0) {
        dlq.failNext--;
        throw new Error('dlq unavailable');
      }
      dlq.records.push({ record, reason });
      return 'full';
    },
    async close() {},
  };
  return dlq;
}

export async function waitUntil(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
