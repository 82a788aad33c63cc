// The partition lane's pipelining (partition.ts): batches are transformed ahead while earlier outputs are
// produced, yet outputs are produced in input order, each offset is handed to `commit` only after the
// outputs of it and of everything before it were acknowledged, and a trap re-sends the unfinished batches
// in order. A real host and the probe guest (each record's value 'echo i' is written back as it is);
// `produce` and `commit` are recorders standing in for the producer's acknowledgements and the group commit.
import { beforeAll, describe, expect, it } from 'vitest';
import { startProbe } from '../../test/support/probe-host.ts';
import { probeModule } from '../../test/support/probe-module.ts';
import type { InputBatch, OutputRecord, TransformHost } from '../host/types.ts';
import { createPartitionLane, type InputMessage, type PartitionLane } from './partition.ts';

// The probe guest is compiled once, before the tests: on a loaded machine asc alone can take longer than
// the waits below, which are meant for the lane.
beforeAll(() => probeModule(), 120_000);

const RECORDS = 60;
const BATCH = 5;
const DEPTH = 4;
const dec = new TextDecoder();

/** Resolves once `done()` holds; rejects after `ms` (a hang is a failure, not a slow pass). */
async function until(done: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function message(i: number): InputMessage {
  return {
    key: null,
    value: Buffer.from(`echo ${i}`),
    headerEntries: [],
    offset: BigInt(i),
    timestamp: 1_700_000_000_000n + BigInt(i),
  };
}

interface Harness {
  lane: PartitionLane;
  produced: string[];
  commits: Array<{ next: bigint; acknowledged: number }>;
  traps: Error[];
  batchesDone: () => number;
  recordsDone: () => number;
  /** process() calls of the lane's host that resolved. */
  transformed: () => number;
  host: () => TransformHost | null;
}

/**
 * A lane over a real probe host. `trapAt`: the first batch holding that offset is handed to the guest
 * with a 'trap' command in its place (a real trap, once). `holdFirstProduce`: the first produce() waits
 * until a later batch has been transformed (it would wait for good if the lane did not pipeline).
 */
function harness({ trapAt = -1n, holdFirstProduce = false } = {}): Harness {
  const produced: string[] = [];
  const commits: Harness['commits'] = [];
  const traps: Error[] = [];
  let batches = 0;
  let records = 0;
  let transformed = 0;
  let produceCalls = 0;
  let trapped = false;
  let real: TransformHost | null = null;
  const lane = createPartitionLane({
    topic: 'cdc.in',
    partition: 0,
    maxBatchRecords: BATCH,
    pipelineDepth: DEPTH,
    createHost: async () => {
      const h = await startProbe({ pipelineDepth: DEPTH });
      real = h;
      return {
        stats: h.stats,
        close: () => h.close(),
        process(batch: InputBatch) {
          let b = batch;
          if (!trapped && batch.records.some((r) => r.offset === trapAt)) {
            trapped = true;
            const records = batch.records.map((r) =>
              r.offset === trapAt ? { ...r, value: new TextEncoder().encode('trap') } : r,
            );
            b = { ...batch, records };
          }
          return h.process(b).then((r) => {
            transformed++;
            return r;
          });
        },
      };
    },
    async produce(outputs: OutputRecord[]) {
      produceCalls++;
      // Held past the test's own 20 s wait: a lane that stopped pipelining fails that wait, instead of
      // racing it (a hold that gave up would be retried by the lane and the test could pass).
      if (produceCalls === 1 && holdFirstProduce)
        await until(() => transformed >= 2, 'a batch transformed ahead', 60_000);
      await new Promise((r) => setTimeout(r, produceCalls % 3)); // acknowledgements take a while
      for (const o of outputs) produced.push(dec.decode(o.value ?? new Uint8Array()));
    },
    async commit(next) {
      commits.push({ next, acknowledged: produced.length });
    },
    onBatch(n) {
      batches++;
      records += n;
    },
    onTrap: (e) => traps.push(e),
    onEvent: () => {},
    onFatal: (e) => {
      throw e;
    },
  });
  return {
    lane,
    produced,
    commits,
    traps,
    batchesDone: () => batches,
    recordsDone: () => records,
    transformed: () => transformed,
    host: () => real,
  };
}

const expected = Array.from({ length: RECORDS }, (_, i) => `echo ${i}`);

/** Every commit covers only acknowledged outputs (one output per offset here), and commits only grow. */
function checkCommits(commits: Harness['commits']): void {
  let last = -1n;
  for (const c of commits) {
    expect(c.next > last).toBe(true);
    expect(c.acknowledged).toBeGreaterThanOrEqual(Number(c.next));
    last = c.next;
  }
}

describe('partition lane: pipelined batches', () => {
  it('transforms ahead while producing, yet produces in input order and commits only after acks', async () => {
    const h = harness({ holdFirstProduce: true });
    try {
      for (let i = 0; i < RECORDS; i++) h.lane.push(message(i));
      await until(() => h.recordsDone() === RECORDS, 'every record delivered');
      expect(h.produced).toEqual(expected);
      checkCommits(h.commits);
      expect(h.commits.at(-1)?.next).toBe(BigInt(RECORDS));
      expect(h.batchesDone()).toBe(RECORDS / BATCH);
    } finally {
      await h.lane.stop();
    }
  }, 30_000);

  it('a trap with later batches in the host: they are re-sent in order, nothing skipped or repeated', async () => {
    const h = harness({ trapAt: 17n });
    try {
      for (let i = 0; i < RECORDS; i++) h.lane.push(message(i));
      await until(() => h.recordsDone() === RECORDS, 'every record delivered');
      expect(h.traps).toHaveLength(1);
      expect(h.traps[0]).toMatchObject({ code: 'FERRY_WASM_TRAP', offset: 17n });
      expect(h.produced).toEqual(expected);
      checkCommits(h.commits);
      expect(h.commits.at(-1)?.next).toBe(BigInt(RECORDS));
      expect(h.host()?.stats).toMatchObject({ traps: 1, restarts: 1 });
    } finally {
      await h.lane.stop();
    }
  }, 30_000);

  it('stop() finishes the batches in the host: outputs in order, every commit acknowledged', async () => {
    const h = harness();
    for (let i = 0; i < RECORDS; i++) h.lane.push(message(i));
    await until(() => h.batchesDone() >= 1, 'a first batch');
    await h.lane.stop();
    expect(h.produced).toEqual(expected.slice(0, h.produced.length));
    checkCommits(h.commits);
    // what was produced was committed (nothing left between acknowledgement and commit)
    expect(h.commits.at(-1)?.next).toBe(BigInt(h.produced.length));
    expect(h.lane.queued()).toBe(0);
  }, 30_000);
});
