// The only runtime-specific line of the worker: on Node and Deno the worker talks through worker_threads'
// parentPort; on Bun and in browsers it is a web Worker and talks through `self` (worker-spawn.ts says why).
import { usesWebWorker } from './worker-spawn.ts';

export interface Port {
  postMessage(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
}

interface WebScope {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', handler: (event: { data: unknown }) => void): void;
}

export async function parentPort(): Promise<Port> {
  const scope = (globalThis as unknown as { self?: WebScope }).self;
  if (usesWebWorker() && scope !== undefined) {
    return {
      postMessage: (m) => scope.postMessage(m),
      onMessage: (h) => scope.addEventListener('message', (e) => h(e.data)),
    };
  }
  const { parentPort: port } = await import('node:worker_threads');
  if (port === null) throw new Error('worker.ts must run inside a worker');
  return {
    postMessage: (m) => port.postMessage(m),
    onMessage: (h) => port.on('message', h),
  };
}
