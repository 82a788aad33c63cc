// The broker's restart backoff for a failed transform (docs/abi.md §11): Redpanda's processor_backoff
// (src/v/transform/transform_manager.cc at 1c6cff34ea8b, on make_exponential_backoff_policy in
// src/v/rpc/backoff_policy.h). A step counter starts at 0; each failure sets it to
// max(min(cap, step * 2), 1), and the delay is step × the initial delay: 1, 2, 4, 8, 16, 30, 30 … s with
// the defaults (cap = 30 s / 1 s). The counter goes back to 0 first when the failure comes more than
// `resetAfterMs` after the last start attempt, so a module that ran healthily for a while starts over at
// the initial delay. Used by the host (restart after a trap) and by the runner's partition lane (a
// module that fails at start-up), so both follow the same rule.

export interface RestartBackoffOptions {
  /** The first delay (the broker's base_duration). Default 1000. */
  initialMs?: number;
  /** The longest delay (max_duration). Default 30000. */
  maxMs?: number;
  /** A failure this long after the last start attempt starts over (reset_duration). Default 10000. */
  resetAfterMs?: number;
}

export class RestartBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #resetAfterMs: number;
  readonly #cap: number;
  readonly #now: () => number;
  #step = 0;
  #startedAt: number;

  constructor(
    { initialMs = 1000, maxMs = 30_000, resetAfterMs = 10_000 }: RestartBackoffOptions = {},
    now = Date.now,
  ) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#resetAfterMs = resetAfterMs;
    this.#cap = Math.max(1, Math.floor(maxMs / initialMs));
    this.#now = now;
    this.#startedAt = now();
  }

  /** A start attempt begins now (the broker's mark_start_attempt). */
  markStartAttempt(): void {
    this.#startedAt = this.#now();
  }

  /** The instance failed: how long to wait before the next start attempt (next_backoff_duration). */
  nextDelayMs(): number {
    if (this.#now() > this.#startedAt + this.#resetAfterMs) this.#step = 0;
    this.#step = Math.max(Math.min(this.#cap, this.#step * 2), 1);
    return Math.min(this.#step * this.#initialMs, this.#maxMs);
  }
}
