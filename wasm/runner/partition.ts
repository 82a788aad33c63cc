// One input partition of the runner: a queue of fetched records, its own host instance (the broker runs a
// VM per partition), and a loop that for each batch runs the guest, produces the outputs and waits for the
// producer's acknowledgement (acks=all, idempotent) BEFORE committing the input offset. A crash anywhere in
// between re-processes from the last commit: outputs may repeat, nothing is lost.
import { isFerryWasmError } from '../host/errors.ts';
import type { HostRecord, OutputRecord, TransformHost } from '../host/types.ts';

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
  createHost(): Promise<TransformHost>;
  produce(outputs: OutputRecord[]): Promise<void>;
  /** Called only after the batch's outputs are acknowledged; the runner commits it (coalesced) later. */
  commit(nextOffset: bigint): Promise<void>;
  onBatch(records: number, outputs: OutputRecord[]): void;
  onTrap(error: Error): void;
  onEvent(line: string): void;
  /** A failure the lane cannot get past (the host refuses the module). */
  onFatal(error: unknown): void;
}

export interface PartitionLane {
  push(message: InputMessage): void;
  queued(): number;
  /** Stops after the batch in flight (outputs acknowledged, offset handed to `commit`), closes the host. */
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createPartitionLane(options: PartitionLaneOptions): PartitionLane {
  const {
    topic,
    partition,
    maxBatchRecords,
    createHost,
    produce,
    commit,
    onBatch,
    onTrap,
    onEvent,
    onFatal,
  } = options;
  const queue: InputMessage[] = [];
  // Highest offset accepted into the queue: after a rejoin the client re-delivers from the committed offset,
  // and what is already queued or processed is dropped here instead of being transformed twice.
  let lastQueued = -1n;
  let stopping = false;
  let host: TransformHost | null = null;
  let running: Promise<void> | null = null;

  async function ensureHost(): Promise<TransformHost> {
    host ??= await createHost();
    return host;
  }

  async function runBatch(batch: InputMessage[]): Promise<void> {
    const records = batch.map(toRecord);
    const input = { baseOffset: records[0]!.offset, records };
    let outputs: OutputRecord[];
    for (;;) {
      const h = await ensureHost();
      try {
        outputs = (await h.process(input)).outputs;
        break;
      } catch (error) {
        if (isFerryWasmError(error) && error.code === 'FERRY_WASM_TRAP') {
          // The broker's behaviour: restart with backoff and retry from the last commit (ABI.md §11).
          onTrap(error);
          if (stopping) throw error;
          continue;
        }
        throw error;
      }
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await produce(outputs);
        break;
      } catch (error) {
        if (stopping && attempt >= 3) throw error;
        onEvent(`partition ${partition}: produce failed (${(error as Error).message}), retrying`);
        await sleep(Math.min(100 * 2 ** attempt, 5_000));
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
  }

  async function drain(): Promise<void> {
    while (!stopping && queue.length > 0) {
      const batch = queue.splice(0, maxBatchRecords);
      await runBatch(batch);
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
      queue.length = 0;
      await running;
      await host?.close();
      host = null;
      onEvent(`partition ${topic}/${partition}: stopped`);
    },
  };
}
