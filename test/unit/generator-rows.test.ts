// The generator's building blocks without a database: seeded randomness, bad-row kinds, status rules.
import { describe, expect, it } from 'vitest';
import { createRng } from '../../deploy/local/generator/rng.ts';
import { KNOWN_FACILITIES, loadRow, shipmentRow, trailerRow } from '../../deploy/local/generator/rows.ts';
import { impossibleNext, isLegalTransition, TRANSITIONS } from '../../deploy/local/generator/statuses.ts';

const known = new Set<string>(KNOWN_FACILITIES);

describe('generator rows', () => {
  it('same seed, same rows', () => {
    const a = createRng(5);
    const b = createRng(5);
    const strip = (r: Record<string, unknown>) => ({
      ...r,
      promised_delivery: null,
      planned_departure: null,
    });
    expect(strip(shipmentRow(a, 1))).toEqual(strip(shipmentRow(b, 1)));
    expect(strip(loadRow(a, 2))).toEqual(strip(loadRow(b, 2)));
  });

  it('good rows are valid: known facilities, positive weights, first status', () => {
    const rng = createRng(1);
    for (let i = 0; i < 200; i++) {
      const s = shipmentRow(rng, null);
      expect(known.has(String(s.origin_facility))).toBe(true);
      expect(s.origin_facility).not.toBe(s.destination_facility);
      expect(Number(s.weight)).toBeGreaterThan(0);
      expect(s.status).toBe('created');
      expect(trailerRow(rng).status).toBe('available');
    }
  });

  it('each bad kind produces that defect', () => {
    const rng = createRng(2);
    expect(Number(shipmentRow(rng, null, 'negative_weight').weight)).toBeLessThan(0);
    expect(Number(loadRow(rng, null, 'negative_weight').gross_weight)).toBeLessThan(0);
    const unknown = shipmentRow(rng, null, 'unknown_facility');
    expect(
      known.has(String(unknown.origin_facility)) && known.has(String(unknown.destination_facility)),
    ).toBe(false);
    const missing = shipmentRow(rng, null, 'missing_fields');
    expect(missing.status).toBeNull();
    expect(missing.weight).toBeNull();
    expect(missing.tracking_number).toBeNull();
  });

  it('impossible transitions are never legal ones', () => {
    const rng = createRng(3);
    for (const table of ['shipments', 'loads', 'trailers'] as const) {
      for (const from of Object.keys(TRANSITIONS[table])) {
        for (let i = 0; i < 10; i++) {
          expect(isLegalTransition(table, from, impossibleNext(table, from, rng.pick))).toBe(false);
        }
      }
    }
    expect(isLegalTransition('shipments', 'delivered', 'created')).toBe(false);
    expect(isLegalTransition('shipments', 'created', 'booked')).toBe(true);
  });
});
