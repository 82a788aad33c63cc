// The status life cycles of the supply-chain entities: which changes are possible. The database
// does not enforce them (the generator writes impossible ones on purpose); validation downstream
// should reject any change whose before.status → after.status is not listed here.
export const SHIPMENT_TRANSITIONS: Record<string, readonly string[]> = {
  created: ['booked', 'cancelled'],
  booked: ['picked_up', 'cancelled'],
  picked_up: ['in_transit', 'exception'],
  in_transit: ['out_for_delivery', 'exception'],
  out_for_delivery: ['delivered', 'exception'],
  exception: ['in_transit', 'cancelled'],
  delivered: [],
  cancelled: [],
};

export const LOAD_TRANSITIONS: Record<string, readonly string[]> = {
  planned: ['tendered', 'cancelled'],
  tendered: ['assigned', 'cancelled'],
  assigned: ['picked_up', 'cancelled'],
  picked_up: ['in_transit'],
  in_transit: ['delivered'],
  delivered: [],
  cancelled: [],
};

export const TRAILER_TRANSITIONS: Record<string, readonly string[]> = {
  available: ['loading', 'maintenance'],
  loading: ['in_transit', 'available'],
  in_transit: ['unloading'],
  unloading: ['available'],
  maintenance: ['available', 'retired'],
  retired: [],
};

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
