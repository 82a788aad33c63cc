// Field predicates from the sink's `filter:` list. All must hold for the record to be delivered.
import type { FilterPredicate } from './options.ts';
import { getPath } from './record.ts';

/**
 * Structural equality of a record's value `a` with a configured value `b`. It recurses along `b` only,
 * so its depth is the config's, never the record's (a record nested 100,000 deep compares in one step).
 */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
  if (Array.isArray(b)) {
    if (!Array.isArray(a) || a.length !== b.length) return false;
    for (let i = 0; i < b.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(a)) return false;
  const keys = Object.keys(b);
  if (Object.keys(a).length !== keys.length) return false;
  for (const k of keys) {
    if (!Object.hasOwn(a, k) || !equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
      return false;
  }
  return true;
}

export function matchesPredicate(value: unknown, p: FilterPredicate): boolean {
  const v = getPath(value, p.field);
  if ('eq' in p) return equal(v, p.eq);
  if ('ne' in p) return !equal(v, p.ne);
  if ('in' in p) return p.in.some((x) => equal(v, x));
  if ('exists' in p) return (v !== undefined && v !== null) === p.exists;
  if (typeof v !== 'number') return false;
  if ('gt' in p) return v > p.gt;
  if ('gte' in p) return v >= p.gte;
  if ('lt' in p) return v < p.lt;
  return v <= p.lte;
}

export function matchesFilter(value: unknown, filter: readonly FilterPredicate[]): boolean {
  return filter.every((p) => matchesPredicate(value, p));
}
