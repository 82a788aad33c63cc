// The ferry-error-* headers a dlq.relay record carries beside the original key, value and headers
// (relay/README.md "Dead letters"), and reading them back for replay. One place for both directions.
import type { DeadLetterReason, RecordHeader, SourceRecord } from './contracts.ts';
import { headerText } from './record.ts';

export const DLQ_HEADERS = {
  stage: 'ferry-error-stage',
  code: 'ferry-error-code',
  message: 'ferry-error-message',
  sink: 'ferry-error-sink',
  attempts: 'ferry-error-attempts',
  topic: 'ferry-error-source-topic',
  partition: 'ferry-error-source-partition',
  offset: 'ferry-error-source-offset',
  firstFailureAt: 'ferry-error-first-failure-at',
  lastFailureAt: 'ferry-error-last-failure-at',
  // Only on a pointer record (the original did not fit the DLQ topic): the value is a prefix of the
  // original, which replay reads back from the source topic at topic/partition/offset.
  pointer: 'ferry-error-pointer',
  originalSize: 'ferry-error-original-size',
  valueSha256: 'ferry-error-value-sha256',
  truncated: 'ferry-error-truncated',
} as const;

/** What a pointer record says about the original it stands for. */
export interface PointerInfo {
  /** Bytes of the original value (0 for a tombstone). */
  readonly originalSize: number;
  /** Hex sha-256 of the original value (of no bytes for a tombstone). */
  readonly sha256: string;
  /** Whether the original key or headers were left out too (beside the value). */
  readonly truncated: boolean;
}

const encoder = new TextEncoder();
const PREFIX = 'ferry-error-';

/** The headers of the dlq.relay record: the original ones (minus stale ferry-error-*) plus the reason. */
export function deadLetterHeaders(
  record: SourceRecord,
  reason: DeadLetterReason,
  pointer?: PointerInfo,
): RecordHeader[] {
  const out: RecordHeader[] = record.headers.filter((h) => !h.key.startsWith(PREFIX));
  const add = (key: string, value: string) => out.push({ key, value: encoder.encode(value) });
  add(DLQ_HEADERS.stage, reason.stage);
  add(DLQ_HEADERS.code, reason.code);
  add(DLQ_HEADERS.message, reason.message.slice(0, 1000));
  add(DLQ_HEADERS.sink, reason.sink);
  add(DLQ_HEADERS.attempts, String(reason.attempts));
  add(DLQ_HEADERS.topic, record.topic);
  add(DLQ_HEADERS.partition, String(record.partition));
  add(DLQ_HEADERS.offset, String(record.offset));
  add(DLQ_HEADERS.firstFailureAt, new Date(reason.firstFailureAt).toISOString());
  add(DLQ_HEADERS.lastFailureAt, new Date(reason.lastFailureAt).toISOString());
  if (pointer) {
    add(DLQ_HEADERS.pointer, 'true');
    add(DLQ_HEADERS.originalSize, String(pointer.originalSize));
    add(DLQ_HEADERS.valueSha256, pointer.sha256);
    add(DLQ_HEADERS.truncated, pointer.truncated ? 'value,key-or-headers' : 'value');
  }
  return out;
}

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  /** The record as it was before it was dead-lettered (source topic/partition/offset, original headers). */
  readonly original: SourceRecord;
  /** Where it sits in dlq.relay. */
  readonly dlq: { readonly topic: string; readonly partition: number; readonly offset: bigint };
  /**
   * Set when the record is a pointer: `original.value` is then only a prefix of the original, which
   * must be read from the source topic (and checked against `sha256`) before it is replayed.
   */
  readonly pointer?: PointerInfo;
}

/** Reads a dlq.relay record back; undefined when it lacks the ferry-error-* headers. */
export function parseDeadLetter(record: SourceRecord): DeadLetter | undefined {
  const h = (k: string) => headerText(record.headers, k);
  const sink = h(DLQ_HEADERS.sink);
  const topic = h(DLQ_HEADERS.topic);
  const partition = h(DLQ_HEADERS.partition);
  const offset = h(DLQ_HEADERS.offset);
  if (sink === undefined || topic === undefined || partition === undefined || offset === undefined)
    return undefined;
  if (!/^\d+$/.test(partition) || !/^\d+$/.test(offset)) return undefined;
  const stage = h(DLQ_HEADERS.stage);
  const time = (k: string) => {
    const t = Date.parse(h(k) ?? '');
    return Number.isNaN(t) ? record.timestamp : t;
  };
  return {
    reason: {
      stage: stage === 'parse' || stage === 'config' || stage === 'dedupe' ? stage : 'deliver',
      code: h(DLQ_HEADERS.code) ?? '',
      message: h(DLQ_HEADERS.message) ?? '',
      sink,
      attempts: Number(h(DLQ_HEADERS.attempts) ?? 0),
      firstFailureAt: time(DLQ_HEADERS.firstFailureAt),
      lastFailureAt: time(DLQ_HEADERS.lastFailureAt),
    },
    original: {
      topic,
      partition: Number(partition),
      offset: BigInt(offset),
      key: record.key,
      value: record.value,
      headers: record.headers.filter((x) => !x.key.startsWith(PREFIX)),
      timestamp: record.timestamp,
    },
    dlq: { topic: record.topic, partition: record.partition, offset: record.offset },
    ...pointerOf(h),
  };
}

function pointerOf(h: (k: string) => string | undefined): { pointer?: PointerInfo } {
  if (h(DLQ_HEADERS.pointer) !== 'true') return {};
  const size = h(DLQ_HEADERS.originalSize) ?? '';
  return {
    pointer: {
      originalSize: /^\d+$/.test(size) ? Number(size) : -1,
      sha256: (h(DLQ_HEADERS.valueSha256) ?? '').toLowerCase(),
      truncated: h(DLQ_HEADERS.truncated) !== 'value',
    },
  };
}
