// The offsets of one partition that were really handed to the core, as sorted, disjoint, inclusive
// ranges: a contiguous stream is one range however long it runs; a compacted one costs a range per gap.
// Bounded to `maxRanges`: beyond it the oldest ranges are forgotten, and everything below `floor` is
// unknown (never reported as seen).

export interface OffsetRanges {
  /** Whether `offset` was added (and not forgotten). */
  has(offset: bigint): boolean;
  /** Adds offsets in increasing order, each above every offset added before. */
  add(offset: bigint): void;
  /** Offsets below this are unknown, whether or not they were added once. */
  readonly floor: bigint;
  readonly rangeCount: number;
}

export function createOffsetRanges({ maxRanges = 4096 }: { maxRanges?: number } = {}): OffsetRanges {
  // Flat pairs [start0, end0, start1, end1, ...], ascending.
  const bounds: bigint[] = [];
  let floor = -1n;
  return {
    has: function hasOffset(offset) {
      if (offset < floor) return false;
      let lo = 0;
      let hi = bounds.length / 2 - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const start = bounds[2 * mid] as bigint;
        const end = bounds[2 * mid + 1] as bigint;
        if (offset < start) hi = mid - 1;
        else if (offset > end) lo = mid + 1;
        else return true;
      }
      return false;
    },
    add: function addOffset(offset) {
      const last = bounds.length - 1;
      if (last > 0 && offset <= (bounds[last] as bigint)) return;
      if (last > 0 && offset === (bounds[last] as bigint) + 1n) {
        bounds[last] = offset;
        return;
      }
      bounds.push(offset, offset);
      if (bounds.length / 2 > maxRanges) {
        bounds.splice(0, 2);
        floor = bounds[0] as bigint;
      }
    },
    get floor() {
      return floor;
    },
    get rangeCount() {
      return bounds.length / 2;
    },
  };
}
