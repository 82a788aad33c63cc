// The wire shapes of Redpanda's HTTP Proxy (its Confluent-compatible REST v2 subset), as its handlers
// read and write them (docs/http-proxy.md lists where they differ from its OpenAPI definitions).
// Pure encode/decode, web standards only (atob/btoa), so it bundles for Workers.
//
//   POST /consumers/{group}                               {"name","format":"binary",...} -> {"instance_id","base_uri"}
//   POST /consumers/{group}/instances/{id}/subscription   {"topics":[...]}               -> 204
//   GET  /consumers/{group}/instances/{id}/records?timeout=&max_bytes=
//        Accept: application/vnd.kafka.binary.v2+json    -> [{"topic","key","value","partition","offset"}]
//        key/value base64, null when absent; no headers, no timestamp
//   POST /consumers/{group}/instances/{id}/offsets        {"partitions":[{"topic","partition","offset"}]} -> 204
//        `offset` is the last consumed record's offset; the group resumes at offset + 1
//   GET  /consumers/{group}/instances/{id}/offsets        {"partitions":[{"topic","partition"}]}
//        -> {"offsets":[{"topic","partition","offset","metadata"}]}, offset -1 when nothing is committed
//   DELETE /consumers/{group}/instances/{id}                                              -> 204
//   POST /topics/{topic}  Content-Type: application/vnd.kafka.binary.v2+json
//        {"records":[{"key","value","partition"?}]} -> {"offsets":[{"partition","offset","error_code"?}]}
//   errors: {"error_code": <int>, "message": <string>}; error_code / 100 is the HTTP status for codes >= 600
import type { TopicPartition } from '../../core/contracts.ts';

export const CONTENT_V2 = 'application/vnd.kafka.v2+json';
export const CONTENT_BINARY_V2 = 'application/vnd.kafka.binary.v2+json';
export const CONTENT_JSON_V2 = 'application/vnd.kafka.json.v2+json';

/** Redpanda's error codes that decide what the driver does. */
export const PROXY_ERROR = {
  kafkaBadRequest: 40002,
  kafkaAuthentication: 40101,
  kafkaAuthorization: 40301,
  topicNotFound: 40401,
  partitionNotFound: 40402,
  consumerInstanceNotFound: 40403,
  consumerAlreadyExists: 40902,
  kafkaError: 50002,
  kafkaRetriable: 50003,
  brokerNotAvailable: 50302,
} as const;

export interface ProxyRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
}

export interface ErrorBody {
  readonly error_code: number;
  readonly message: string;
}

export function toBase64(bytes: Uint8Array): string {
  let text = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) text += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(text);
}

export function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

const isOffset = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x);

/** The error body, when the text is one; otherwise undefined (a gateway's HTML page, for one). */
export function parseErrorBody(text: string): ErrorBody | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (isObject(body) && typeof body.error_code === 'number')
      return {
        error_code: body.error_code,
        message: typeof body.message === 'string' ? body.message : '',
      };
  } catch {
    // not JSON
  }
  return undefined;
}

/** A binary-format fetch answer, or the reason it is not one. */
export function decodeRecords(
  body: unknown,
): { readonly ok: true; readonly records: ProxyRecord[] } | { readonly ok: false; readonly problem: string } {
  if (!Array.isArray(body)) return { ok: false, problem: 'records: expected a JSON array' };
  const records: ProxyRecord[] = [];
  for (let i = 0; i < body.length; i++) {
    const r: unknown = body[i];
    if (!isObject(r)) return { ok: false, problem: `records[${i}]: expected an object` };
    if (typeof r.topic !== 'string') return { ok: false, problem: `records[${i}].topic: expected a string` };
    if (!Number.isInteger(r.partition) || (r.partition as number) < 0)
      return { ok: false, problem: `records[${i}].partition: expected a partition number` };
    if (!isOffset(r.offset) || r.offset < 0)
      return { ok: false, problem: `records[${i}].offset: expected an offset below 2^53` };
    const bytes: Array<Uint8Array | null> = [];
    for (const field of ['key', 'value'] as const) {
      const x = r[field];
      if (x === null || x === undefined) bytes.push(null);
      else if (typeof x !== 'string')
        return { ok: false, problem: `records[${i}].${field}: expected base64` };
      else {
        try {
          bytes.push(fromBase64(x));
        } catch {
          return { ok: false, problem: `records[${i}].${field}: not base64` };
        }
      }
    }
    records.push({
      topic: r.topic,
      partition: r.partition as number,
      offset: BigInt(r.offset),
      key: bytes[0] ?? null,
      value: bytes[1] ?? null,
    });
  }
  return { ok: true, records };
}

/** `GET .../offsets` answer: next offset to read per partition (undefined: nothing committed). */
export function decodeCommitted(
  body: unknown,
):
  | { readonly ok: true; readonly offsets: Array<TopicPartition & { readonly next: bigint | undefined }> }
  | { readonly ok: false; readonly problem: string } {
  if (!isObject(body) || !Array.isArray(body.offsets))
    return { ok: false, problem: 'offsets: expected { offsets: [...] }' };
  const offsets: Array<TopicPartition & { next: bigint | undefined }> = [];
  for (const [i, o] of body.offsets.entries()) {
    if (!isObject(o) || typeof o.topic !== 'string' || !Number.isInteger(o.partition) || !isOffset(o.offset))
      return { ok: false, problem: `offsets[${i}]: expected { topic, partition, offset }` };
    offsets.push({
      topic: o.topic,
      partition: o.partition as number,
      next: o.offset < 0 ? undefined : BigInt(o.offset) + 1n,
    });
  }
  return { ok: true, offsets };
}

/** `POST .../offsets` body from next-offsets-to-read (the proxy takes the last consumed offset). */
export function encodeCommit(offsets: ReadonlyArray<TopicPartition & { readonly next: bigint }>): {
  partitions: Array<{ topic: string; partition: number; offset: number }>;
} {
  return {
    partitions: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.next - 1n) })),
  };
}
