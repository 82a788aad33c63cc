import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from './dlq-envelope.ts';

const enc = new TextEncoder();

describe('dead-letter envelope', () => {
  it('round-trips key, value and headers, binary and empty ones included', () => {
    const headers = [
      { key: 'ferry-event-id', value: enc.encode('e-1') },
      { key: 'bin', value: new Uint8Array([0xc3, 0x28, 0x00]) },
      { key: 'none', value: null },
    ];
    const doc = JSON.parse(
      JSON.stringify(encodeEnvelope(enc.encode('k'), new Uint8Array([1, 2, 255]), headers)),
    );
    expect(doc.headers[0]).toEqual({ key: 'ferry-event-id', value: 'e-1' });
    expect(doc.headers[1]).toHaveProperty('base64');
    const back = decodeEnvelope(doc);
    expect(back?.key).toEqual(enc.encode('k'));
    expect([...(back?.value ?? [])]).toEqual([1, 2, 255]);
    expect(back?.headers).toEqual(headers);
  });

  it('keeps a tombstone and a missing key as null', () => {
    const back = decodeEnvelope(JSON.parse(JSON.stringify(encodeEnvelope(null, null, []))));
    expect(back).toEqual({ key: null, value: null, headers: [] });
  });

  it.each([
    ['not an object', 'x'],
    ['another version', { ferryDeadLetter: 2, key: null, value: null, headers: [] }],
    ['bad base64', { ferryDeadLetter: 1, key: '%%%', value: null, headers: [] }],
    ['a header without key', { ferryDeadLetter: 1, key: null, value: null, headers: [{ value: 'x' }] }],
    [
      'a header value of another type',
      { ferryDeadLetter: 1, key: null, value: null, headers: [{ key: 'a', value: 1 }] },
    ],
  ])('reads %s as not an envelope', (_what, doc) => {
    expect(decodeEnvelope(doc)).toBeUndefined();
  });
});
