// The status life cycles of the supply-chain entities: which changes are possible. They are the
// clean-topic contracts' (relay/contracts/<entity>.ts, the one TypeScript statement of them; the
// AssemblyScript transforms carry their own copy, held to it by test/unit/transforms-corpus.test.ts).
// The database does not enforce them: the generator walks them for good updates and writes changes
// outside them on purpose (impossible_transition), which validation downstream must reject.
import { loads } from '../../../relay/contracts/loads.ts';
import { shipments } from '../../../relay/contracts/shipments.ts';
import { trailers } from '../../../relay/contracts/trailers.ts';

type LifeCycle = Readonly<Record<string, readonly string[]>>;

export const SHIPMENT_TRANSITIONS: LifeCycle = shipments.transitions;
export const LOAD_TRANSITIONS: LifeCycle = loads.transitions;
export const TRAILER_TRANSITIONS: LifeCycle = trailers.transitions;

export const TRANSITIONS = {
  shipments: SHIPMENT_TRANSITIONS,
  loads: LOAD_TRANSITIONS,
  trailers: TRAILER_TRANSITIONS,
} as const;

/** True when from → to is a legal status change (same status counts as legal: not a transition). */
export function isLegalTransition(table: keyof typeof TRANSITIONS, from: string, to: string): boolean {
  return from === to || (TRANSITIONS[table][from]?.includes(to) ?? false);
}

/** A status that cannot follow `from` (e.g. delivered → created). */
export function impossibleNext(
  table: keyof typeof TRANSITIONS,
  from: string,
  pick: <T>(xs: readonly T[]) => T,
) {
  const all = Object.keys(TRANSITIONS[table]);
  const legal = new Set([from, ...(TRANSITIONS[table][from] ?? [])]);
  return pick(all.filter((s) => !legal.has(s)));
}
