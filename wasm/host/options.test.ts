// docs/abi.md §6: write_record_with_options options buffer.
import { describe, expect, it } from 'vitest';
import { encodeWriteOptions, OptionsOutOfRange, parseWriteOptions } from './options.ts';

const dec = new TextDecoder();

describe('§6 write options', () => {
  it('empty buffer = default topic', () => {
    expect(parseWriteOptions(new Uint8Array(0))).toEqual({ ok: true, topic: null });
  });
  it('key 0x01 (a raw byte) + zig-zag length + UTF-8 name', () => {
    const enc = encodeWriteOptions('dlq.transform');
    expect([...enc.subarray(0, 2)]).toEqual([0x01, 26]);
    const parsed = parseWriteOptions(enc);
    expect(parsed.ok && parsed.topic !== null && dec.decode(parsed.topic)).toBe('dlq.transform');
  });
  it('unknown key or leftover bytes -> INVALID_BUFFER', () => {
    expect(parseWriteOptions(new Uint8Array([0x02, 2, 0x61]))).toEqual({ ok: false });
    expect(parseWriteOptions(new Uint8Array([0x01, 2, 0x61, 0x01]))).toEqual({ ok: false });
    // two entries: only one option is parsed, the rest are leftovers
    expect(parseWriteOptions(new Uint8Array([0x01, 2, 0x61, 0x01, 2, 0x62]))).toEqual({ ok: false });
  });
  it('truncated varint or over-long name makes the parser throw (a trap in the host)', () => {
    expect(() => parseWriteOptions(new Uint8Array([0x01]))).toThrow(OptionsOutOfRange);
    expect(() => parseWriteOptions(new Uint8Array([0x01, 0x80]))).toThrow(OptionsOutOfRange);
    expect(() => parseWriteOptions(new Uint8Array([0x01, 20, 0x61]))).toThrow(OptionsOutOfRange);
  });
});
