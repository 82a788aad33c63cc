import { isTaskCancelledError, TimeoutStrategy, timeout } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../metrics/registry.ts';
import { testConfig, testSink } from '../testing/config.ts';
import { FerryError } from './errors.ts';
import { createSinkPolicy } from './policy.ts';
import { createTimeoutLayer } from './timeout-layer.ts';

type Exec = (
  fn: (context: { readonly signal: AbortSignal }) => Promise<unknown>,
  signal?: AbortSignal,
) => Promise<unknown>;

// The layer replaces cockatiel's aggressive timeout (abortOnReturn: false): every case runs on both.
const cockatielTimeout = (ms: number): Exec => {
  const p = timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  return (fn, signal) => p.execute(fn, signal);
};
const ours = (ms: number): Exec => {
  const p = createTimeoutLayer(ms);
  return (fn, signal) => p.execute(fn, signal);
};

const settle = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
// A hung server: the call never settles by itself (the sender's own abort handling takes several
// async hops, so in the relay the timeout always wins the race too).
const hang = (_signal: AbortSignal) => new Promise(() => {});

describe.each([
  ['cockatiel timeout', cockatielTimeout],
  ['timeout layer', ours],
])('%s', (_name, make) => {
  it('returns what the task returns and leaves its signal alone', async () => {
    let seen: AbortSignal | undefined;
    const out = await settle(
      make(200)(async ({ signal }) => {
        seen = signal;
        return 42;
      }),
    );
    expect(out).toEqual({ value: 42 });
    await new Promise((r) => setTimeout(r, 250));
    expect(seen?.aborted).toBe(false);
  });

  it('passes the task error through unchanged', async () => {
    const err = new FerryError('FERRY_SINK_RETRYABLE', 'sink answered 503', { retryable: true, status: 503 });
    const out = await settle(
      make(200)(async () => {
        throw err;
      }),
    );
    expect(out).toEqual({ error: err });
  });

  it('rejects a task that hangs with TaskCancelledError at the limit and aborts its signal', async () => {
    let seen: AbortSignal | undefined;
    const started = Date.now();
    const out = await settle(
      make(30)(({ signal }) => {
        seen = signal;
        return hang(signal);
      }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect('error' in out && isTaskCancelledError(out.error)).toBe(true);
    expect('error' in out && (out.error as Error).message).toBe('Operation timed out after 30ms');
    expect(seen?.aborted).toBe(true);
  });

  it('times out a task that never reads its signal; a late read finds it aborted', async () => {
    let context: { readonly signal: AbortSignal } | undefined;
    const out = await settle(
      make(30)((c) => {
        context = c;
        return new Promise(() => {});
      }),
    );
    expect('error' in out && isTaskCancelledError(out.error)).toBe(true);
    expect(context?.signal.aborted).toBe(true);
  });

  it('cancels when the parent signal aborts, with the parent reason on the task signal', async () => {
    const parent = new AbortController();
    let seen: AbortSignal | undefined;
    const pending = settle(
      make(10_000)(({ signal }) => {
        seen = signal;
        return hang(signal);
      }, parent.signal),
    );
    const reason = new Error('stopping');
    parent.abort(reason);
    const out = await pending;
    expect('error' in out && isTaskCancelledError(out.error)).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(reason);
  });
});

describe('sink policy with the timeout layer', () => {
  it('retries a timed-out call, counts the retries and exhaustion, and ends as a transient cancel', async () => {
    const config = testConfig({
      routes: [
        {
          topics: 't',
          sinks: [
            testSink('api', {
              timeout: '20ms',
              retry: { attempts: 3, backoffBase: '1ms', backoffCap: '2ms' },
            }),
          ],
        },
      ],
    });
    const sink = config.relay.routes[0]?.sinks[0];
    if (!sink) throw new Error('no sink');
    const metrics = createRegistry();
    const { policy, dispose } = createSinkPolicy(sink, metrics, () => 0.5);
    let calls = 0;
    const out = await settle(
      policy.execute(({ signal }) => {
        calls++;
        return hang(signal);
      }),
    );
    dispose();
    expect(calls).toBe(3);
    expect('error' in out && isTaskCancelledError(out.error)).toBe(true);
    expect(metrics.total('ferry_retries_total', { sink: 'api' })).toBe(2);
    expect(metrics.total('ferry_retries_exhausted_total', { sink: 'api' })).toBe(1);
  });
});
