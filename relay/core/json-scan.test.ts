import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourceRecord } from './contracts.ts';
import { createJsonScanner } from './json-scan.ts';
import { commitTimestampOf, parseValue } from './record.ts';

const enc = new TextEncoder();
const recordOf = (value: Uint8Array): SourceRecord => ({
  topic: 't',
  partition: 0,
  offset: 0n,
  key: null,
  value,
  headers: [],
  timestamp: 1234,
});

const scanner = createJsonScanner();
/** The scanner's verdict must be JSON.parse's (after a fatal UTF-8 decode), byte for byte. */
function agrees(bytes: Uint8Array): void {
  const parsed = parseValue(recordOf(bytes));
  const ok = scanner.scan(bytes);
  if (ok !== parsed.ok) {
    throw new Error(
      `scan ${ok} but JSON.parse ${parsed.ok} for ${JSON.stringify(Array.from(bytes.subarray(0, 200)))}`,
    );
  }
  // The same bytes inside a larger buffer (as a fetched batch hands them over), with bytes around
  // them that would change the verdict if the scan read past its view.
  const framed = new Uint8Array(bytes.length + 7);
  framed.set([0x22, 0x5c, 0x7b], 0);
  framed.set(bytes, 3);
  framed.set([0x22, 0x7d, 0x5d, 0x20], 3 + bytes.length);
  expect(scanner.scan(framed.subarray(3, 3 + bytes.length))).toBe(ok);
  if (!parsed.ok) return;
  expect(scanner.isNull).toBe(parsed.value === null);
  const ts = scanner.commitTimestamp(bytes, recordOf(bytes));
  if (ts !== undefined) expect(ts).toBe(commitTimestampOf(parsed.value, recordOf(bytes)));
}
const agreesText = (text: string) => agrees(enc.encode(text));
const bytes = (...b: number[]) => Uint8Array.from(b);

