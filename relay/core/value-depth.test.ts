import { describe, expect, it } from 'vitest';
import { isFerryError } from './errors.ts';
import { matchesFilter } from './filter.ts';
import type { SinkOptions } from './options.ts';
import { createRequestBuilder } from './request-builder.ts';
import { exceedsDepth, MAX_VALUE_DEPTH } from './value-depth.ts';

/** `{"a":{"a":...{"id":1}}}` nested `depth` levels, parsed the way the relay parses record values. */
function nested(depth: number): unknown {
  return JSON.parse(`${'{"a":'.repeat(depth - 1)}{"id":1}${'}'.repeat(depth - 1)}`);
}

const record = { topic: 't', partition: 0, offset: 0n, key: null, value: null, headers: [], timestamp: 0 };

function sink(overrides: Partial<SinkOptions>): SinkOptions {
  return {
    id: 's',
    url: 'http://127.0.0.1:4010/x',
    method: 'POST',
    headers: {},
    auth: {},
    body: { kind: 'value' },
    timeoutMs: 1000,
    retry: { attempts: 1, backoffBaseMs: 1, backoffCapMs: 1, jitter: 'none' },
    breaker: { mode: 'consecutive', threshold: 5, halfOpenAfterMs: 1000 },
    maxInFlight: 1,
    bufferSize: 1,
    rateLimitPerSecond: undefined,
    onOpen: 'pause',
    onExhausted: 'deadletter',
    parkMs: 1000,
    dedupe: { enabled: false, store: 'memory', ttlMs: 0, leaseMs: 0, onUnavailable: 'deliver' },
    filter: [],
    ...overrides,
  } as SinkOptions;
}

describe('values nested too deep', () => {
  it('measures depth without recursion', () => {
    expect(exceedsDepth(1, 0)).toBe(false);
    expect(exceedsDepth(nested(3), 3)).toBe(false);
    expect(exceedsDepth(nested(4), 3)).toBe(true);
    expect(exceedsDepth(nested(100_000))).toBe(true);
    expect(exceedsDepth([[], [[[]]]], 3)).toBe(true);
  });

  it('a projection of a 100,000-deep value fails as FERRY_VALUE_TOO_DEEP, not a stack overflow', () => {
    const builder = createRequestBuilder(
      sink({ url: 'http://127.0.0.1:4010/x/{id}', body: { kind: 'project', fields: { doc: 'doc' } } }),
    );
    const deep = { id: 7, doc: nested(100_000) };
    let error: unknown;
    try {
      builder.build(record, deep, 'e1', 0);
    } catch (e) {
      error = e;
    }
    expect(isFerryError(error) && error.code).toBe('FERRY_VALUE_TOO_DEEP');
    expect(isFerryError(error) && error.retryable).toBe(false);
    // The limit is the documented one: a value at the limit is sent whole.
    const atLimit = { id: 7, doc: nested(MAX_VALUE_DEPTH - 1) };
    const built = builder.build(record, atLimit, 'e2', 0);
    expect(built instanceof Promise).toBe(false);
    if (built instanceof Promise) return;
    expect(built.url).toBe('http://127.0.0.1:4010/x/7');
    expect(JSON.parse(built.body as string)).toEqual({ doc: atLimit.doc });
  });

  it('filters compare a deep value without recursing into it', () => {
    const v = { after: nested(100_000) };
    expect(matchesFilter(v, [{ field: 'after', eq: { a: { a: 1 } } }])).toBe(false);
    expect(matchesFilter(v, [{ field: 'after', ne: { b: 1 } }])).toBe(true);
    expect(matchesFilter(v, [{ field: 'after', in: [[1], { a: {} }] }])).toBe(false);
    expect(
      matchesFilter({ x: { b: [1, { c: 2 }], a: 1 } }, [{ field: 'x', eq: { a: 1, b: [1, { c: 2 }] } }]),
    ).toBe(true);
    expect(matchesFilter({ x: { a: 1, b: 2 } }, [{ field: 'x', eq: { a: 1 } }])).toBe(false);
    expect(matchesFilter({ x: [1, 2] }, [{ field: 'x', eq: { 0: 1, 1: 2 } }])).toBe(false);
  });
});
