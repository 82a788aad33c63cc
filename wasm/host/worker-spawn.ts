// Starts a worker on any runtime; both kinds run the same worker.ts. node:worker_threads on Node and Deno:
// the watchdog must be able to end a guest stuck in a loop, and Deno's web Worker.terminate() leaves such a
// thread spinning for good while its worker_threads ends it. A web Worker on Bun (its worker_threads
// terminate() never settles for a thread stuck in Wasm, which would hang close()) and where there is no
// `process` (browsers). Bun cannot end a thread stuck in a pure Wasm loop at all (a JavaScriptCore limit,
// oven-sh/bun PR 36356): the host still reports out_of_fuel and restarts, but the old thread keeps a core.

export interface SpawnedWorker {
  post(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  /** An uncaught error or an unexpected exit of the worker thread. */
  onFailure(handler: (message: string) => void): void;
  terminate(): Promise<void>;
}

interface WebWorker {
  postMessage(m: unknown): void;
  addEventListener(type: 'message' | 'error', h: (e: { data?: unknown; message?: string }) => void): void;
  terminate(): void;
}

/** Whether this runtime's workers are web Workers talking through `self` (shared with worker-port.ts). */
export function usesWebWorker(): boolean {
  const g = globalThis as { Bun?: unknown; process?: unknown };
  return g.Bun !== undefined || g.process === undefined;
}

export async function spawnWorker(url: URL): Promise<SpawnedWorker> {
  const WebWorkerCtor = (globalThis as { Worker?: new (u: URL, o: { type: 'module' }) => WebWorker }).Worker;
  if (WebWorkerCtor !== undefined && usesWebWorker()) {
    const w = new WebWorkerCtor(url, { type: 'module' });
    return {
      post: (m) => w.postMessage(m),
      onMessage: (h) => w.addEventListener('message', (e) => h(e.data)),
      onFailure: (h) => w.addEventListener('error', (e) => h(e.message ?? 'worker error')),
      terminate: async () => w.terminate(),
    };
  }
  const { Worker } = await import('node:worker_threads');
  const w = new Worker(url);
  let exited = false;
  return {
    post: (m) => w.postMessage(m),
    onMessage: (h) => w.on('message', h),
    onFailure(h) {
      w.on('error', (e: Error) => h(e.message));
      w.on('exit', (code: number) => {
        if (!exited) h(`worker exited with code ${code}`);
      });
    },
    async terminate() {
      exited = true;
      await w.terminate();
    },
  };
}
