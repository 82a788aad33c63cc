// Field predicates from the sink's `filter:` list. All must hold for the record to be delivered.
import type { FilterPredicate } from './options.ts';
import { getPath } from './record.ts';

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  return false;
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
