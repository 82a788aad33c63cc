// One input partition of the runner: a queue of fetched records, its own host instance (the broker runs a
// VM per partition), and a loop that for each batch runs the guest, produces the outputs and waits for the
// producer's acknowledgement (acks=all, idempotent) BEFORE committing the input offset. A crash anywhere in
// between re-processes from the last commit: outputs may repeat, nothing is lost.
//
// Pipelined: up to `pipelineDepth` batches are in the host at once (transformed ahead), while ONE batch's
// outputs are being produced. Batches are delivered strictly in input order: batch N's outputs are
// produced only after batch N-1's were acknowledged and its offset handed to `commit`, so each commit
// covers only acknowledged outputs. A trap rejects the batch it happened in and every later one in the
// host (host.ts): the lane re-sends them all, in order, to the restarted instance, and sends nothing new
// until then, so the guest sees the batches in input order again from the first unfinished one.
//
// Start-up: a module that traps before it takes its first batch (createHost rejects with a trap) does not
// stop the runner. The lane tries again after the broker's restart backoff (1 s doubling to 30 s, from
// 1 s again when a start lasted over 10 s: docs/abi.md §11), for as long as it takes, and it never creates
// a host again without that wait. Only a module the host refuses outright (FERRY_WASM_LINK) is fatal.
import { isFerryWasmError } from '../host/errors.ts';
import { RestartBackoff, type RestartBackoffOptions } from '../host/restart-backoff.ts';
import type { BatchResult, HostRecord, OutputRecord, TransformHost } from '../host/types.ts';
import { sleep } from './backoff.ts';

export interface InputMessage {
  key: Buffer | null | undefined;
  value: Buffer | null | undefined;
  headerEntries: Array<[Buffer | string, Buffer | null | undefined]>;
  offset: bigint;
  timestamp: bigint;
}

export interface PartitionLaneOptions {
  topic: string;
  partition: number;
  maxBatchRecords: number;
  /** Batches in the host at once (transformed ahead of the one being produced). Default 1. */
  pipelineDepth?: number;
  createHost(): Promise<TransformHost>;
  produce(outputs: OutputRecord[]): Promise<void>;
  /** Called only after the batch's outputs are acknowledged; the runner commits it (coalesced) later. */
  commit(nextOffset: bigint): Promise<void>;
  /** A batch is delivered; its outputs may be read during the call only (their bytes are then reused). */
  onBatch(records: number, outputs: OutputRecord[]): void;
  onTrap(error: Error): void;
  onEvent(line: string): void;
  /** A failure the lane cannot get past (the host refuses the module). */
  onFatal(error: unknown): void;
  /** Start-up retries: the broker's restart backoff (docs/abi.md §11). Default 1 s doubling to 30 s. */
  backoff?: RestartBackoffOptions;
  /** Time for the start-up backoff; tests pass a fake one. Default: the system clock and timers. */
  clock?: LaneClock;
}

/** The lane's view of time: `sleep` resolves after `ms`, or at once when `wake` is aborted. */
export interface LaneClock {
  now(): number;
  sleep(ms: number, wake: AbortSignal): Promise<void>;
}

const systemClock: LaneClock = { now: () => Date.now(), sleep };

export interface PartitionLane {
  push(message: InputMessage): void;
  queued(): number;
  /**
   * Stops taking new batches; the batches already in the host are finished (outputs acknowledged, offsets
   * handed to `commit`, in order), then closes the host.
   */
  stop(): Promise<void>;
}

const decoder = new TextDecoder();

