// The innermost layer of a sink's policy: cockatiel's aggressive timeout, same behaviour, less garbage.
// cockatiel's TimeoutPolicy builds, per call, a derived AbortController with an Event wrapper on the
// parent signal, a second Event on its own signal, a promise for it, a Promise.race, an ExecuteWrapper
// result object and an async frame; at one call per record that showed up in CPU and allocation
// profiles. This keeps what the rest of the policy sees: the call gets a signal that aborts when the
// parent aborts (with the parent's reason) or when the time is up; at the time limit the call rejects
// with cockatiel's TaskCancelledError (`Operation timed out after <n>ms`) whatever the task does later,
// so retry and breaker classify it exactly as before; a finished call's signal is left alone
// (abortOnReturn: false).
import { TaskCancelledError } from 'cockatiel';

export interface TimeoutLayer {
  execute<T>(
    fn: (context: { readonly signal: AbortSignal }) => PromiseLike<T> | T,
    signal?: AbortSignal,
  ): Promise<T>;
}

export function createTimeoutLayer(durationMs: number): TimeoutLayer {
  return {
    execute<T>(
      fn: (context: { readonly signal: AbortSignal }) => PromiseLike<T> | T,
      parent?: AbortSignal,
    ): Promise<T> {
      const ctrl = new AbortController();
      const context = { signal: ctrl.signal };
      let settled = false;
      let resolveOuter: (value: T) => void = () => {};
      let rejectOuter: (error: unknown) => void = () => {};
      const outer = new Promise<T>((resolve, reject) => {
        resolveOuter = resolve;
        rejectOuter = reject;
      });
      const cancel = () => {
        if (!ctrl.signal.aborted) ctrl.abort();
        if (settled) return;
        settled = true;
        cleanup();
        rejectOuter(new TaskCancelledError(`Operation timed out after ${durationMs}ms`));
      };
      const onParentAbort = () => {
        if (!ctrl.signal.aborted) ctrl.abort(parent?.reason);
        cancel();
      };
      const timer = setTimeout(cancel, durationMs);
      const cleanup = () => {
        clearTimeout(timer);
        parent?.removeEventListener('abort', onParentAbort);
      };
      if (parent !== undefined) {
        if (parent.aborted) ctrl.abort(parent.reason);
        else parent.addEventListener('abort', onParentAbort, { once: true });
      }
      let task: PromiseLike<T> | T;
      try {
        task = fn(context);
      } catch (error) {
        task = Promise.reject(error);
      }
      Promise.resolve(task).then(
        (value) => {
          if (settled) return;
          settled = true;
          cleanup();
          resolveOuter(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          cleanup();
          rejectOuter(error);
        },
      );
      // Already aborted parent: as with cockatiel, the task starts with an aborted signal and the
      // call ends as cancelled.
      if (ctrl.signal.aborted) queueMicrotask(cancel);
      return outer;
    },
  };
}
