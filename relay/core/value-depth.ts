// How deep a parsed JSON value nests, measured with an explicit stack (no recursion), so that a value
// too deep for JSON.stringify (a few thousand levels overflow the call stack on V8) is refused up front
// with FERRY_VALUE_TOO_DEEP instead of failing somewhere later with a RangeError.

/** Deepest nesting the relay reads or re-serialises: far above real payloads, far below the stack. */
export const MAX_VALUE_DEPTH = 512;

/** Whether the value nests objects/arrays deeper than `max` levels (a scalar has depth 0). */
export function exceedsDepth(value: unknown, max: number = MAX_VALUE_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const node = stack.pop() as object;
    const depth = depths.pop() as number;
    if (depth > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (child !== null && typeof child === 'object') {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
