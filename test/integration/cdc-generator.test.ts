// Every change the generator commits (good and bad rows, inserts, updates, deletes on three tables)
// is on cdc.public.<table>, matched by table, op, primary key and transaction id.
import { describe, expect, it } from 'vitest';
import { GEN_TABLES, generate } from '../../deploy/local/generator/index.ts';
import { cdcOffsets, waitForChanges } from '../support/cdc.ts';

describe('CDC: the generator', () => {
  it('commits inserts, updates, deletes and bad rows, and every one arrives on its topic', async () => {
    const from = await cdcOffsets(GEN_TABLES);
    const result = await generate({ count: 600, rate: 0, badShare: 0.2, seed: 11, batchSize: 50 });
    expect(result.total).toBe(600);
    expect(result.changes).toHaveLength(600);
    for (const table of GEN_TABLES) {
      expect(result.counts[table].insert).toBeGreaterThan(0);
      expect(result.counts[table].update).toBeGreaterThan(0);
    }
    expect(result.counts.shipments.delete).toBeGreaterThan(0);
    expect(Object.keys(result.bad).sort()).toEqual(
      ['impossible_transition', 'missing_fields', 'negative_weight', 'unknown_facility'].sort(),
    );

    const accounting = await waitForChanges(result.changes, from, { timeoutMs: 30_000 });
    console.log('generator accounting', { ...accounting, missing: accounting.missing.length });
    expect(accounting.missing).toEqual([]);
    expect(accounting.delivered).toBe(600);
  });

  it('is deterministic: the same seed from the same rows makes the same choices', async () => {
    const { createRng } = await import('../../deploy/local/generator/rng.ts');
    const a = createRng(42);
    const b = createRng(42);
    expect(Array.from({ length: 50 }, () => a.next())).toEqual(Array.from({ length: 50 }, () => b.next()));
  });
});
