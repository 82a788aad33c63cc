// SSRF-safe URL templates. The origin (scheme, host, port) is fixed in the config; `{dotted.path}`
// placeholders may appear only after it, in the path and query. Each value is URL-encoded, and the
// rendered URL is parsed again to prove its origin did not change.
import { FerryError } from './errors.ts';
import { getPath } from './record.ts';

const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)\}/g;

export interface UrlTemplate {
  readonly origin: string;
  readonly fields: readonly string[];
  render(value: unknown): string;
}

/** Returns a problem message, or undefined when the template is acceptable. */
export function checkUrlTemplate(template: string): string | undefined {
  const probe = template.replace(PLACEHOLDER, 'x');
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    return 'must be an http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL';
  if (url.username || url.password) return 'must not contain credentials (use auth)';
  const originEnd = template.indexOf('/', template.indexOf('//') + 2);
  const originPart = originEnd === -1 ? template : template.slice(0, originEnd);
  if (/[{}]/.test(originPart))
    return 'placeholders are allowed only in the path and query, the origin is fixed';
  return undefined;
}

export function compileUrlTemplate(template: string): UrlTemplate {
  const problem = checkUrlTemplate(template);
  if (problem) throw new FerryError('FERRY_CONFIG_INVALID', `url ${problem}`);
  const origin = new URL(template.replace(PLACEHOLDER, 'x')).origin;
  const fields = [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
  if (fields.length === 0) {
    return { origin, fields, render: () => template };
  }
  return {
    origin,
    fields,
    render: function renderUrl(value: unknown): string {
      const out = template.replace(PLACEHOLDER, (_m, path: string) => {
        const v = getPath(value, path);
        if (v === undefined || v === null || typeof v === 'object') {
          throw new FerryError('FERRY_URL_TEMPLATE', `url field ${path} is missing or not a scalar`);
        }
        return encodeURIComponent(String(v));
      });
      if (new URL(out).origin !== origin) {
        throw new FerryError('FERRY_URL_TEMPLATE', 'rendered url changed origin');
      }
      return out;
    },
  };
}
