// Properties of URL templates over arbitrary values: a rendered URL keeps the origin and the template's
// segments, and the value comes back as exactly one segment (or one query value); anything else is a
// refusal with a URL code, never a thrown non-Ferry error. WHATWG URL parsing (which resolves dot
// segments and reads `\` as `/`) is the judge, as fetch would send it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFerryError } from './errors.ts';
import { compileUrlTemplate } from './url-template.ts';

/** Whether every UTF-16 surrogate is paired (String.prototype.isWellFormed, outside this tsconfig's lib). */
const wellFormed = (s: string): boolean => !/\p{Surrogate}/u.test(s);

const REFUSALS = new Set(['FERRY_URL_DOT_SEGMENT', 'FERRY_URL_UNSAFE_VALUE']);

/** Strings rich in what matters to URLs: dots, separators, percent signs, controls, any Unicode. */
const tricky = fc.oneof(
  fc.string({
    unit: fc.constantFrom('.', '/', '\\', '%', '2', 'e', 'E', '?', '#', '@', ':', ' ', '\n', '\0'),
  }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('.', '..', '%2e', '%2E%2e', '.%2e', '', '/', '\\..'),
);

describe('URL templates, for any value', () => {
  const path = compileUrlTemplate('http://127.0.0.1:4010/tpl/items/{id}/sub?q={q}');

  it('either keeps the structure with the value as one segment and one query value, or refuses', () => {
    fc.assert(
      fc.property(tricky, fc.oneof(tricky, fc.integer(), fc.boolean()), (id, q) => {
        let out: string;
        try {
          out = path.render({ id, q });
        } catch (e) {
          expect(isFerryError(e) && REFUSALS.has(e.code)).toBe(true);
          return;
        }
        const url = new URL(out);
        expect(url.origin).toBe('http://127.0.0.1:4010');
        const segments = url.pathname.split('/');
        expect(segments).toHaveLength(5);
        expect([segments[1], segments[2], segments[4]]).toEqual(['tpl', 'items', 'sub']);
        expect(decodeURIComponent(segments[3] as string)).toBe(id);
        expect(url.searchParams.get('q')).toBe(String(q));
        expect([...url.searchParams.keys()]).toEqual(['q']);
        expect(url.hash).toBe('');
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses exactly the dot segments, empty values, separators, controls and lone surrogates', () => {
    fc.assert(
      fc.property(tricky, (id) => {
        const dot = id === '.' || id === '..';
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point here
        const unsafe = id === '' || /[/\\\u0000-\u001f\u007f]/.test(id) || !wellFormed(id);
        let code = 'rendered';
        try {
          path.render({ id, q: 1 });
        } catch (e) {
          code = isFerryError(e) ? e.code : 'threw';
        }
        expect(code).toBe(unsafe ? 'FERRY_URL_UNSAFE_VALUE' : dot ? 'FERRY_URL_DOT_SEGMENT' : 'rendered');
      }),
      { numRuns: 2000 },
    );
  });
});