function toRecord(m: InputMessage): HostRecord {
  return {
    key: m.key ?? null,
    value: m.value ?? null,
    headers: m.headerEntries.map(([k, v]) => ({
      key: typeof k === 'string' ? k : decoder.decode(k),
      value: v ?? null,
    })),
    offset: m.offset,
    timestamp: Number(m.timestamp),
  };
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Outcome = BatchResult | { error: unknown };

/** A batch handed to the host; `result` never rejects. */
interface InHost {
  records: HostRecord[];
  result: Promise<Outcome>;
  /** host.stats.traps when it was handed over: a later trap rejected it (or it had finished before). */
  traps: number;
}

export function createPartitionLane(options: PartitionLaneOptions): PartitionLane {
  const {
    topic,
    partition,
    maxBatchRecords,
    pipelineDepth = 1,
    createHost,
    produce,
    commit,
    onBatch,
    onTrap,
    onEvent,
    onFatal,
    backoff = {},
    clock = systemClock,
  } = options;
  const restarts = new RestartBackoff(backoff, clock.now);
  const wake = new AbortController();
  const queue: InputMessage[] = [];
  // Highest offset accepted into the queue: after a rejoin the client re-delivers from the committed offset,
  // and what is already queued or processed is dropped here instead of being transformed twice.
  let lastQueued = -1n;
  let stopping = false;
  let host: TransformHost | null = null;
  let running: Promise<void> | null = null;

  /** The lane's host; a start-up trap is retried after the restart backoff, never straight away. */
  async function ensureHost(): Promise<TransformHost> {
    while (host === null) {
      restarts.markStartAttempt();
      try {
        host = await createHost();
      } catch (error) {
        if (stopping || !isFerryWasmError(error) || error.code !== 'FERRY_WASM_TRAP') throw error;
        const delay = restarts.nextDelayMs();
        onTrap(error);
        onEvent(
          `partition ${topic}/${partition}: the transform failed at start-up; starting it again in ${delay} ms`,
        );
        await clock.sleep(delay, wake.signal);
        if (stopping) throw error;
      }
    }
    return host;
  }

  function handOver(h: TransformHost, records: HostRecord[]): InHost {
    const traps = h.stats.traps;
    const result = h.process({ baseOffset: records[0]!.offset, records }).then(
      (r): Outcome => r,
      (error: unknown): Outcome => ({ error }),
    );
    return { records, result, traps };
  }

  /**
   * Produces a batch's outputs (retrying), then hands its next offset to `commit`. Once they are
   * acknowledged and counted, nothing reads them again: their bytes go back to the host for a later batch.
   */
  async function deliver(records: HostRecord[], result: BatchResult): Promise<void> {
    const outputs = result.outputs;
    for (let attempt = 0; ; attempt++) {
      try {
        await produce(outputs);
        break;
      } catch (error) {
        if (stopping && attempt >= 3) throw error;
        onEvent(`partition ${partition}: produce failed (${(error as Error).message}), retrying`);
        await pause(Math.min(100 * 2 ** attempt, 5_000));
      }
    }
    const next = records[records.length - 1]!.offset + 1n;
    try {
      await commit(next);
    } catch (error) {
      // Not fatal: a later commit covers this one; if the partition moved, its next owner re-processes.
      onEvent(`partition ${partition}: commit of ${next} failed (${(error as Error).message})`);
    }
    onBatch(records.length, outputs);
    result.release();
  }

  async function drain(): Promise<void> {
    /** Batches in the host, oldest first. */
    const inHost: InHost[] = [];
    /** The previous batch's delivery (produce, acks, commit); the next one starts after it. */
    let delivering: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        // Hand over more batches unless a trap has happened since the oldest one in the host was handed
        // over (it and the later ones are being rejected: they are re-sent first, in order).
        while (!stopping && queue.length > 0 && inHost.length < pipelineDepth) {
          const h = await ensureHost();
          if (inHost.length > 0 && h.stats.traps !== inHost[0]!.traps) break;
          inHost.push(handOver(h, queue.splice(0, maxBatchRecords).map(toRecord)));
        }
        const head = inHost[0];
        if (head === undefined) break;
        const outcome = await head.result;
        if ('error' in outcome) {
          const { error } = outcome;
          if (!isFerryWasmError(error) || error.code !== 'FERRY_WASM_TRAP') throw error;
          // The broker's behaviour (docs/abi.md §11): restart with backoff and retry from the first unfinished
          // batch. The host rejected this batch and every later one it held; re-send them all, in order.
          onTrap(error);
          if (stopping) throw error;
          const h = await ensureHost();
          for (let i = 0; i < inHost.length; i++) inHost[i] = handOver(h, inHost[i]!.records);
          continue;
        }
        inHost.shift();
        await delivering;
        delivering = deliver(head.records, outcome);
        delivering.catch(() => {}); // awaited before the next delivery and at the end
      }
    } finally {
      await delivering;
    }
  }

  function kick(): void {
    if (running !== null || stopping) return;
    running = drain()
      .catch((error) => {
        if (!stopping) onFatal(error);
      })
      .finally(() => {
        running = null;
        if (queue.length > 0 && !stopping) kick();
      });
  }

  return {
    push(message) {
      if (stopping || message.offset <= lastQueued) return;
      lastQueued = message.offset;
      queue.push(message);
      kick();
    },
    queued: () => queue.length,
    async stop() {
      stopping = true;
      wake.abort();
      queue.length = 0;
      await running;
      await host?.close();
      host = null;
      onEvent(`partition ${topic}/${partition}: stopped`);
    },
  };
}
