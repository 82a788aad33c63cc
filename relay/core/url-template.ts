// SSRF-safe URL templates. The origin (scheme, host, port) is fixed in the config; `{dotted.path}`
// placeholders may appear only after it, in the path and query. The template is cut into its path
// segments and its query once, at compile time; a record's values are then rendered per part:
// - in the path, a value must be a non-empty scalar without `/`, `\` or control characters, and the
//   rendered segment must not be a dot segment (`.`, `..`, also as `%2e`), else the record is refused
//   (FERRY_URL_UNSAFE_VALUE, FERRY_URL_DOT_SEGMENT): those change the path on the way, in the client
//   (fetch normalises `..`) or in a server or proxy that decodes `%2F` before routing;
// - everything else (`?`, `#`, `&`, `=`, `%`, spaces, non-ASCII) is percent-encoded, so it can only
//   be data: path values as segment text, query values as query components.
// The rendered URL is parsed again to prove its origin did not change.
import { FerryError } from './errors.ts';
import { getPath } from './record.ts';

const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)\}/g;
const HAS_PLACEHOLDER = /\{[A-Za-z0-9_.-]+\}/;

export interface UrlTemplate {
  readonly origin: string;
  readonly fields: readonly string[];
  render(value: unknown): string;
}

/** Literal text and `{field}` placeholders, in order: strings are literals, objects are fields. */
type Piece = string | { readonly field: string };

function piecesOf(text: string): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) pieces.push(text.slice(last, m.index));
    pieces.push({ field: m[1] as string });
    last = m.index + m[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  return pieces;
}

/** Index where the origin ends: the first `/`, `?` or `#` after `scheme://`, or the end. */
function originEndOf(template: string): number {
  const scheme = template.indexOf('://');
  const from = scheme === -1 ? 0 : scheme + 3;
  for (let i = from; i < template.length; i++) {
    const c = template[i];
    if (c === '/' || c === '?' || c === '#') return i;
  }
  return template.length;
}

/**
 * Whether the text has a C0 control character or DEL (and, with `orSpace`, a space): the URL parser
 * strips some of them silently, HTTP clients refuse them.
 */
export function hasControlCharacter(text: string, orSpace = false): boolean {
  const limit = orSpace ? 0x20 : 0x1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= limit || c === 0x7f) return true;
  }
  return false;
}
const isDotSegment = (segment: string): boolean => {
  const s = segment.replace(/%2e/gi, '.');
  return s === '.' || s === '..';
};

/** Returns a problem message, or undefined when the template is acceptable. */
export function checkUrlTemplate(template: string): string | undefined {
  if (hasControlCharacter(template, true)) return 'must not contain whitespace or control characters';
  if (template.includes('\\'))
    return 'must not contain a backslash (URL parsers read it as "/", HTTP clients do not)';
  if (template.includes('#')) return 'must not contain a fragment (#): it is not part of an HTTP request';
  const probe = template.replace(PLACEHOLDER, 'x');
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    return 'must be an http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL';
  if (!/^https?:\/\//i.test(template)) return 'must be an http(s) URL (scheme://host[:port]/...)';
  const originEnd = originEndOf(template);
  const authority = template.slice(template.indexOf('://') + 3, originEnd);
  if (/[{}]/.test(authority))
    return 'placeholders are allowed only in the path and query, the origin is fixed';
  if (url.username || url.password || authority.includes('@'))
    return 'must not contain credentials (use auth)';
  if (authority === '' || /[%]/.test(authority)) return 'must have a plain host[:port]';
  const rest = template.slice(originEnd);
  const query = rest.indexOf('?');
  const path = query === -1 ? rest : rest.slice(0, query);
  for (const segment of path.split('/')) {
    if (!HAS_PLACEHOLDER.test(segment) && isDotSegment(segment))
      return 'must not contain . or .. path segments (clients and servers resolve them differently)';
  }
  return undefined;
}

function scalarText(value: unknown, path: string): string {
  const v = getPath(value, path);
  if (v === undefined || v === null || typeof v === 'object') {
    throw new FerryError('FERRY_URL_TEMPLATE', `url field ${path} is missing or not a scalar`);
  }
  return String(v);
}

function encode(text: string, path: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    // A lone UTF-16 surrogate has no UTF-8 form.
    throw new FerryError('FERRY_URL_UNSAFE_VALUE', `url field ${path} is not well-formed Unicode`);
  }
}

/** A path value: refused when it could add, remove or empty a segment; else percent-encoded. */
function pathValue(value: unknown, path: string): string {
  const text = scalarText(value, path);
  if (text === '') throw new FerryError('FERRY_URL_UNSAFE_VALUE', `url field ${path} is empty in the path`);
  if (text.includes('/') || text.includes('\\'))
    throw new FerryError('FERRY_URL_UNSAFE_VALUE', `url field ${path} contains a path separator`);
  if (hasControlCharacter(text))
    throw new FerryError('FERRY_URL_UNSAFE_VALUE', `url field ${path} contains a control character`);
  return encode(text, path);
}

export function compileUrlTemplate(template: string): UrlTemplate {
  const problem = checkUrlTemplate(template);
  if (problem) throw new FerryError('FERRY_CONFIG_INVALID', `url ${problem}`);
  const origin = new URL(template.replace(PLACEHOLDER, 'x')).origin;
  const fields = [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
  if (fields.length === 0) {
    return { origin, fields, render: () => template };
  }
  const originEnd = originEndOf(template);
  const head = template.slice(0, originEnd);
  const rest = template.slice(originEnd);
  const queryAt = rest.indexOf('?');
  const segments = (queryAt === -1 ? rest : rest.slice(0, queryAt)).split('/').map(piecesOf);
  const query = queryAt === -1 ? [] : piecesOf(rest.slice(queryAt));
  return {
    origin,
    fields,
    render: function renderUrl(value: unknown): string {
      let out = head;
      for (let s = 0; s < segments.length; s++) {
        const pieces = segments[s] as Piece[];
        let segment = '';
        let templated = false;
        for (const piece of pieces) {
          if (typeof piece === 'string') segment += piece;
          else {
            templated = true;
            segment += pathValue(value, piece.field);
          }
        }
        if (templated && isDotSegment(segment)) {
          throw new FerryError('FERRY_URL_DOT_SEGMENT', `url path segment ${s} would be a dot segment`);
        }
        out += s === 0 ? segment : `/${segment}`;
      }
      for (const piece of query) {
        out += typeof piece === 'string' ? piece : encode(scalarText(value, piece.field), piece.field);
      }
      if (new URL(out).origin !== origin) {
        throw new FerryError('FERRY_URL_TEMPLATE', 'rendered url changed origin');
      }
      return out;
    },
  };
}
