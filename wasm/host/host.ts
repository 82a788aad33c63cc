// createTransformHost: the broker side of the ABI for one transform instance (docs/abi.md §2, §10, §11).
// The guest runs in its own worker; batches go in and outputs come out through shared memory (shared.ts).
// Up to `pipelineDepth` batches are handed over at once, so the worker goes from one batch to the next
// without sleeping, and the main thread is woken (notify or 'done' message) once per few batches and
// settles every finished one in order. Results settle strictly in submission order.

import {
  copyOutputRegion,
  createBounce,
  createHeaderKeyCache,
  createOutputBuffers,
  decodeOutputs,
  encodeBatch,
  type OutputBuffers,
} from './batch-codec.ts';
import { buildEnviron } from './config.ts';
import { FerryWasmError, type TrapKind } from './errors.ts';
import { prepareModule } from './prepare.ts';
import { RestartBackoff } from './restart-backoff.ts';
import {
  C_BATCH_SEQ,
  C_BUSY,
  C_DONE_SEQ,
  C_IN_ALIGN,
  C_MEMORY_BYTES,
  C_RECORD_INDEX,
  C_RECORD_SEQ,
  C_SHUTDOWN,
  controlSlots,
  createRegion,
  INITIAL_REGION_BYTES,
  MAX_PIPELINE_DEPTH,
  MAX_REGION_BYTES,
  type Region,
  S_DONE_MSG,
  S_OUT_BYTES,
  S_OUT_COUNT,
  slotWord,
  type WorkerInit,
  type WorkerMessage,
} from './shared.ts';
import type {
  BatchResult,
  HostStats,
  InputBatch,
  OutputRecord,
  TransformHost,
  TransformHostOptions,
} from './types.ts';
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

/** A process() call not handed to the worker yet (all slots busy, or no instance ready). */
interface Pending {
  batch: InputBatch;
  resolve(result: BatchResult): void;
  reject(error: Error): void;
}

/** A batch handed to the worker: seq s lives in slot s % depth until its outputs are copied out. */
interface InFlight extends Pending {
  seq: number;
  slot: number;
  /** Its 'done' message arrived (needed when the worker set S_DONE_MSG: its log lines come first). */
  messaged: boolean;
}

interface Instance {
  worker: SpawnedWorker;
  control: Int32Array;
  inputs: Region[];
  outputs: Region[];
  ready: Promise<void>;
  isReady: boolean;
  readySettle: { resolve(): void; reject(error: Error): void } | null;
  /** Seq of the last batch handed over (C_BATCH_SEQ). */
  submitted: number;
  /** Handed over and not settled yet, in seq order. */
  inFlight: InFlight[];
  /** An Atomics.waitAsync on C_DONE_SEQ is pending. */
  armed: boolean;
  /** C_DONE_SEQ as drain() last read it: the value to wait on (a later one is news, even if not notified). */
  seenDone: number;
  dead: boolean;
  watchdog: ReturnType<typeof setInterval>;
}

