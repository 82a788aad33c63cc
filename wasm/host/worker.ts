// Worker entry: one transform instance (a broker VM). Links the three host modules (docs/abi.md §1), runs
// `_start` (§2.1), and reports how it ended. The main thread never calls into it per record or batch: it
// talks through the shared regions described in shared.ts.
import { createGuestMemory, FfiTrap } from './ffi.ts';
import { createSchemaRegistry } from './schema-registry.ts';
import { C_BUSY, C_RECORD_INDEX, C_RECORD_SEQ, type WorkerInit, type WorkerMessage } from './shared.ts';
import { createTransformAbi, VmShutdown } from './transform-abi.ts';
import { createWasi, ProcExit, type WasiClock } from './wasi.ts';
import { parentPort } from './worker-port.ts';

const port = await parentPort();

function post(message: WorkerMessage): void {
  port.postMessage(message);
}

function run(init: WorkerInit): void {
  const control = new Int32Array(init.control);
  let exports: WebAssembly.Exports | null = null;
  const memory = createGuestMemory(() => exports);
  // Before the first batch the wall clock is timestamp::min() (§8).
  const clock: WasiClock = { realtimeMs: 0 };
  let logged = false; // a log message was posted since the last batch ended
  const imports = {
    redpanda_transform: createTransformAbi({
      memory,
      control,
      inputs: init.inputs,
      outputs: init.outputs,
      guestMemory: () => exports?.memory,
      outputTopics: init.outputTopics,
      clock,
      memoryLimitBytes: init.memoryLimitBytes,
      onReady: () => post({ type: 'ready' }),
      onBatchDone: (seq) => post({ type: 'done', seq }),
      ...(init.notifyDone
        ? {
            notifyDone: () => {
              const quiet = !logged;
              logged = false;
              return quiet;
            },
          }
        : {}),
    }),
    redpanda_schema_registry: createSchemaRegistry(memory),
    wasi_snapshot_preview1: createWasi({
      memory,
      args: init.args,
      environ: init.environ,
      clock,
      logLineMaxBytes: init.logLineMaxBytes,
      onLog: (level, line) => {
        logged = true;
        post({ type: 'log', level, line });
      },
    }),
  } as unknown as WebAssembly.Imports;
  Atomics.store(control, C_BUSY, 1);
  Atomics.add(control, C_RECORD_SEQ, 1);
  try {
    // A start section runs here, under the start-up budget (§1 "Start").
    const instance = new WebAssembly.Instance(init.module, imports);
    exports = instance.exports;
    const start = exports._start as () => void;
    start();
    post({
      type: 'trap',
      kind: 'exited',
      message: 'vm has exited',
      recordIndex: Atomics.load(control, C_RECORD_INDEX),
    });
  } catch (error) {
    const recordIndex = Atomics.load(control, C_RECORD_INDEX);
    if (error instanceof VmShutdown) {
      post({ type: 'trap', kind: 'shutdown', message: error.message, recordIndex });
    } else if (error instanceof ProcExit) {
      post({ type: 'trap', kind: 'proc_exit', message: error.message, recordIndex });
    } else if (error instanceof FfiTrap) {
      post({ type: 'trap', kind: 'trap', message: error.message, recordIndex });
    } else if (error instanceof WebAssembly.RuntimeError || error instanceof RangeError) {
      post({ type: 'trap', kind: 'trap', message: `wasm trap: ${error.message}`, recordIndex });
    } else {
      const message = error instanceof Error ? error.message : String(error);
      post({
        type: 'trap',
        kind: 'trap',
        message: `failure executing host function: ${message}`,
        recordIndex,
      });
    }
  }
}

port.onMessage((message) => run(message as WorkerInit));
