// Pipelined batches (types.ts `pipelineDepth`): several process() calls in flight on one host give the
// same outputs, in the same order, as one at a time; calls beyond the depth wait; a trap rejects the batch
// it happened in and every later unfinished one (docs/abi.md §11: none of them was processed), and the
// restarted instance processes them again; a batch's log lines come before it settles (§8); close()
// rejects what is in flight.
import { describe, expect, it } from 'vitest';
import { commandRecords, run, startProbe } from '../../test/support/probe-host.ts';
import { caseHeaders, caseValue, loadCorpus, transformModule } from '../../test/support/transforms.ts';
import type { FerryWasmError } from './errors.ts';
import { createTransformHost } from './host.ts';
import type { BatchResult, HostRecord, InputBatch, OutputRecord, TransformHost } from './types.ts';

const enc = new TextEncoder();
const hex = (b: Uint8Array | null) => (b === null ? 'null' : Buffer.from(b).toString('hex'));

/** Every byte of a batch's outputs, as one string per record. */
function bytesOf(outputs: OutputRecord[]): string[] {
  return outputs.map(
    (o) =>
      `${o.topic} ${hex(o.key)} ${hex(o.value)} ${o.headers.map((h) => `${h.key}=${hex(h.value)}`).join(',')}`,
  );
}

/** The shipments corpus, then generated variations of it, in batches of 7 (offsets follow on). */
function corpusBatches(): InputBatch[] {
  const corpus = loadCorpus('shipments');
  const records: HostRecord[] = [];
  for (let round = 0; round < 4; round++) {
    for (const c of corpus) {
      const value = caseValue(c);
      const i = records.length;
      records.push({
        key: c.key === null ? null : enc.encode(c.key),
        // later rounds: the same events with another lsn in their text, so outputs differ per round
        value:
          value === null || round === 0
            ? value
            : enc.encode(new TextDecoder().decode(value).replace(/"lsn":(\d+)/, `"lsn":$1${round}`)),
        headers: caseHeaders(c),
        offset: BigInt(1000 + i),
        timestamp: 1_795_237_152_000 + i,
      });
    }
  }
  const batches: InputBatch[] = [];
  for (let i = 0; i < records.length; i += 7) {
    const part = records.slice(i, i + 7);
    batches.push({ baseOffset: part[0]!.offset, records: part });
  }
  return batches;
}

function shipmentsHost(module: Uint8Array, pipelineDepth: number): Promise<TransformHost> {
  return createTransformHost({
    module,
    name: 'shipments',
    inputTopic: 'cdc.public.shipments',
    outputTopics: ['clean.shipments', 'dlq.transform'],
    onLog: () => {},
    pipelineDepth,
  });
}

/**
 * The error a call rejects with. Call it as soon as the call is made: it handles the rejection at once
 * (several calls in flight reject together, before the test gets to await them one by one).
 */
function rejection(promise: Promise<unknown>): Promise<FerryWasmError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as FerryWasmError,
  );
}

describe('several batches in flight give the outputs of one at a time', () => {
  it('shipments corpus: byte for byte, in order, with calls beyond the depth waiting', async () => {
    const module = await transformModule('shipments');
    const batches = corpusBatches();
    const sequential = await shipmentsHost(module, 1);
    const expected: string[][] = [];
    try {
      for (const b of batches) expected.push(bytesOf((await sequential.process(b)).outputs));
    } finally {
      await sequential.close();
    }
    expect(expected.flat().length).toBeGreaterThan(100);
    for (const depth of [1, 2, 4]) {
      const host = await shipmentsHost(module, depth);
      try {
        // every call at once: `depth` are handed over, the others wait their turn
        const settled: number[] = [];
        const all = batches.map((b, i) =>
          host.process(b).then((r: BatchResult) => {
            settled.push(i);
            return bytesOf(r.outputs);
          }),
        );
        expect(await Promise.all(all)).toEqual(expected);
        expect(settled).toEqual(batches.map((_, i) => i));
        expect(host.stats).toMatchObject({ batches: batches.length, traps: 0 });
      } finally {
        await host.close();
      }
    }
  }, 60_000);
});

