// docs/abi.md §2.5 and §10 (CPU budget, memory limit), §11 (failure semantics: traps, proc_exit, exited
// _start, restart with backoff), §0 (FFI bounds checks), §3/§6 (option parser traps), shutdown.
import { describe, expect, it } from 'vitest';
import { commandRecords, hex, run, startProbe } from '../../test/support/probe-host.ts';
import type { FerryWasmError } from './errors.ts';
import { encodePayload } from './payload.ts';

const good = hex(encodePayload({ key: null, value: new TextEncoder().encode('v'), headers: [] }));

async function trapOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; kind: string; message: string; offset?: bigint; retryable: boolean };
  }
  throw new Error('expected a trap');
}

describe('§11 traps are reported with a code, a message and the record offset', () => {
  it('unreachable, FFI out of bounds, proc_exit, option parser out_of_range', async () => {
    const host = await startProbe();
    try {
      const cases: Array<[string, string, RegExp]> = [
        ['trap', 'trap', /unreachable/],
        ['oob', 'trap', /Out of bounds memory access in FFI/],
        ['oob-read', 'trap', /Out of bounds memory access in FFI/],
        ['exit 7', 'proc_exit', /exited with code: 7/],
        [`opts ${good} 01`, 'trap', /failure executing host function: out_of_range/],
        [`opts ${good} 011461`, 'trap', /out_of_range/],
      ];
      let offset = 1000n;
      for (const [command, kind, message] of cases) {
        const error = await trapOf(
          host.process({ baseOffset: offset, records: commandRecords(['nothing', command], offset) }),
        );
        expect(error).toMatchObject({ code: 'FERRY_WASM_TRAP', kind, retryable: true, offset: offset + 1n });
        expect(error.message).toMatch(message);
        expect(error.message).toContain(`record offset ${offset + 1n}`);
        offset += 10n;
      }
      // each trap restarted the instance; it still works
      expect(await run(host, ['random'])).toEqual(['0909090909090909']);
      expect(host.stats).toMatchObject({ traps: cases.length, restarts: cases.length });
    } finally {
      await host.close();
    }
  }, 120_000); // the first test of the file compiles the probe guest
  it('_start returning is a failure too: "vm has exited"', async () => {
    const host = await startProbe();
    try {
      const error = await trapOf(run(host, ['return']));
      expect(error).toMatchObject({ code: 'FERRY_WASM_TRAP', kind: 'exited' });
      expect(error.message).toMatch(/vm has exited/);
    } finally {
      await host.close();
    }
  });
  it('a trap during start-up rejects createTransformHost (proc_exit before the first batch)', async () => {
    await expect(startProbe({ env: { PROBE_START: 'exit' } })).rejects.toMatchObject({
      code: 'FERRY_WASM_TRAP',
      kind: 'proc_exit',
    });
  });
});

describe('§11 restart backoff: doubling from initial to max, reset after a healthy period', () => {
  it('waits initial, 2x initial, ... up to max before restarting a poison-record loop', async () => {
    const traps: Array<{ at: number; retryAfterMs: number | undefined }> = [];
    const host = await startProbe({
      backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 60_000 },
      onTrap: (e) => traps.push({ at: Date.now(), retryAfterMs: (e as FerryWasmError).retryAfterMs }),
    });
    try {
      const readyAt: number[] = [];
      for (let i = 0; i < 4; i++) {
        await trapOf(run(host, ['trap']));
        // the next process() waits for the restart
        expect(await run(host, ['random'])).toHaveLength(1);
        readyAt.push(Date.now());
      }
      expect(traps.map((t) => t.retryAfterMs)).toEqual([100, 200, 400, 400]);
      // and it really waited (lower bounds only)
      for (const [i, t] of traps.entries())
        expect(readyAt[i]! - t.at).toBeGreaterThanOrEqual(t.retryAfterMs! - 5);
      expect(host.stats.restarts).toBe(4);
    } finally {
      await host.close();
    }
  });
  it('resets to the initial delay after resetAfterMs of healthy running', async () => {
    const delays: Array<number | undefined> = [];
    const host = await startProbe({
      // resetAfterMs well above any stall a loaded machine has between two traps of the loop below
      // (a stall longer than it would reset the delay early and give [50, 50, ...]).
      backoff: { initialMs: 50, maxMs: 10_000, resetAfterMs: 4000 },
      onTrap: (e) => delays.push((e as FerryWasmError).retryAfterMs),
    });
    try {
      for (let i = 0; i < 3; i++) {
        await trapOf(run(host, ['trap']));
        await run(host, ['nothing']);
      }
      await new Promise((r) => setTimeout(r, 4200));
      await trapOf(run(host, ['trap']));
      // without the reset the fourth delay would be 400 ms (50 * 2^3)
      expect(delays).toEqual([50, 100, 200, 50]);
    } finally {
      await host.close();
    }
  });
});

describe('§2.5 / §10 per-record CPU budget', () => {
  it('a record running past the budget is ended as out_of_fuel and the instance restarts', async () => {
    const host = await startProbe({ recordTimeoutMs: 1000 });
    try {
      const error = await trapOf(
        host.process({ baseOffset: 5n, records: commandRecords(['nothing', 'loop'], 5n) }),
      );
      expect(error).toMatchObject({ code: 'FERRY_WASM_TRAP', kind: 'out_of_fuel', offset: 6n });
      expect(await run(host, ['random'])).toEqual(['0909090909090909']);
    } finally {
      await host.close();
    }
  });
  it('the same budget applies to start-up', async () => {
    await expect(startProbe({ recordTimeoutMs: 1000, env: { PROBE_START: 'loop' } })).rejects.toMatchObject({
      kind: 'out_of_fuel',
    });
  });
});

describe('§10 per-transform memory limit', () => {
  it('memory.grow beyond the default 2 MiB fails (-1); within it succeeds', async () => {
    const host = await startProbe();
    try {
      const [first] = await run(host, ['grow 100']);
      const [pages] = first!.split(' ');
      expect(first).toBe(`${pages} -1 ${pages}`);
      const room = 32 - Number(pages);
      expect(await run(host, [`grow ${room}`])).toEqual([`${pages} ${pages} 32`]);
      // stats.memoryBytes: linear memory at the last batch boundary
      expect(host.stats.memoryBytes).toBe(32 * 65536);
      expect(await run(host, ['grow 1'])).toEqual(['32 -1 32']);
    } finally {
      await host.close();
    }
  });
  it('the limit is configurable', async () => {
    const host = await startProbe({ memoryLimitBytes: 4 * 65536 });
    try {
      const [line] = await run(host, ['grow 3']);
      expect(line).toMatch(/^\d+ -1 \d+$/);
    } finally {
      await host.close();
    }
  });
});

describe('§3 shutdown', () => {
  it('close() breaks the blocked read_batch_header; process() afterwards is refused', async () => {
    const host = await startProbe();
    await host.close();
    await expect(run(host, ['random'])).rejects.toMatchObject({ code: 'FERRY_WASM_CLOSED' });
  });
});
