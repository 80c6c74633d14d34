/**
 * Owned lifecycles (after VS Code's `lifecycle.ts`): anything that must be stopped (a watch, a
 * timer, a child process, a server) is a Disposable, owned by exactly one DisposableStore. Shutdown
 * is one `dispose()` of the owner, which disposes what it holds in reverse order of adding and
 * keeps going when one of them throws (the first error is rethrown at the end).
 */

export interface Disposable {
  dispose(): void | Promise<void>;
}

export function toDisposable(fn: () => void | Promise<void>): Disposable {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      return fn();
    },
  };
}

export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Takes ownership of `d`. Adding to a disposed store disposes `d` at once (nothing leaks). */
  add<T extends Disposable>(d: T): T {
    if (this.disposed) {
      void Promise.resolve(d.dispose()).catch(() => undefined);
      return d;
    }
    this.items.push(d);
    return d;
  }

  /** Gives up ownership without disposing (the caller disposes it itself). */
  delete(d: Disposable): void {
    const i = this.items.indexOf(d);
    if (i >= 0) this.items.splice(i, 1);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    let first: unknown;
    while (this.items.length > 0) {
      const d = this.items.pop()!;
      try {
        await d.dispose();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }
}
