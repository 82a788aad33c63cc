// createTransformHost: the broker side of the ABI for one transform instance (ABI.md §2, §10, §11).
// The guest runs in its own worker; batches go in and outputs come out through shared memory, and the
// main thread only wakes on a message: one per finished batch ('done'), and rare ones (ready, log, trap).

import {
  copyOutputRegion,
  createHeaderKeyCache,
  createStaging,
  decodeOutputs,
  encodeBatch,
} from './batch-codec.ts';
import { buildEnviron } from './config.ts';
import { FerryWasmError, type TrapKind } from './errors.ts';
import { prepareModule } from './prepare.ts';
import {
  C_BATCH_SEQ,
  C_BUSY,
  C_DONE_MSG,
  C_DONE_SEQ,
  C_IN_ALIGN,
  C_MEMORY_BYTES,
  C_OUT_BYTES,
  C_OUT_COUNT,
  C_RECORD_INDEX,
  C_RECORD_SEQ,
  C_SHUTDOWN,
  CONTROL_SLOTS,
  growableShared,
  INITIAL_REGION_BYTES,
  MAX_REGION_BYTES,
  type WorkerInit,
  type WorkerMessage,
} from './shared.ts';
import type { BatchResult, HostStats, InputBatch, TransformHost, TransformHostOptions } from './types.ts';
import { type SpawnedWorker, spawnWorker, usesWebWorker } from './worker-spawn.ts';

const WORKER_URL = new URL('./worker.ts', import.meta.url);

type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
/**
 * Atomics.waitAsync on the runtimes whose workers are node:worker_threads (Node, Deno); elsewhere,
 * and on Bun (web Workers; a Bun smoke hung once in CI on the notify path), batches end with a
 * message (shared.ts), the path every runtime has.
 */
const waitAsync = usesWebWorker() ? undefined : (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

interface Instance {
  worker: SpawnedWorker;
  control: Int32Array;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  startedAt: number;
  ready: Promise<void>;
  /** The batch in flight, to map a trap to the record offset, and its settle functions. */
  batch: InputBatch | null;
  settle: { resolve(): void; reject(error: FerryWasmError): void } | null;
  dead: boolean;
  watchdog: ReturnType<typeof setInterval>;
}

type Timers = Map<ReturnType<typeof setTimeout>, () => void>;

/** A backoff wait that close() ends early (the launch after it then fails with FERRY_WASM_CLOSED). */
function sleep(ms: number, timers: Timers): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    timers.set(t, resolve);
  });
}

