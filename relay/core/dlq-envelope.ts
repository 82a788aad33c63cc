// A dead letter as one JSON document, for DLQs that cannot carry Kafka record headers: Redpanda's
// HTTP Proxy produce API (its records have key, value and partition only) and a DLQ sink URL. The
// document holds what a dlq.relay record carries in Kafka: the original key, value and headers plus
// the same ferry-error-* headers (dlq-headers.ts), so a reader can rebuild that record exactly.
//
//   {
//     "ferryDeadLetter": 1,                      format version
//     "key":   "<base64>" | null,                original key
//     "value": "<base64>" | null,                original value (null: tombstone, or left out: pointer)
//     "headers": [                               original headers, then the ferry-error-* ones
//       { "key": "ferry-event-id", "value": "<UTF-8 text>" },
//       { "key": "bin", "base64": "<base64>" },  a value that is not valid UTF-8
//       { "key": "empty", "value": null },       a header without value
//       { "key": "ferry-error-code", "value": "FERRY_SINK_REJECTED" }, ...
//     ]
//   }
//
// Through the HTTP Proxy the record's key is the original key and its value is this document's JSON
// text; to a DLQ sink URL the document is the request body.
import { base64ToBytes, bytesToBase64 } from './base64.ts';
import type { RecordHeader } from './contracts.ts';

export const ENVELOPE_VERSION = 1;

export type EnvelopeHeader =
  | { readonly key: string; readonly value: string | null }
  | { readonly key: string; readonly base64: string };

export interface DeadLetterEnvelope {
  readonly ferryDeadLetter: typeof ENVELOPE_VERSION;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: readonly EnvelopeHeader[];
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function headerOf(h: RecordHeader): EnvelopeHeader {
  if (h.value === null) return { key: h.key, value: null };
  try {
    return { key: h.key, value: strictUtf8.decode(h.value) };
  } catch {
    return { key: h.key, base64: bytesToBase64(h.value) };
  }
}

/** The envelope of a dead letter whose full header list (original + ferry-error-*) is `headers`. */
export function encodeEnvelope(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: readonly RecordHeader[],
): DeadLetterEnvelope {
  return {
    ferryDeadLetter: ENVELOPE_VERSION,
    key: key === null ? null : bytesToBase64(key),
    value: value === null ? null : bytesToBase64(value),
    headers: headers.map(headerOf),
  };
}

export interface DecodedEnvelope {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: RecordHeader[];
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** Reads an envelope back; undefined when `doc` is not one (bad input is data, not an exception). */
export function decodeEnvelope(doc: unknown): DecodedEnvelope | undefined {
  if (!isObject(doc) || doc.ferryDeadLetter !== ENVELOPE_VERSION || !Array.isArray(doc.headers))
    return undefined;
  const bytes = (x: unknown): Uint8Array | null | undefined => {
    if (x === null) return null;
    if (typeof x !== 'string') return undefined;
    try {
      return base64ToBytes(x);
    } catch {
      return undefined;
    }
  };
  const key = bytes(doc.key);
  const value = bytes(doc.value);
  if (key === undefined || value === undefined) return undefined;
  const headers: RecordHeader[] = [];
  for (const h of doc.headers as unknown[]) {
    if (!isObject(h) || typeof h.key !== 'string') return undefined;
    if (typeof h.base64 === 'string') {
      const b = bytes(h.base64);
      if (!b) return undefined;
      headers.push({ key: h.key, value: b });
    } else if (h.value === null) headers.push({ key: h.key, value: null });
    else if (typeof h.value === 'string') headers.push({ key: h.key, value: encoder.encode(h.value) });
    else return undefined;
  }
  return { key, value, headers };
}
