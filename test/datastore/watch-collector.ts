import type { WatchEvent, WatchHandlers } from '../../src/datastore/datastore.js';

/** Records what a watch delivers and lets a test wait (bounded) for a number of events or an error. */
export class WatchCollector {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  /** How many onEvents calls there were (a call may carry several events). */
  calls = 0;
  private waiters: (() => void)[] = [];

  readonly handlers: WatchHandlers = {
    onEvents: (events) => {
      this.calls++;
      this.events.push(...events);
      this.notify();
    },
    onError: (err) => {
      this.errors.push(err);
      this.notify();
    },
  };

  /** Resolves once `count` events (or an error) arrived; rejects after `timeoutMs`. */
  async waitForEvents(count: number, timeoutMs = 10_000): Promise<void> {
    await this.waitUntil(() => this.events.length >= count || this.errors.length > 0, timeoutMs, `${count} watch events (got ${this.events.length})`);
  }

  async waitForError(timeoutMs = 10_000): Promise<Error> {
    await this.waitUntil(() => this.errors.length > 0, timeoutMs, 'a watch error');
    return this.errors[0]!;
  }

  revisions(): number[] {
    return this.events.map(revisionOf);
  }

  private async waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

export function revisionOf(e: WatchEvent): number {
  return e.type === 'put' ? e.kv.modRevision : e.modRevision;
}

export function keyOfEvent(e: WatchEvent): string {
  return e.type === 'put' ? e.kv.key : e.key;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
