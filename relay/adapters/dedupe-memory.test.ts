import { expect, it } from 'vitest';
import { dedupeContract } from '../../test/support/dedupe-contract.ts';
import { createMemoryDedupeStore, createMemoryDedupeTable } from './dedupe-memory.ts';

// Instances in one process share a table, which is how the contract's two instances race.
const table = createMemoryDedupeTable();
dedupeContract('memory', async (instanceId) => createMemoryDedupeStore({ instanceId, table }));

it('sweeps expired entries', async () => {
  let t = 0;
  const store = createMemoryDedupeStore({ instanceId: 'a', now: () => t, sweepEvery: 3 });
  await store.claim('s', '1', 10);
  await store.claim('s', '2', 10);
  t = 20;
  expect(store.peek('s', '1')).toBeUndefined();
  await store.claim('s', '3', 10);
  await store.markDone('s', '4', 10);
  expect(store.size()).toBe(2);
});
