// One behaviour suite for every DedupeStore (memory, Redis, Upstash): the dedupe protocol of
// docs/delivery.md#dedupe-protocol, checked against the real store. Each run uses a fresh sink name, so runs against the
// shared Redis never see each other's keys.
import { afterAll, describe, expect, it } from 'vitest';
import type { DedupeStore } from '../../relay/core/contracts.ts';

export function dedupeContract(name: string, make: (instanceId: string) => Promise<DedupeStore>): void {
  describe(`${name} dedupe store (protocol)`, () => {
    const opened: DedupeStore[] = [];
    const open = async (instance: string) => {
      const s = await make(instance);
      opened.push(s);
      return s;
    };
    const sink = () => `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    it('claims once; another instance sees pending; the owner re-claims (re-entrant)', async () => {
      const a = await open('a');
      const b = await open('b');
      const s = sink();
      expect(await a.claim(s, 'e1', 5_000)).toBe('claimed');
      expect(await b.claim(s, 'e1', 5_000)).toBe('pending-elsewhere');
      expect(await a.claim(s, 'e1', 5_000)).toBe('claimed');
      expect(await a.ping()).toBe(true);
    });

    it('done wins over any claim; release only frees our own claim', async () => {
      const a = await open('a');
      const b = await open('b');
      const s = sink();
      await a.claim(s, 'd', 5_000);
      await a.markDone(s, 'd', 60_000);
      expect(await a.claim(s, 'd', 5_000)).toBe('done');
      expect(await b.claim(s, 'd', 5_000)).toBe('done');
      await b.release(s, 'd');
      expect(await b.claim(s, 'd', 5_000)).toBe('done');

      expect(await a.claim(s, 'r', 5_000)).toBe('claimed');
      await b.release(s, 'r');
      expect(await b.claim(s, 'r', 5_000)).toBe('pending-elsewhere');
      await a.release(s, 'r');
      expect(await b.claim(s, 'r', 5_000)).toBe('claimed');
    });

    it('leases and the retention TTL expire', async () => {
      const a = await open('a');
      const b = await open('b');
      const s = sink();
      expect(await a.claim(s, 'l', 100)).toBe('claimed');
      await a.markDone(s, 'm', 100);
      await sleep(250);
      expect(await b.claim(s, 'l', 5_000)).toBe('claimed');
      expect(await b.claim(s, 'm', 5_000)).toBe('claimed');
    });

    it('many claims in one tick, and a race on one key has exactly one winner', async () => {
      const a = await open('a');
      const b = await open('b');
      const s = sink();
      const ids = Array.from({ length: 500 }, (_, i) => `k${i}`);
      const results = await Promise.all(ids.map((id) => a.claim(s, id, 5_000)));
      expect(results.every((r) => r === 'claimed')).toBe(true);
      await Promise.all(ids.map((id) => a.markDone(s, id, 60_000)));
      expect(new Set(await Promise.all(ids.map((id) => b.claim(s, id, 5_000))))).toEqual(new Set(['done']));

      const race = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).claim(s, 'race', 5_000).then((r) => [i % 2, r]),
        ),
      );
      const winners = new Set(race.filter(([, r]) => r === 'claimed').map(([who]) => who));
      expect(winners.size).toBe(1);
    });
  });
}
