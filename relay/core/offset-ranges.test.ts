import { describe, expect, it } from 'vitest';
import { createOffsetRanges } from './offset-ranges.ts';

describe('offset ranges', () => {
  it('holds a contiguous run as one range and knows the gaps of a sparse one', () => {
    const r = createOffsetRanges();
    for (let o = 0n; o < 1000n; o++) r.add(o);
    expect(r.rangeCount).toBe(1);
    for (const o of [1005n, 1007n, 1008n]) r.add(o);
    expect(r.rangeCount).toBe(3);
    expect([0n, 999n, 1005n, 1007n, 1008n].map((o) => r.has(o))).toEqual([true, true, true, true, true]);
    expect([1000n, 1004n, 1006n, 1009n, -1n].map((o) => r.has(o))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('forgets the oldest ranges beyond its cap and never reports them as seen', () => {
    const r = createOffsetRanges({ maxRanges: 2 });
    for (const o of [1n, 3n, 5n, 6n]) r.add(o);
    expect(r.rangeCount).toBe(2);
    expect(r.floor).toBe(3n);
    expect([1n, 3n, 5n, 6n].map((o) => r.has(o))).toEqual([false, true, true, true]);
  });
});