export async function createTransformHost({
  module,
  name = 'transform',
  inputTopic,
  outputTopics,
  env = {},
  memoryLimitBytes = 2 * 1024 * 1024,
  recordTimeoutMs = 3000,
  backoff = {},
  onLog = (level, line) => (level === 'info' ? console.info : console.warn)(`${name} - ${line}`),
  onTrap = () => {},
  logLineMaxBytes = 1024,
}: TransformHostOptions): Promise<TransformHost> {
  const { initialMs = 1000, maxMs = 30_000, resetAfterMs = 10_000 } = backoff;
  const environ = buildEnviron(inputTopic, outputTopics, env);
  const compiled = await prepareModule(module, memoryLimitBytes);
  const stats: HostStats = { restarts: 0, traps: 0, batches: 0, recordsIn: 0, recordsOut: 0, memoryBytes: 0 };
  const timers: Timers = new Map();
  const headerKeys = createHeaderKeyCache();
  const staging = createStaging();
  let closed = false;
  let inFlight = false;
  let nextDelay = initialMs;
  let current: Instance | null = null;
  let starting: Promise<Instance> | null = null;

  function trapError(inst: Instance, kind: TrapKind, message: string, recordIndex: number): FerryWasmError {
    const offset = recordIndex >= 0 ? inst.batch?.records[recordIndex]?.offset : undefined;
    const where = offset === undefined ? '' : ` (record offset ${offset})`;
    return new FerryWasmError({
      code: 'FERRY_WASM_TRAP',
      kind,
      message: `transform ${name} trapped: ${message}${where}`,
      retryable: true,
      ...(offset === undefined ? {} : { offset }),
    });
  }

  function fail(inst: Instance, error: FerryWasmError): void {
    if (inst.dead) return;
    inst.dead = true;
    clearInterval(inst.watchdog);
    Atomics.notify(inst.control, C_DONE_SEQ); // ends a pending waitAsync (it then finds the instance dead)
    void inst.worker.terminate();
    if (closed) {
      inst.settle?.reject(new FerryWasmError({ code: 'FERRY_WASM_CLOSED', message: 'host closed' }));
      return;
    }
    stats.traps++;
    if (current === inst) {
      current = null;
      // Broker backoff: 1 s doubling to 30 s, reset after 10 s of healthy running (§11).
      if (Date.now() - inst.startedAt >= resetAfterMs) nextDelay = initialMs;
      const delay = nextDelay;
      nextDelay = Math.min(nextDelay * 2, maxMs);
      error.retryAfterMs = delay;
      starting = sleep(delay, timers).then(() => {
        stats.restarts++;
        return launch();
      });
      starting.catch(() => {});
    }
    inst.settle?.reject(error);
    inst.settle = null;
    onTrap(error);
  }

  /**
   * Resolves the batch in flight if the worker has ended it by notify (C_DONE_MSG 0). Called on the
   * waitAsync wake-up, and by the watchdog as a safety net should a wake-up ever be missed.
   */
  function resolveIfDone(inst: Instance): void {
    const s = inst.settle;
    if (s === null || inst.dead || inst.batch === null) return;
    const seq = Atomics.load(inst.control, C_BATCH_SEQ);
    if (Atomics.load(inst.control, C_DONE_SEQ) === seq && Atomics.load(inst.control, C_DONE_MSG) === 0) {
      inst.settle = null;
      s.resolve();
    }
  }

  async function launch(): Promise<Instance> {
    if (closed) throw new FerryWasmError({ code: 'FERRY_WASM_CLOSED', message: 'host closed' });
    const worker = await spawnWorker(WORKER_URL);
    const controlSab = new SharedArrayBuffer(CONTROL_SLOTS * 4);
    const control = new Int32Array(controlSab);
    control[C_RECORD_INDEX] = -1;
    control[C_BUSY] = 0;
    const inst: Instance = {
      worker,
      control,
      input: growableShared(INITIAL_REGION_BYTES, MAX_REGION_BYTES),
      output: growableShared(INITIAL_REGION_BYTES, MAX_REGION_BYTES),
      startedAt: Date.now(),
      ready: Promise.resolve(),
      batch: null,
      settle: null,
      dead: false,
      watchdog: undefined as unknown as ReturnType<typeof setInterval>,
    };
    // Settled by the worker's 'ready' (first read_batch_header, §2.4) or by a trap during start-up.
    inst.ready = new Promise<void>((resolve, reject) => {
      inst.settle = { resolve, reject };
    });
    inst.ready.catch(() => {});
    worker.onMessage((raw) => {
      const msg = raw as WorkerMessage;
      if (msg.type === 'log') onLog(msg.level, msg.line);
      else if (msg.type === 'done') {
        // The guest asked for the next batch: the previous one is finished (§2.4).
        const s = inst.settle;
        if (s !== null && !inst.dead && msg.seq === Atomics.load(control, C_BATCH_SEQ)) {
          inst.settle = null;
          s.resolve();
        }
      } else if (msg.type === 'ready') {
        inst.startedAt = Date.now(); // healthy running is counted from here (§11 backoff reset)
        const s = inst.settle;
        inst.settle = null;
        s?.resolve();
      } else if (msg.type === 'trap') fail(inst, trapError(inst, msg.kind, msg.message, msg.recordIndex));
    });
    worker.onFailure((message) =>
      fail(inst, trapError(inst, 'worker', message, control[C_RECORD_INDEX] ?? -1)),
    );
    // Per-record CPU budget (§2.5, §10): V8 has no fuel, so a watchdog ends a worker whose record (or start-up)
    // has run longer than the budget. The heartbeat is C_RECORD_SEQ, bumped at every read_next_record.
    let lastSeq = -1;
    let lastChange = Date.now();
    inst.watchdog = setInterval(
      () => {
        if (waitAsync !== undefined) resolveIfDone(inst);
        const seq = Atomics.load(control, C_RECORD_SEQ);
        const now = Date.now();
        if (seq !== lastSeq || Atomics.load(control, C_BUSY) === 0) {
          lastSeq = seq;
          lastChange = now;
          return;
        }
        if (now - lastChange > recordTimeoutMs) {
          const index = Atomics.load(control, C_RECORD_INDEX);
          fail(
            inst,
            trapError(inst, 'out_of_fuel', `record exceeded the CPU budget of ${recordTimeoutMs} ms`, index),
          );
        }
      },
      Math.max(5, Math.min(250, Math.floor(recordTimeoutMs / 10))),
    );
    const init: WorkerInit = {
      module: compiled,
      control: controlSab,
      input: inst.input,
      output: inst.output,
      args: [name],
      environ,
      outputTopics,
      memoryLimitBytes,
      logLineMaxBytes,
      notifyDone: waitAsync !== undefined,
    };
    worker.post(init);
    current = inst;
    await inst.ready;
    return inst;
  }

  async function instance(): Promise<Instance> {
    if (current !== null && !current.dead) {
      await current.ready;
      return current;
    }
    if (starting !== null) return starting;
    throw new FerryWasmError({ code: 'FERRY_WASM_CLOSED', message: 'host closed' });
  }

  async function process(batch: InputBatch): Promise<BatchResult> {
    if (closed) throw new FerryWasmError({ code: 'FERRY_WASM_CLOSED', message: 'host closed' });
    if (batch.records.length === 0) return { outputs: [] }; // the broker skips empty batches (§2.6)
    if (inFlight) {
      throw new FerryWasmError({
        code: 'FERRY_WASM_BUSY',
        message: 'a batch is already in flight on this host',
      });
    }
    inFlight = true;
    try {
      return await runBatch(batch);
    } finally {
      inFlight = false;
    }
  }

  async function runBatch(batch: InputBatch): Promise<BatchResult> {
    const inst = await instance();
    inst.batch = batch;
    const seq = Atomics.load(inst.control, C_BATCH_SEQ) + 1;
    let settle: NonNullable<Instance['settle']> | null = null;
    const settled = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
      inst.settle = settle;
    });
    const doneBefore = Atomics.load(inst.control, C_DONE_SEQ);
    if (!encodeBatch(inst.input, batch, headerKeys, Atomics.load(inst.control, C_IN_ALIGN), staging)) {
      inst.settle = null;
      inst.batch = null;
      throw new RangeError('batch too large for the host input buffer');
    }
    Atomics.store(inst.control, C_BATCH_SEQ, seq);
    Atomics.notify(inst.control, C_BATCH_SEQ);
    if (waitAsync !== undefined) {
      // The batch ends with a notify on C_DONE_SEQ, or, when it logged, with a 'done' message after its logs.
      const onWake = () => {
        if (inst.settle === settle) resolveIfDone(inst);
      };
      const w = waitAsync(inst.control, C_DONE_SEQ, doneBefore);
      if (w.async) void w.value.then(onWake);
      else onWake();
    }
    await settled;
    inst.batch = null;
    // The batch's guest logs were delivered before its 'done' message (same port, in order).
    // One copy of the used output region per batch; every key, value and header value is a view into it
    // (the shared region is overwritten by the next batch).
    const used = copyOutputRegion(inst.output, Atomics.load(inst.control, C_OUT_BYTES));
    const outputs = decodeOutputs(used, Atomics.load(inst.control, C_OUT_COUNT), outputTopics, headerKeys);
    stats.batches++;
    stats.recordsIn += batch.records.length;
    stats.recordsOut += outputs.length;
    stats.memoryBytes = Atomics.load(inst.control, C_MEMORY_BYTES);
    return { outputs };
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    for (const [t, resolve] of timers) {
      clearTimeout(t);
      resolve();
    }
    timers.clear();
    const inst = current;
    current = null;
    if (inst !== null && !inst.dead) {
      inst.dead = true;
      clearInterval(inst.watchdog);
      Atomics.store(inst.control, C_SHUTDOWN, 1);
      Atomics.notify(inst.control, C_BATCH_SEQ);
      Atomics.notify(inst.control, C_DONE_SEQ);
      inst.settle?.reject(new FerryWasmError({ code: 'FERRY_WASM_CLOSED', message: 'host closed' }));
      await inst.worker.terminate();
    }
  }

  try {
    await launch();
  } catch (error) {
    await close();
    throw error;
  }
  return { process, close, stats };
}
