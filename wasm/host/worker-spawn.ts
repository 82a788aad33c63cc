// Starts a worker on any runtime: web Worker (Deno, Bun, browsers) when the global exists, else Node's
// worker_threads. Both run the same worker.ts.

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

export async function spawnWorker(url: URL): Promise<SpawnedWorker> {
  const WebWorkerCtor = (globalThis as { Worker?: new (u: URL, o: { type: 'module' }) => WebWorker }).Worker;
  if (WebWorkerCtor !== undefined) {
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
