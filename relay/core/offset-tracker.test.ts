import { describe, expect, it } from 'vitest';
import { createOffsetTracker } from './offset-tracker.ts';

describe('offset tracker', () => {
  it('commits the low-water mark of terminal records, not beyond a gap', () => {
    const t = createOffsetTracker();
    const a = t.track('t', 0, 0n, 2);
    const b = t.track('t', 0, 1n, 1);
    const c = t.track('t', 0, 2n, 1);
    t.settle(b);
    t.settle(c);
    expect(t.takeCommittable()).toEqual([{ topic: 't', partition: 0, offset: 0n }]);
    t.settle(a);
    expect(t.takeCommittable()).toEqual([]);
    t.settle(a);
    expect(t.takeCommittable()).toEqual([{ topic: 't', partition: 0, offset: 3n }]);
    expect(t.takeCommittable()).toEqual([]);
  });

  it('treats records with no routes as terminal at once', () => {
    const t = createOffsetTracker();
    t.track('t', 1, 5n, 0);
    t.track('t', 1, 6n, 0);
    expect(t.takeCommittable()).toEqual([{ topic: 't', partition: 1, offset: 7n }]);
  });

  it('ignores settles from before a revoke (never commits stale offsets)', () => {
    const t = createOffsetTracker();
    const old = t.track('t', 0, 0n, 1);
    t.revoke([{ topic: 't', partition: 0 }]);
    t.assign([{ topic: 't', partition: 0 }]);
    expect(t.settle(old)).toBe(false);
    expect(t.isCurrent(old)).toBe(false);
    expect(t.takeCommittable()).toEqual([]);
  });

  it('offers a mark again after a failed commit', () => {
    const t = createOffsetTracker();
    t.settle(t.track('t', 0, 0n, 1));
    const first = t.takeCommittable();
    t.uncommit(first);
    expect(t.takeCommittable()).toEqual(first);
  });
});
