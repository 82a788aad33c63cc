// Output records as plain data (text instead of bytes) for comparisons in the official-SDK tests.
import type { OutputRecord } from '../../wasm/index.ts';

export const text = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString());

export function plain(outputs: OutputRecord[]) {
  return outputs.map((o) => ({
    topic: o.topic,
    key: text(o.key),
    value: text(o.value),
    headers: o.headers.map((h) => [h.key, text(h.value)]),
  }));
}