describe('JSON scanner', () => {
  it('agrees with JSON.parse on hand-picked valid and invalid documents', () => {
    const cases = [
      '{}',
      '[]',
      ' \t\r\n{ "a" : [ 1 , -0 , 0.5 , 1e5 , 1E-5 , -12.5e+3 , true , false , null , "x" ] } \n',
      '"str"',
      '0',
      '-0',
      'null',
      ' null ',
      'true',
      '1e400',
      '"\\u00e9\\ud800\\/\\b\\f\\n\\r\\t\\"\\\\"',
      '{"a":{"b":{"c":[[[[{}]]]]}}}',
      '',
      ' ',
      '{',
      '}',
      '[1,]',
      '{"a":1,}',
      '{,}',
      '[,1]',
      '{"a" 1}',
      '{"a":}',
      '{a:1}',
      "{'a':1}",
      '01',
      '-',
      '1.',
      '.5',
      '1e',
      '1e+',
      '+1',
      'NaN',
      'Infinity',
      'tru',
      'nul',
      'truex',
      '"abc',
      '"\\x"',
      '"\\u12"',
      '"\\u12G4"',
      '"a\tb"',
      '"a\u0000b"',
      '"\u007f"',
      '{}{}',
      '[] []',
      '1 2',
      '[1}',
      '{"a":1]',
      '\u00a0{}',
      '{}\u00a0',
      '\ufeff{}',
      '\ufeff\ufeff{}',
      '{"a":"\u2028\u2029"}',
      '"😀"',
      '[' + '1,'.repeat(1000) + '1]',
    ];
    for (const c of cases) agreesText(c);
  });

  it('follows the UTF-8 rules of a fatal TextDecoder inside and outside strings', () => {
    const q = 0x22;
    const inString = (...b: number[]) => bytes(q, ...b, q);
    const cases = [
      inString(0xc3, 0xa9), // é
      inString(0xc0, 0xaf), // overlong
      inString(0xc1, 0xbf),
      inString(0xe0, 0x80, 0xaf), // overlong
      inString(0xe0, 0xa0, 0x80),
      inString(0xed, 0x9f, 0xbf),
      inString(0xed, 0xa0, 0x80), // surrogate
      inString(0xef, 0xbf, 0xbf),
      inString(0xf0, 0x8f, 0xbf, 0xbf), // overlong
      inString(0xf0, 0x90, 0x80, 0x80),
      inString(0xf4, 0x8f, 0xbf, 0xbf),
      inString(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
      inString(0xf5, 0x80, 0x80, 0x80),
      inString(0xff),
      inString(0x80),
      inString(0xc3), // truncated
      inString(0xe2, 0x82), // truncated
      bytes(q, 0xc3), // truncated at the end
      bytes(q, 0xe2, 0x82),
      bytes(0xc3, 0xa9),
      bytes(0xef, 0xbb, 0xbf), // a BOM alone
      bytes(0xef, 0xbb, 0xbf, 0x31),
      bytes(0xef, 0xbb, 0x31),
      bytes(0x5b, 0x31, 0x5d, 0xff),
    ];
    for (const c of cases) agrees(c);
  });

  it('scans deep nesting without recursion', () => {
    agreesText('['.repeat(100_000) + ']'.repeat(100_000));
    agreesText('['.repeat(100_000) + ']'.repeat(99_999));
    agreesText('{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000));
  });

  it('agrees with JSON.parse on the fixture corpus (hostile records included)', () => {
    const dir = join(import.meta.dirname, '../../test/fixtures/corpus');
    let n = 0;
    for (const file of ['shipments.jsonl', 'trailers.jsonl', 'loads.jsonl']) {
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const c = JSON.parse(line) as {
          value?: string | null;
          valueBase64?: string;
          expand?: Array<{ token: string; text: string; count: number }>;
        };
        let value: Uint8Array | undefined;
        if (c.valueBase64 !== undefined) value = Uint8Array.from(Buffer.from(c.valueBase64, 'base64'));
        else if (typeof c.value === 'string') {
          let text = c.value;
          for (const e of c.expand ?? []) text = text.replace(e.token, e.text.repeat(e.count));
          value = enc.encode(text);
        }
        if (value === undefined) continue;
        agrees(value);
        n++;
      }
    }
    expect(n).toBeGreaterThan(30);
  });

  it('finds the commit time where commitTimestampOf does', () => {
    const cases = [
      '{"source":{"ts_ms":1700000000000}}',
      '{"source":{"ts_ms":null},"payload":{"source":{"ts_ms":5}}}',
      '{"source":{"ts_ms":"7"},"payload":{"source":{"ts_ms":5}}}',
      '{"source":{"ts_ms":1},"source":{"x":2}}',
      '{"source":{"ts_ms":1},"source":3}',
      '{"source":[1,2],"occurredAt":"2026-11-26T10:00:00.000Z"}',
      '{"payload":{"source":{"ts_ms":1e400}},"occurredAt":"2026-11-26T10:00:00.000Z"}',
      '{"payload":{"source":{"ts_ms":-0}}}',
      '{"payload":{"source":{"ts_ms":12.5}},"payload":{}}',
      '{"payload":{"source":{"ts_ms":12}, "source":{"y":1}}}',
      '{"occurredAt":"not a time"}',
      '{"occurredAt":"2026-11-26T10:00:00Z","occurredAt":5}',
      '{"occurredAt":"2026-11-26\\u0054 10:00:00Z"}',
      '{"occurredAt":{"a":1}}',
      '{"a":{"source":{"ts_ms":3}}}',
      '[{"source":{"ts_ms":3}}]',
      '"x"',
      '{"source":{"ts_ms":3,"ts_ms":4}}',
      '{"source":{"inner":{"ts_ms":9}}}',
    ];
    for (const c of cases) {
      const b = enc.encode(c);
      expect(scanner.scan(b)).toBe(true);
      expect(scanner.commitTimestamp(b, recordOf(b))).toBe(commitTimestampOf(JSON.parse(c), recordOf(b)));
    }
    // An escaped watched key: only a parse can tell, so the scanner says so.
    const escaped = enc.encode('{"\\u0073ource":{"ts_ms":3}}');
    expect(scanner.scan(escaped)).toBe(true);
    expect(scanner.commitTimestamp(escaped, recordOf(escaped))).toBeUndefined();
  });

  it('agrees with JSON.parse on generated documents, their mutations and random bytes', () => {
    const doc = fc.oneof(
      fc.json(),
      fc
        .record({
          source: fc.oneof(
            fc.record({ ts_ms: fc.oneof(fc.integer(), fc.double(), fc.constant(null)) }),
            fc.json(),
          ),
          payload: fc.oneof(fc.record({ source: fc.record({ ts_ms: fc.integer() }) }), fc.json()),
          occurredAt: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string(),
          ),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(doc, (text) => agreesText(text)),
      { numRuns: 2000 },
    );
    // Mutations: a byte replaced, deleted or inserted.
    fc.assert(
      fc.property(
        doc,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 2 }),
        (t, at, byte, op) => {
          const b = Array.from(enc.encode(t));
          const i = b.length === 0 ? 0 : at % b.length;
          if (op === 0 && b.length > 0) b[i] = byte;
          else if (op === 1 && b.length > 0) b.splice(i, 1);
          else b.splice(i, 0, byte);
          agrees(Uint8Array.from(b));
        },
      ),
      { numRuns: 5000 },
    );
    const alphabet = fc.constantFrom(...Array.from('{}[]:,"\\ 0123456789-+.eEtruefalsnl\u00e9\t\n'));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 24 }), (chars) => agreesText(chars.join(''))),
      { numRuns: 20000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), (b) => agrees(b)),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => agreesText(JSON.stringify(s))),
      { numRuns: 2000 },
    );
  });
});
