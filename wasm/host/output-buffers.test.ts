// The pool behind BatchResult.release() (batch-codec.ts createOutputBuffers): buffers come back only when
// given, a taken buffer is never handed out twice, a full pool keeps the larger buffers, and a fresh
// buffer shows no bytes but zeros past what its first batch will write.
import { describe, expect, it } from 'vitest';
import { createOutputBuffers } from './batch-codec.ts';

describe('output buffers', () => {
  it('hands a given buffer out again, once, and only when it is large enough', () => {
    const pool = createOutputBuffers(4);
    const a = pool.take(100_000);
    expect(a.byteLength).toBeGreaterThanOrEqual(100_000);
    const b = pool.take(100_000);
    expect(b).not.toBe(a); // a is still taken
    pool.give(a);
    expect(pool.take(300_000)).not.toBe(a); // too small for this one
    expect(pool.take(50_000)).toBe(a);
    expect(pool.take(50_000)).not.toBe(a); // taken again: not in the pool any more
  });

  it('a fresh buffer is zero past the length asked for', () => {
    const pool = createOutputBuffers(2);
    const b = new Uint8Array(pool.take(70_000));
    expect(b.length).toBeGreaterThanOrEqual(70_000);
    expect(b.subarray(70_000).every((x) => x === 0)).toBe(true);
  });

  it('when full, keeps the larger buffers', () => {
    const pool = createOutputBuffers(2);
    const small1 = pool.take(10);
    const small2 = pool.take(10);
    const big = pool.take(2_000_000);
    pool.give(small1);
    pool.give(small2);
    pool.give(big); // replaces one of the small ones
    expect(pool.take(1_500_000)).toBe(big);
    const left = pool.take(10);
    expect([small1, small2]).toContain(left);
    // buffers over the pooling limit are not kept
    const huge = pool.take(20_000_000);
    pool.give(huge);
    expect(pool.take(20_000_000)).not.toBe(huge);
  });
});
