import { describe, expect, it } from 'vitest';
import { isFerryError } from './errors.ts';
import { checkUrlTemplate, compileUrlTemplate } from './url-template.ts';

/** The error code render() fails with, or the URL it rendered. */
function outcome(template: string, value: unknown): string {
  try {
    return compileUrlTemplate(template).render(value);
  } catch (e) {
    if (isFerryError(e)) return e.code;
    throw e;
  }
}

describe('URL templates: values cannot change the path structure', () => {
  const items = 'http://127.0.0.1:4010/tpl/items/{id}/sub?q=x';

  it('refuses dot segments, however they are spelt', () => {
    for (const id of ['.', '..']) expect(outcome(items, { id })).toBe('FERRY_URL_DOT_SEGMENT');
    // Built from a literal and a value, or from two values.
    expect(outcome('http://h/a/.{id}/b', { id: '.' })).toBe('FERRY_URL_DOT_SEGMENT');
    expect(outcome('http://h/a/{x}{y}/b', { x: '.', y: '.' })).toBe('FERRY_URL_DOT_SEGMENT');
    expect(outcome('http://h/a/%2e{id}/b', { id: '.' })).toBe('FERRY_URL_DOT_SEGMENT');
    expect(outcome('http://h/a/%2E{id}/b', { id: '' })).toBe('FERRY_URL_UNSAFE_VALUE');
    // A value's own percent signs are encoded, so `%2e%2e` is data, not a dot segment.
    expect(outcome(items, { id: '%2e%2e' })).toBe('http://127.0.0.1:4010/tpl/items/%252e%252e/sub?q=x');
    // Dots that are not a whole segment are ordinary characters.
    expect(outcome(items, { id: '...' })).toBe('http://127.0.0.1:4010/tpl/items/.../sub?q=x');
    expect(outcome('http://h/a/{id}.json', { id: '..' })).toBe('http://h/a/...json');
  });

  it('refuses values that would add, remove or empty a segment', () => {
    for (const id of ['', 'a/b', '../admin', 'a\\b', 'a\nb', 'a\rb', 'a\u0000b', 'a\u007fb', '\ud800']) {
      expect(outcome(items, { id })).toBe('FERRY_URL_UNSAFE_VALUE');
    }
  });

  it('encodes the rest as data: path segment text and query components', () => {
    expect(outcome(items, { id: 'a?b#c d&e=f%' })).toBe(
      'http://127.0.0.1:4010/tpl/items/a%3Fb%23c%20d%26e%3Df%25/sub?q=x',
    );
    expect(outcome(items, { id: 42 })).toBe('http://127.0.0.1:4010/tpl/items/42/sub?q=x');
    const q = 'http://h/search?q={q}&n={n}';
    expect(outcome(q, { q: '../a/b?c#d&e=f\n', n: true })).toBe(
      'http://h/search?q=..%2Fa%2Fb%3Fc%23d%26e%3Df%0A&n=true',
    );
    // Query values may be empty or dots: they cannot change the path.
    expect(outcome(q, { q: '', n: '..' })).toBe('http://h/search?q=&n=..');
    expect(outcome(q, { q: '\udc00', n: 1 })).toBe('FERRY_URL_UNSAFE_VALUE');
    expect(outcome(items, { id: {} })).toBe('FERRY_URL_TEMPLATE');
  });

  it('accepts templates in the query right after a bare origin', () => {
    expect(checkUrlTemplate('http://127.0.0.1:4010?x={id}')).toBeUndefined();
    expect(outcome('http://127.0.0.1:4010?x={id}', { id: 'a/b' })).toBe('http://127.0.0.1:4010?x=a%2Fb');
  });

  it('refuses templates that HTTP clients and URL parsers read differently', () => {
    expect(checkUrlTemplate('http://127.0.0.1:4010\\@other/x')).toMatch(/backslash/);
    expect(checkUrlTemplate('http://127.0.0.1:4010/a\\b')).toMatch(/backslash/);
    expect(checkUrlTemplate('http://127.0.0.1:4010@other/x')).toMatch(/credentials/);
    expect(checkUrlTemplate('http://127.0.0.1/x#{id}')).toMatch(/fragment/);
    expect(checkUrlTemplate('http://127.0.0.1/x?y=1#top')).toMatch(/fragment/);
    expect(checkUrlTemplate(' http://127.0.0.1/x')).toMatch(/whitespace/);
    expect(checkUrlTemplate('http://127.0.0.1/x\ty')).toMatch(/whitespace/);
    expect(checkUrlTemplate('http://127.0.0.1/x\n')).toMatch(/whitespace/);
    expect(checkUrlTemplate('http:/127.0.0.1/x')).toMatch(/http\(s\)/);
    expect(checkUrlTemplate('javascript://127.0.0.1/x')).toMatch(/http\(s\)/);
    expect(checkUrlTemplate('http://127.0.0.1/a/../{id}')).toMatch(/\. or \.\. path segments/);
    expect(checkUrlTemplate('http://127.0.0.1/a/%2E/{id}')).toMatch(/\. or \.\. path segments/);
    expect(checkUrlTemplate('http://127.0.0.1:4010?x={id}&y=2')).toBeUndefined();
  });
});
