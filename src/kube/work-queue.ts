import { systemClock, type Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import { Backoff } from './backoff.js';

/**
 * Serialises a controller's work: keys marked dirty are processed one at a time, each key at
 * most once per pass however many events named it (level-triggered, as client-go's workqueue);
 * a full resync request runs before pending keys and supersedes them. A failed item is retried
 * after a jittered back-off; other work goes on meanwhile.
 */
export interface WorkQueueHandlers {
  process(key: string): Promise<void>;
  resync(): Promise<void>;
  onError?(what: string, err: Error): void;
}

export class WorkQueue implements Disposable {
  private readonly dirty = new Set<string>();
  private resyncWanted = false;
  private draining: Promise<void> | undefined;
  private disposed = false;
  private readonly retry = new Backoff({ initialMs: 100, maxMs: 10_000 });
  private retryTimer: Disposable | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handlers: WorkQueueHandlers,
    private readonly clock: Clock = systemClock,
  ) {}

  add(key: string): void {
    this.dirty.add(key);
    this.kick();
  }

  requestResync(): void {
    this.resyncWanted = true;
    this.dirty.clear();
    this.kick();
  }

  /** Resolves once nothing is pending or running. */
  idle(): Promise<void> {
    if (!this.draining && this.dirty.size === 0 && !this.resyncWanted && !this.retryTimer) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pending(): number {
    return this.dirty.size + (this.resyncWanted ? 1 : 0);
  }

  dispose(): void {
    this.disposed = true;
    this.retryTimer?.dispose();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private kick(): void {
    if (this.disposed || this.draining || this.retryTimer) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.dirty.size > 0 || this.resyncWanted) this.kick();
      else if (!this.retryTimer) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async drain(): Promise<void> {
    while (!this.disposed && (this.resyncWanted || this.dirty.size > 0)) {
      if (this.resyncWanted) {
        this.resyncWanted = false;
        if (!(await this.attempt('resync', () => this.handlers.resync()))) {
          this.resyncWanted = true;
          return this.scheduleRetry();
        }
        continue;
      }
      const key = this.dirty.values().next().value as string;
      this.dirty.delete(key);
      if (!(await this.attempt(key, () => this.handlers.process(key)))) {
        this.dirty.add(key);
        return this.scheduleRetry();
      }
    }
    this.retry.reset();
  }

  private async attempt(what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.handlers.onError?.(what, err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  private scheduleRetry(): void {
    if (this.disposed) return;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.retry.next());
  }
}
