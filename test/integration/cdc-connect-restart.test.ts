// Kafka Connect stopped (SIGTERM by pid) and later killed (SIGKILL by pid) in the middle of a stream
// of row changes, each time started again: afterwards every committed change is on its topic.
// Duplicates are allowed (Debezium re-sends what it had not committed offsets for) and counted;
// losses are not allowed.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { GEN_TABLES, generate } from '../../deploy/local/generator/index.ts';
import { runningPid, stopByPid } from '../../deploy/local/process.ts';
import { stackUp } from '../../deploy/local/stack.ts';
import { cdcOffsets, waitForChanges } from '../support/cdc.ts';

const quiet = () => {};

async function killConnect(pid: number): Promise<void> {
  process.kill(-pid, 'SIGKILL');
  for (let i = 0; i < 100 && runningPid('connect') !== undefined; i++) await sleep(100);
}

describe('CDC: Kafka Connect restarted mid-stream', () => {
  it('loses no row change (duplicates counted)', async () => {
    const from = await cdcOffsets(GEN_TABLES);
    const stream = generate({ rate: 200, durationMs: 45_000, badShare: 0.1, seed: 23 });
    try {
      await sleep(5_000);
      const before = runningPid('connect');
      expect(before).toBeDefined();
      expect(await stopByPid({ name: 'connect', signal: 'SIGTERM' })).not.toBe('not-running');
      await sleep(3_000); // changes keep committing while nothing captures them
      await stackUp({ say: quiet });
      const afterTerm = runningPid('connect');
      expect(afterTerm).toBeDefined();
      expect(afterTerm).not.toBe(before);

      await sleep(5_000);
      await killConnect(afterTerm!); // a crash: no graceful offset commit
      await sleep(3_000);
      await stackUp({ say: quiet });
      expect(runningPid('connect')).toBeDefined();
    } finally {
      // Whatever happened above, leave Connect running for everyone else.
      if (runningPid('connect') === undefined) await stackUp({ say: quiet });
    }
    const result = await stream;
    expect(result.total).toBeGreaterThan(5_000);

    const accounting = await waitForChanges(result.changes, from, { timeoutMs: 90_000 });
    console.log('Connect restart accounting', {
      committed: result.total,
      delivered: accounting.delivered,
      missing: accounting.missing.length,
      duplicates: accounting.duplicates,
      eventsRead: accounting.events,
    });
    expect(accounting.missing).toEqual([]);
    expect(accounting.delivered).toBe(result.total);
  });
});
