// Properties of config loading over arbitrary input: any text gets an answer (ok or `path: problem`
// lines), never a thrown error; and a value from the environment, put in any setting, never shows up
// in an error, whatever it holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, resolveConfig } from './load.ts';

const SETTINGS = [
  ['adminToken'],
  ['listen', 'port'],
  ['listen', 'host'],
  ['source'],
  ['push', 'token'],
  ['kafka', 'groupId'],
  ['redis', 'url'],
  ['upstash', 'url'],
  ['upstash', 'token'],
  ['http', 'client'],
  ['commitInterval'],
  ['replay', 'perSecond'],
  ['routes', 0, 'topics'],
  ['routes', 0, 'sinks', 0, 'id'],
  ['routes', 0, 'sinks', 0, 'url'],
  ['routes', 0, 'sinks', 0, 'method'],
  ['routes', 0, 'sinks', 0, 'headers', 'X-Api-Key'],
  ['routes', 0, 'sinks', 0, 'auth', 'bearer'],
  ['routes', 0, 'sinks', 0, 'auth', 'webhookSecret'],
  ['routes', 0, 'sinks', 0, 'timeout'],
  ['routes', 0, 'sinks', 0, 'retry', 'attempts'],
  ['routes', 0, 'sinks', 0, 'breaker', 'threshold'],
  ['routes', 0, 'sinks', 0, 'dedupe'],
  ['routes', 0, 'sinks', 0, 'filter', 0, 'gt'],
] as const;

function base(): Record<string, unknown> {
  return {
    adminToken: 'an-admin-token-of-some-length',
    push: { token: 'a-push-token-of-some-length' },
    upstash: { url: 'http://127.0.0.1:8079', token: 't' },
    routes: [
      {
        topics: 'a',
        sinks: [
          {
            id: 's',
            url: 'http://127.0.0.1:4010/x/{id}',
            headers: { 'X-Api-Key': 'k' },
            auth: { bearer: 'b', webhookSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
            filter: [{ field: 'n', gt: 1 }],
          },
        ],
      },
    ],
  };
}

function set(doc: Record<string, unknown>, path: readonly (string | number)[], value: unknown): void {
  let at = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    at[key] ??= typeof key === 'number' ? [] : {};
    at = at[key] as Record<string | number, unknown>;
  }
  at[path[path.length - 1] as string | number] = value;
}

describe('config loading, for any input', () => {
  it('answers any text without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (text) => {
        const r = parseConfig(text, {});
        if (!r.ok) for (const line of r.errors) expect(line).toMatch(/^\S.*: /);
      }),
      { numRuns: 300 },
    );
  });

  it('never echoes a value that came from the environment, in any setting', () => {
    const secret = fc.tuple(
      fc.stringMatching(/^[0-9a-f]{16}$/),
      fc.string({
        unit: fc.constantFrom('', '\r', '\n', '\0', '#', '\\', '@', ' ', '..', '/', '9', '.5', 'ms'),
      }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...SETTINGS), { minLength: 1, maxLength: 4 }),
        secret,
        fc.boolean(),
        (paths, [marker, tail], embed) => {
          const doc = base();
          for (const path of paths) set(doc, path, embed ? `x\${SECRET}x` : `\${SECRET}`);
          const r = resolveConfig(doc, { SECRET: `${marker}${tail}` });
          if (r.ok) return;
          for (const line of r.errors) expect(line).not.toContain(marker);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
