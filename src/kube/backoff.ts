/**
 * Exponential back-off with full jitter, bounded: the n-th consecutive failure waits a random time
 * in [base·2^(n-1) / 2, base·2^(n-1)], capped at `maxMs`, so many controllers reconnecting to a
 * recovered API server do not arrive together. `reset()` after a success.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Random source in [0, 1) (tests pass a fixed one). */
  random?: () => number;
}

export class Backoff {
  private failures = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 200;
    this.maxMs = opts.maxMs ?? 30_000;
    this.random = opts.random ?? Math.random;
  }

  /** The delay before the next attempt (and counts one more failure). */
  next(): number {
    this.failures = Math.min(this.failures + 1, 30);
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** (this.failures - 1));
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}
