// The innermost layer of a sink's policy: cockatiel's aggressive timeout, same behaviour, less garbage.
// cockatiel's TimeoutPolicy builds, per call, a derived AbortController with an Event wrapper on the
// parent signal, a second Event on its own signal, a promise for it, a Promise.race, an ExecuteWrapper
// result object and an async frame; at one call per record that showed up in CPU and allocation
// profiles. This keeps what the rest of the policy sees: the call gets a signal that aborts when the
// parent aborts (with the parent's reason) or when the time is up; at the time limit the call rejects
// with cockatiel's TaskCancelledError (`Operation timed out after <n>ms`) whatever the task does later,
// so retry and breaker classify it exactly as before; a finished call's signal is left alone
// (abortOnReturn: false). The call's AbortController is made only when the task reads its signal:
// a sender that ends its requests by itself (HttpSender.endsRequests) never does, which saves an
// AbortController and an abort listener per call.
import { TaskCancelledError } from 'cockatiel';

export interface TimeoutLayer {
  execute<T>(
    fn: (context: { readonly signal: AbortSignal }) => PromiseLike<T> | T,
    signal?: AbortSignal,
  ): Promise<T>;
}

const NOT_ABORTED: unique symbol = Symbol('not aborted');

/** One call in flight, and the context its task sees: a lazy signal, the outer promise's settlers, the timer. */
class TimeoutCall<T> {
  ctrl: AbortController | undefined = undefined;
  /** Why the call's signal is aborted (or would be, once made). */
  abortReason: unknown = NOT_ABORTED;
  settled = false;
  timer: Parameters<typeof clearTimeout>[0] = undefined;
  resolve: (value: T) => void = noop;
  reject: (error: unknown) => void = noop;
  readonly layer: LayerState;

  constructor(layer: LayerState) {
    this.layer = layer;
  }

  /** The task's signal, made on first read (already aborted if the call was). */
  get signal(): AbortSignal {
    if (this.ctrl === undefined) {
      this.ctrl = new AbortController();
      if (this.abortReason !== NOT_ABORTED) this.ctrl.abort(this.abortReason);
    }
    return this.ctrl.signal;
  }

  abortWith(reason: unknown): void {
    if (this.abortReason !== NOT_ABORTED) return;
    // As AbortController.abort(undefined) does: no reason means an AbortError DOMException.
    this.abortReason =
      reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.ctrl?.abort(this.abortReason);
  }

  /** Time is up (or the parent aborted): abort the task's signal and reject with TaskCancelledError. */
  cancel(): void {
    this.abortWith(undefined);
    if (this.settled) return;
    this.end();
    this.reject(new TaskCancelledError(`Operation timed out after ${this.layer.durationMs}ms`));
  }

  onParentAbort(reason: unknown): void {
    this.abortWith(reason);
    this.cancel();
  }

  value(value: T): void {
    if (this.settled) return;
    this.end();
    this.resolve(value);
  }

  error(error: unknown): void {
    if (this.settled) return;
    this.end();
    this.reject(error);
  }

  end(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.layer.calls?.delete(this as TimeoutCall<unknown>);
  }
}

interface LayerState {
  readonly durationMs: number;
  /** Calls in flight under `parent` (one abort listener per parent signal, not one per call). */
  calls: Set<TimeoutCall<unknown>> | undefined;
  parent: AbortSignal | undefined;
}

const noop = () => {};
const expire = (call: TimeoutCall<unknown>) => call.cancel();

export function createTimeoutLayer(durationMs: number): TimeoutLayer {
  // The sink's policy always passes the same parent (the sink's stop signal): its calls share one
  // listener. A call with another parent gets a layer state of its own.
  const shared: LayerState = { durationMs, calls: undefined, parent: undefined };
  const watch = (state: LayerState, parent: AbortSignal) => {
    state.parent = parent;
    state.calls = new Set();
    const calls = state.calls;
    parent.addEventListener(
      'abort',
      () => {
        for (const call of [...calls]) call.onParentAbort(parent.reason);
      },
      { once: true },
    );
  };
  return {
    execute<T>(
      fn: (context: { readonly signal: AbortSignal }) => PromiseLike<T> | T,
      parent?: AbortSignal,
    ): Promise<T> {
      let state = shared;
      if (parent !== undefined && !parent.aborted) {
        if (shared.parent === undefined) watch(shared, parent);
        else if (shared.parent !== parent) {
          state = { durationMs, calls: undefined, parent: undefined };
          watch(state, parent);
        }
      }
      const call = new TimeoutCall<T>(state);
      const outer = new Promise<T>((resolve, reject) => {
        call.resolve = resolve;
        call.reject = reject;
      });
      call.timer = setTimeout(expire, durationMs, call as TimeoutCall<unknown>);
      if (parent !== undefined) {
        if (parent.aborted) call.abortWith(parent.reason);
        else state.calls?.add(call as TimeoutCall<unknown>);
      }
      let task: PromiseLike<T> | T;
      try {
        task = fn(call);
      } catch (error) {
        task = Promise.reject(error);
      }
      Promise.resolve(task).then(
        (value) => call.value(value),
        (error: unknown) => call.error(error),
      );
      // Already aborted parent: as with cockatiel, the task starts with an aborted signal and the
      // call ends as cancelled.
      if (call.abortReason !== NOT_ABORTED) queueMicrotask(() => call.cancel());
      return outer;
    },
  };
}
