// docs/abi.md §0 (zig-zag varints) and §5 (record payload encoding and the broker's write validation).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload, isValidPayload, type PayloadRecord } from './payload.ts';
import { readVarint, varintSize, writeVarint } from './varint.ts';

const bytes = (...b: number[]) => new Uint8Array(b);
const valid = (b: Uint8Array) => isValidPayload(b, 0, b.length);

describe('§0 varints are zig-zag signed LEB128', () => {
  it('encodes like Go binary.PutVarint', () => {
    const enc = (v: number) => {
      const out = new Uint8Array(10);
      return [...out.subarray(0, writeVarint(out, 0, v))];
    };
    expect(enc(0)).toEqual([0]);
    expect(enc(-1)).toEqual([1]);
    expect(enc(1)).toEqual([2]);
    expect(enc(63)).toEqual([126]);
    expect(enc(64)).toEqual([0x80, 0x01]);
    expect(enc(-65)).toEqual([0x81, 0x01]);
  });
  it('round-trips any safe 32-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        const out = new Uint8Array(10);
        const end = writeVarint(out, 0, v);
        expect(end).toBe(varintSize(v));
        const r = readVarint(out, 0, end, { value: 0, pos: 0 });
        expect(r).toEqual({ value: v, pos: end });
      }),
    );
  });
  it('refuses truncated and over-long (> 10 bytes) varints', () => {
    expect(readVarint(bytes(0x80), 0, 1, { value: 0, pos: 0 }).pos).toBe(-1);
    const eleven = new Uint8Array(11).fill(0x80);
    expect(readVarint(eleven, 0, 11, { value: 0, pos: 0 }).pos).toBe(-1);
  });
});

describe('§5 record payload', () => {
  const arbRecord: fc.Arbitrary<PayloadRecord> = fc.record({
    key: fc.option(fc.uint8Array({ maxLength: 40 })),
    value: fc.option(fc.uint8Array({ maxLength: 300 })),
    headers: fc.array(
      fc.record({ key: fc.string({ maxLength: 10 }), value: fc.option(fc.uint8Array({ maxLength: 20 })) }),
      {
        maxLength: 5,
      },
    ),
  });
  it('encode/decode round-trips, nulls (-1) and empties (0) kept apart', () => {
    fc.assert(
      fc.property(arbRecord, (r) => {
        const enc = encodePayload(r);
        expect(valid(enc)).toBe(true);
        expect(decodePayload(enc)).toEqual(r);
      }),
    );
    expect([...encodePayload({ key: null, value: new Uint8Array(0), headers: [] })]).toEqual([1, 0, 0]);
  });
  it('the write validator rejects what validate_record_payload rejects', () => {
    expect(valid(bytes(1, 1, 0))).toBe(true); // null key, null value, no headers
    expect(valid(bytes(3, 1, 0))).toBe(false); // key length -2 (< -1)
    expect(valid(bytes(1, 3, 0))).toBe(false); // value length -2
    expect(valid(bytes(1, 1, 1))).toBe(false); // header count -1
    expect(valid(bytes(4, 0x61, 1, 0))).toBe(false); // key says 2 bytes, 1 present: truncated
    expect(valid(bytes(1, 1))).toBe(false); // header count missing
    expect(valid(bytes(1, 1, 0, 0))).toBe(false); // trailing byte
    expect(valid(bytes(1, 1, 2, 2, 0x68))).toBe(false); // header value missing
    expect(valid(bytes(1, 1, 2, 1, 1))).toBe(true); // the validator tolerates a null header key
    expect(valid(new Uint8Array(0))).toBe(false);
  });
  it('never accepts a truncation of a valid payload', () => {
    fc.assert(
      fc.property(arbRecord, fc.nat(), (r, cut) => {
        const enc = encodePayload(r);
        const n = cut % enc.length;
        expect(isValidPayload(enc, 0, n)).toBe(false);
      }),
    );
  });
});
