// The real clock, on web-standard timers. Tests may pass their own.
import type { Clock, Logger } from './contracts.ts';

export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    sleep: function sleep(ms: number, signal?: AbortSignal): Promise<void> {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
};
