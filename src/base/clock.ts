/**
 * Time enters through this seam so that timers, back-off and periodic resyncs can be tested without
 * sleeping. `systemClock` is the real one; tests use `ManualClock` and advance it by hand.
 */
import type { Disposable } from './lifecycle.js';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; dispose to cancel. */
  setTimeout(fn: () => void, ms: number): Disposable;
  /** Calls `fn` every `ms`; dispose to cancel. */
  setInterval(fn: () => void, ms: number): Disposable;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { dispose: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return { dispose: () => clearInterval(t) };
  },
};

/** A clock that moves only when told (`advance`), firing due timers in time order. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; every?: number; fn: () => void }>();

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Disposable {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { dispose: () => void this.timers.delete(id) };
  }

  setInterval(fn: () => void, ms: number): Disposable {
    const id = ++this.seq;
    const every = Math.max(1, ms);
    this.timers.set(id, { at: this.t + every, every, fn });
    return { dispose: () => void this.timers.delete(id) };
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way (bounded: 100,000 firings). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      let nextId: number | undefined;
      let next: { at: number; every?: number; fn: () => void } | undefined;
      for (const [id, tm] of this.timers) if (tm.at <= end && (!next || tm.at < next.at)) [nextId, next] = [id, tm];
      if (!next || nextId === undefined) break;
      this.t = next.at;
      if (next.every !== undefined) next.at += next.every;
      else this.timers.delete(nextId);
      next.fn();
    }
    this.t = end;
  }
}
