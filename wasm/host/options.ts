// write_record_with_options options buffer (docs/abi.md §6):
//
//   options := ( key:u8 value )*   -- at most one entry today, only key 0x01
//   0x01    => output topic: name_len:varint(zig-zag) name:utf8[name_len]
//
// Empty = default topic. Unknown key or leftover bytes -> INVALID_BUFFER (-2). A truncated varint or a
// topic length past the end makes the broker's ffi::reader throw out_of_range: a trap (§3, [inferred]).
import { readVarint, type VarintRead, writeVarint } from './varint.ts';

export const OPTION_OUTPUT_TOPIC = 0x01;

export type ParsedOptions = { ok: true; topic: Uint8Array | null } | { ok: false };

/** Thrown for the cases where the broker's parser throws (a trap, not -2). */
export class OptionsOutOfRange extends Error {
  constructor() {
    super('out_of_range: write options buffer ends early');
    this.name = 'OptionsOutOfRange';
  }
}

const scratch: VarintRead = { value: 0, pos: 0 };

export function parseWriteOptions(buf: Uint8Array): ParsedOptions {
  if (buf.length === 0) return { ok: true, topic: null };
  const key = buf[0]!;
  if (key !== OPTION_OUTPUT_TOPIC) return { ok: false };
  const r = readVarint(buf, 1, buf.length, scratch);
  if (r.pos < 0) throw new OptionsOutOfRange();
  if (r.value < 0 || r.pos + r.value > buf.length) throw new OptionsOutOfRange();
  const end = r.pos + r.value;
  if (end !== buf.length) return { ok: false };
  return { ok: true, topic: buf.subarray(r.pos, end) };
}

/** Encoder, for tests and guests written in TypeScript. */
export function encodeWriteOptions(topic: string | null): Uint8Array {
  if (topic === null) return new Uint8Array(0);
  const name = new TextEncoder().encode(topic);
  const out = new Uint8Array(1 + 10 + name.length);
  out[0] = OPTION_OUTPUT_TOPIC;
  const pos = writeVarint(out, 1, name.length);
  out.set(name, pos);
  return out.subarray(0, pos + name.length);
}
