// Row factories for the generator: realistic good rows, and bad ones of a named kind. A bad row is
// still accepted by the database (the schema is permissive on purpose).
import { FACILITIES } from '../../../relay/contracts/facilities.ts';
import type { Rng } from './rng.ts';

/** The facilities of the SQL seed, as the contracts know them (a good row uses only these). */
export const KNOWN_FACILITIES: readonly string[] = FACILITIES.map((f) => f.code);
export const UNKNOWN_FACILITIES = ['ZZZ9', 'XXX0', 'ATL9', 'NOWHERE', ''] as const;

export type BadKind = 'missing_fields' | 'negative_weight' | 'unknown_facility' | 'impossible_transition';
export const INSERT_BAD_KINDS: readonly BadKind[] = ['missing_fields', 'negative_weight', 'unknown_facility'];
export const UPDATE_BAD_KINDS: readonly BadKind[] = [
  'impossible_transition',
  'negative_weight',
  'unknown_facility',
  'missing_fields',
];

export type Row = Record<string, string | number | null>;

const twoFacilities = (rng: Rng): [string, string] => {
  const a = rng.pick(KNOWN_FACILITIES);
  let b = rng.pick(KNOWN_FACILITIES);
  while (b === a) b = rng.pick(KNOWN_FACILITIES);
  return [a, b];
};

const hoursFromNow = (h: number): string => new Date(Date.now() + h * 3_600_000).toISOString();
const alnum = (rng: Rng, n: number): string =>
  Array.from({ length: n }, () => '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ'[rng.int(0, 33)]).join('');

function spoil(row: Row, bad: BadKind | undefined, rng: Rng, weightCol: string, facilityCols: string[]): Row {
  if (bad === 'negative_weight') row[weightCol] = -Math.abs(Number(row[weightCol] ?? 1) || 1);
  if (bad === 'unknown_facility') row[rng.pick(facilityCols)] = rng.pick(UNKNOWN_FACILITIES);
  if (bad === 'missing_fields') {
    row.status = null;
    row[weightCol] = null;
    row[rng.pick(facilityCols)] = null;
  }
  return row;
}

export function trailerRow(rng: Rng, bad?: BadKind): Row {
  const home = rng.pick(KNOWN_FACILITIES);
  const unit = rng.chance(0.7) ? 'kg' : 'lb';
  const row: Row = {
    trailer_number: `TRL-${String(rng.int(0, 999_999)).padStart(6, '0')}`,
    trailer_type: rng.pick(['dry_van', 'reefer', 'flatbed', 'tanker']),
    capacity_weight: unit === 'kg' ? rng.int(18_000, 27_000) : rng.int(40_000, 60_000),
    capacity_unit: unit,
    status: 'available',
    home_facility: home,
    current_facility: home,
  };
  if (bad === 'missing_fields') row.trailer_number = null;
  return spoil(row, bad, rng, 'capacity_weight', ['home_facility', 'current_facility']);
}

export function loadRow(rng: Rng, trailerId: number | null, bad?: BadKind): Row {
  const [origin, destination] = twoFacilities(rng);
  const unit = rng.chance(0.7) ? 'kg' : 'lb';
  const row: Row = {
    load_number: `LD-2026-${String(rng.int(0, 9_999_999)).padStart(7, '0')}`,
    trailer_id: trailerId,
    origin_facility: origin,
    destination_facility: destination,
    status: 'planned',
    gross_weight: Math.round(rng.int(500_000, 20_000_000)) / 1000,
    weight_unit: unit,
    planned_departure: hoursFromNow(rng.int(1, 72)),
  };
  if (bad === 'missing_fields') row.load_number = null;
  return spoil(row, bad, rng, 'gross_weight', ['origin_facility', 'destination_facility']);
}

export function shipmentRow(rng: Rng, loadId: number | null, bad?: BadKind): Row {
  const [origin, destination] = twoFacilities(rng);
  const unit = rng.chance(0.6) ? 'kg' : 'lb';
  const row: Row = {
    tracking_number: `FRY${alnum(rng, 10)}`,
    load_id: loadId,
    customer_ref: `CUST-${rng.int(1000, 9999)}-${alnum(rng, 4)}`,
    origin_facility: origin,
    destination_facility: destination,
    status: 'created',
    weight: rng.int(100, 2_000_000) / 1000,
    weight_unit: unit,
    pieces: rng.int(1, 40),
    declared_value_cents: rng.int(1_000, 5_000_000),
    promised_delivery: hoursFromNow(rng.int(24, 24 * 7)),
  };
  if (bad === 'missing_fields') {
    row.tracking_number = null;
    row.pieces = null;
  }
  return spoil(row, bad, rng, 'weight', ['origin_facility', 'destination_facility']);
}