const closedError = () => new FerryWasmError({ code: 'FERRY_WASM_CLOSED', message: 'host closed' });

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
  onLog = (level, message) =>
    (level === 'info' ? console.info : console.warn)(`${name} - ${message.replace(/\n$/, '')}`),
  onTrap = () => {},
  logLineMaxBytes = 1024,
  pipelineDepth = 4,
}: TransformHostOptions): Promise<TransformHost> {
  if (!Number.isInteger(pipelineDepth) || pipelineDepth < 1 || pipelineDepth > MAX_PIPELINE_DEPTH) {
    throw new FerryWasmError({
      code: 'FERRY_WASM_CONFIG',
      message: `pipelineDepth must be an integer in 1..${MAX_PIPELINE_DEPTH}`,
    });
  }
  const depth = pipelineDepth;
  const environ = buildEnviron(inputTopic, outputTopics, env);
  const compiled = await prepareModule(module, memoryLimitBytes);
  const stats: HostStats = { restarts: 0, traps: 0, batches: 0, recordsIn: 0, recordsOut: 0, memoryBytes: 0 };
  const timers: Timers = new Map();
  const headerKeys = createHeaderKeyCache();
  const bounce = createBounce();
  // Released results' buffers: enough for every batch in flight plus the few a caller is still holding.
  const outputBuffers = createOutputBuffers(depth + 4);
  /** process() calls waiting for a slot (or for an instance), in submission order. */
  const queue: Pending[] = [];
  /** The last non-empty process() call's promise: an empty batch settles after it (submission order). */
  let tail: Promise<unknown> = Promise.resolve();
  let pumping = false;
  let closed = false;
  const restarts = new RestartBackoff(backoff);
  let current: Instance | null = null;
  let starting: Promise<Instance> | null = null;

  function trapError(entry: InFlight | undefined, kind: TrapKind, message: string, recordIndex: number) {
    const offset = recordIndex >= 0 ? entry?.batch.records[recordIndex]?.offset : undefined;
    const where = offset === undefined ? '' : ` (record offset ${offset})`;
    return new FerryWasmError({
      code: 'FERRY_WASM_TRAP',
      kind,
      message: `transform ${name} trapped: ${message}${where}`,
      retryable: true,
      ...(offset === undefined ? {} : { offset }),
    });
  }

  /** For a batch handed over with (or after) the one that trapped: it was not finished; re-send it. */
  function unfinishedError(trap: FerryWasmError): FerryWasmError {
    const error = new FerryWasmError({
      code: 'FERRY_WASM_TRAP',
      message: `transform ${name}: batch not finished, the instance trapped on an earlier batch (${trap.message})`,
      retryable: true,
      ...(trap.kind === undefined ? {} : { kind: trap.kind }),
    });
    error.retryAfterMs = trap.retryAfterMs;
    return error;
  }

  /** The host is closed: the instance's batches, then the waiting calls, then its start-up, in that order. */
  function rejectClosed(inst: Instance | null): void {
    for (const e of inst?.inFlight.splice(0) ?? []) e.reject(closedError());
    for (const p of queue.splice(0)) p.reject(closedError());
    inst?.readySettle?.reject(closedError());
  }

  /** Ends an instance after a trap (or close): finished batches settle, every other one is rejected. */
  function fail(inst: Instance, kind: TrapKind, message: string, recordIndex: number): void {
    if (inst.dead) return;
    // Batches finished before the end keep their results (a trap message comes after their 'done' ones).
    drain(inst, false);
    inst.dead = true;
    clearInterval(inst.watchdog);
    Atomics.notify(inst.control, C_DONE_SEQ); // ends a pending waitAsync (it then finds the instance dead)
    void inst.worker.terminate();
    if (closed) {
      rejectClosed(inst);
      return;
    }
    const lost = inst.inFlight.splice(0);
    const waiting = queue.splice(0);
    // The record index belongs to the batch the worker was in: the first one it had not finished.
    const doneSeq = Atomics.load(inst.control, C_DONE_SEQ);
    const trapped = lost.find((e) => e.seq === doneSeq + 1);
    const error = trapError(trapped, kind, message, recordIndex);
    stats.traps++;
    if (current === inst) {
      current = null;
      // The broker's backoff: 1 s doubling to 30 s, from 1 s again 10 s after a start (§11).
      const delay = restarts.nextDelayMs();
      error.retryAfterMs = delay;
      starting = sleep(delay, timers).then(() => {
        stats.restarts++;
        return launch();
      });
      starting.catch(() => {});
    }
    inst.readySettle?.reject(error);
    inst.readySettle = null;
    // Submission order; the batch that trapped gets the error with the record offset, the later ones
    // (handed over or waiting) were not processed: the broker would re-read them all after the restart.
    for (const e of [...lost, ...waiting]) {
      e.reject(e === trapped || trapped === undefined ? error : unfinishedError(error));
    }
    onTrap(error);
  }

  /** Copies batch e's outputs out of its slot (the slot may take another batch afterwards) and resolves it. */
  function settle(inst: Instance, e: InFlight): void {
    const control = inst.control;
    const count = Atomics.load(control, slotWord(e.slot, S_OUT_COUNT));
    let outputs: OutputRecord[];
    let used: Uint8Array;
    // The copy too is inside the try: drain() has already taken e off inFlight, so a throw from here would
    // leave its process() call unsettled for good (and escape into the message or timer callback).
    try {
      // One copy of the used output region per batch; every key, value and header value is a view into it.
      used = copyOutputRegion(
        inst.outputs[e.slot]!,
        Atomics.load(control, slotWord(e.slot, S_OUT_BYTES)),
        outputBuffers,
      );
      outputs = decodeOutputs(used, count, outputTopics, headerKeys);
    } catch (error) {
      e.reject(error as Error);
      return;
    }
    stats.batches++;
    stats.recordsIn += e.batch.records.length;
    stats.recordsOut += outputs.length;
    stats.memoryBytes = Atomics.load(control, C_MEMORY_BYTES);
    e.resolve(new Result(outputs, used.buffer as ArrayBuffer, outputBuffers));
  }

  /**
   * Settles, in order, every batch the worker has finished: C_DONE_SEQ has reached it and, if it logged,
   * its 'done' message (which follows its log lines) has arrived. Then hands waiting batches to the freed
   * slots and waits for the next end of batch. Called on every wake-up (notify, 'done') and by the watchdog.
   */
  function drain(inst: Instance, refill = true): void {
    if (inst.dead) return;
    const control = inst.control;
    const done = Atomics.load(control, C_DONE_SEQ);
    inst.seenDone = done;
    const list = inst.inFlight;
    while (list.length > 0) {
      const e = list[0]!;
      if (e.seq - done > 0) break;
      if (!e.messaged && Atomics.load(control, slotWord(e.slot, S_DONE_MSG)) === 1) break;
      list.shift();
      settle(inst, e);
    }
    if (!refill) return;
    if (queue.length > 0) pump();
    arm(inst);
  }

  /** One pending Atomics.waitAsync on C_DONE_SEQ while batches are in flight (runtimes that have it). */
  function arm(inst: Instance): void {
    if (waitAsync === undefined || inst.armed || inst.dead || inst.inFlight.length === 0) return;
    // Waits on the value drain() last saw: a batch that ended (and notified) before this call is not missed.
    const w = waitAsync(inst.control, C_DONE_SEQ, inst.seenDone);
    if (!w.async) {
      drain(inst); // moved on since drain() read it: settle now (drain arms again)
      return;
    }
    inst.armed = true;
    void w.value.then(() => {
      inst.armed = false;
      drain(inst);
    });
  }

  /** Hands waiting batches to the instance while it has free slots. */
  function submit(inst: Instance): void {
    const control = inst.control;
    let handed = false;
    while (queue.length > 0 && inst.inFlight.length < depth && !inst.dead) {
      const p = queue.shift()!;
      const seq = inst.submitted + 1;
      const slot = seq % depth;
      if (!encodeBatch(inst.inputs[slot]!, p.batch, headerKeys, Atomics.load(control, C_IN_ALIGN), bounce)) {
        p.reject(new RangeError('batch too large for the host input buffer'));
        continue;
      }
      inst.submitted = seq;
      inst.inFlight.push({ ...p, seq, slot, messaged: false });
      Atomics.store(control, C_BATCH_SEQ, seq);
      handed = true;
    }
    if (handed) Atomics.notify(control, C_BATCH_SEQ);
    arm(inst);
  }

  /** Moves the queue on: straight to a ready instance, or after waiting for one (start-up, restart). */
  function pump(): void {
    if (pumping || queue.length === 0) return;
    const inst = current;
    if (inst?.isReady && !inst.dead) {
      submit(inst);
      return;
    }
    pumping = true;
    instance().then(
      (ready) => {
        pumping = false;
        if (!ready.dead) submit(ready);
        else pump();
      },
      (error: Error) => {
        pumping = false;
        for (const p of queue.splice(0)) p.reject(error);
      },
    );
  }

  async function launch(): Promise<Instance> {
    if (closed) throw closedError();
    restarts.markStartAttempt();
    const worker = await spawnWorker(WORKER_URL);
    if (closed) {
      // close() ran while the worker was spawning (a restart after a trap): it found no instance to end.
      await worker.terminate();
      throw closedError();
    }
    const controlSab = new SharedArrayBuffer(controlSlots(depth) * 4);
    const control = new Int32Array(controlSab);
    control[C_RECORD_INDEX] = -1;
    control[C_BUSY] = 0;
    const regions = () =>
      Array.from({ length: depth }, () => createRegion(INITIAL_REGION_BYTES, MAX_REGION_BYTES));
    const inst: Instance = {
      worker,
      control,
      inputs: regions(),
      outputs: regions(),
      ready: Promise.resolve(),
      isReady: false,
      readySettle: null,
      submitted: 0,
      inFlight: [],
      armed: false,
      seenDone: 0,
      dead: false,
      watchdog: undefined as unknown as ReturnType<typeof setInterval>,
    };
    // Settled by the worker's 'ready' (first read_batch_header, §2.4) or by a trap during start-up.
    inst.ready = new Promise<void>((resolve, reject) => {
      inst.readySettle = { resolve, reject };
    });
    inst.ready.catch(() => {});
    worker.onMessage((raw) => {
      const msg = raw as WorkerMessage;
      if (msg.type === 'log') onLog(msg.level, msg.line);
      else if (msg.type === 'done') {
        // The guest asked for the next batch: batch msg.seq is finished, its log lines delivered (§2.4).
        const e = inst.inFlight.find((x) => x.seq === msg.seq);
        if (e !== undefined) e.messaged = true;
        drain(inst);
      } else if (msg.type === 'ready') {
        inst.isReady = true;
        const s = inst.readySettle;
        inst.readySettle = null;
        s?.resolve();
      } else if (msg.type === 'trap') fail(inst, msg.kind, msg.message, msg.recordIndex);
    });
    worker.onFailure((message) => fail(inst, 'worker', message, control[C_RECORD_INDEX] ?? -1));
    // Per-record CPU budget (§2.5, §10): V8 has no fuel, so a watchdog ends a worker whose record (or start-up)
    // has run longer than the budget. The heartbeat is C_RECORD_SEQ, bumped at every read_next_record.
    let lastSeq = -1;
    let lastChange = Date.now();
    inst.watchdog = setInterval(
      () => {
        // A safety net should a wake-up ever be missed (it also settles what is finished).
        if (inst.inFlight.length > 0) drain(inst);
        const seq = Atomics.load(control, C_RECORD_SEQ);
        const now = Date.now();
        if (seq !== lastSeq || Atomics.load(control, C_BUSY) === 0) {
          lastSeq = seq;
          lastChange = now;
          return;
        }
        if (now - lastChange > recordTimeoutMs) {
          const index = Atomics.load(control, C_RECORD_INDEX);
          fail(inst, 'out_of_fuel', `record exceeded the CPU budget of ${recordTimeoutMs} ms`, index);
        }
      },
      Math.max(5, Math.min(250, Math.floor(recordTimeoutMs / 10))),
    );
    const init: WorkerInit = {
      module: compiled,
      control: controlSab,
      depth,
      inputs: inst.inputs,
      outputs: inst.outputs,
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
    throw closedError();
  }

  function process(batch: InputBatch): Promise<BatchResult> {
    if (closed) return Promise.reject(closedError());
    // The broker skips empty batches (§2.6); this one still settles after the calls before it.
    if (batch.records.length === 0) return tail.then(empty, empty);
    const result = new Promise<BatchResult>((resolve, reject) => {
      queue.push({ batch, resolve, reject });
    });
    tail = result;
    pump();
    return result;
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
    const live = inst !== null && !inst.dead ? inst : null;
    rejectClosed(live);
    if (live !== null) {
      live.dead = true;
      clearInterval(live.watchdog);
      Atomics.store(live.control, C_SHUTDOWN, 1);
      Atomics.notify(live.control, C_BATCH_SEQ);
      Atomics.notify(live.control, C_DONE_SEQ);
      await live.worker.terminate();
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

/** A batch's outputs; release() is a prototype method (results compare equal by their outputs alone). */
class Result implements BatchResult {
  outputs: OutputRecord[];
  #buffer: ArrayBuffer | null;
  #buffers: OutputBuffers | null;
  constructor(outputs: OutputRecord[], buffer: ArrayBuffer | null, buffers: OutputBuffers | null) {
    this.outputs = outputs;
    this.#buffer = buffer;
    this.#buffers = buffers;
  }
  release(): void {
    const buffer = this.#buffer;
    if (buffer === null) return;
    this.#buffer = null;
    this.#buffers!.give(buffer);
  }
}

const empty = (): BatchResult => new Result([], null, null);