describe.each([1, 4])('a trap with later batches in flight (depth %i)', (depth) => {
  it('rejects the batch it happened in and every later one; after the restart they give their outputs', async () => {
    const traps: Error[] = [];
    const host = await startProbe({ pipelineDepth: depth, onTrap: (e) => traps.push(e) });
    try {
      const before = [run(host, ['echo a0', 'echo a1'], 0n), run(host, ['echo b0'], 10n)];
      const poisoned = rejection(
        host.process({ baseOffset: 20n, records: commandRecords(['echo c0', 'trap'], 20n) }),
      );
      const later = [
        run(host, ['echo d0'], 30n),
        run(host, ['echo e0', 'echo e1'], 40n),
        run(host, ['echo f0'], 50n),
      ].map(rejection);
      // finished before the trap: their results stand
      expect(await before[0]).toEqual(['echo a0', 'echo a1']);
      expect(await before[1]).toEqual(['echo b0']);
      const error = await poisoned;
      expect(error).toMatchObject({ code: 'FERRY_WASM_TRAP', kind: 'trap', retryable: true, offset: 21n });
      expect(error.message).toContain('record offset 21');
      for (const p of later) {
        expect(await p).toMatchObject({ code: 'FERRY_WASM_TRAP', retryable: true });
      }
      expect(traps).toEqual([error]);
      // re-sent in order, the restarted instance processes them
      const again = [
        run(host, ['echo c0', 'nothing'], 20n),
        run(host, ['echo d0'], 30n),
        run(host, ['echo e0', 'echo e1'], 40n),
        run(host, ['echo f0'], 50n),
      ];
      expect(await Promise.all(again)).toEqual([
        ['echo c0'],
        ['echo d0'],
        ['echo e0', 'echo e1'],
        ['echo f0'],
      ]);
      expect(host.stats).toMatchObject({ traps: 1, restarts: 1 });
    } finally {
      await host.close();
    }
  }, 30_000);
});

describe('logs and close with batches in flight', () => {
  it("a batch's log lines are delivered before that batch settles", async () => {
    const events: string[] = [];
    const host = await startProbe({ onLog: (level, line) => events.push(`${level} ${line}`) });
    try {
      const batches = [['log'], ['nothing'], ['log', 'log'], ['echo x'], ['nothing'], ['log']];
      await Promise.all(
        batches.map((commands, i) =>
          run(host, commands, BigInt(i * 10)).then(() => events.push(`settled ${i}`)),
        ),
      );
      const settledAt = (i: number) => events.indexOf(`settled ${i}`);
      const logsBefore = (i: number) =>
        events.slice(0, settledAt(i)).filter((e) => !e.startsWith('settled')).length;
      // each 'log' command writes one info and one warn message (one fd_write each)
      expect(logsBefore(0)).toBeGreaterThanOrEqual(2);
      expect(logsBefore(2)).toBeGreaterThanOrEqual(6);
      expect(logsBefore(5)).toBe(8);
      expect(events.filter((e) => e.startsWith('settled'))).toEqual(batches.map((_, i) => `settled ${i}`));
      expect(events.filter((e) => e.startsWith('info'))).toEqual(Array(4).fill('info hello info\n'));
    } finally {
      await host.close();
    }
  });
  it('close() rejects every batch in flight or waiting with FERRY_WASM_CLOSED', async () => {
    const host = await startProbe({ pipelineDepth: 2, recordTimeoutMs: 60_000 });
    const calls = [
      run(host, ['loop'], 0n), // never ends by itself
      run(host, ['echo a'], 10n),
      run(host, ['echo b'], 20n), // beyond the depth: waiting
    ].map(rejection);
    await host.close();
    for (const p of calls) expect(await p).toMatchObject({ code: 'FERRY_WASM_CLOSED' });
    expect(await rejection(run(host, ['echo c']))).toMatchObject({ code: 'FERRY_WASM_CLOSED' });
  });
  it('an empty batch settles after the calls before it', async () => {
    const host = await startProbe();
    try {
      const order: string[] = [];
      const first = run(host, ['echo a']).then(() => order.push('first'));
      const empty = host
        .process({ baseOffset: 0n, records: [] })
        .then((r) => order.push(`empty ${r.outputs.length}`));
      await Promise.all([first, empty]);
      expect(order).toEqual(['first', 'empty 0']);
    } finally {
      await host.close();
    }
  });
  it('refuses a depth outside 1..16', async () => {
    await expect(startProbe({ pipelineDepth: 0 })).rejects.toMatchObject({ code: 'FERRY_WASM_CONFIG' });
    await expect(startProbe({ pipelineDepth: 17 })).rejects.toMatchObject({ code: 'FERRY_WASM_CONFIG' });
  });
});
