import { Watch } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { httpStatusOf, normaliseObject, type KubeObject, type KubeResource, type Lister } from './kube-resources.js';

/**
 * Keeps a local copy of one Kubernetes resource (client-go's Reflector): list in pages
 * (`limit`/`continue`), then watch from the list's resourceVersion with bookmarks, resuming each
 * new watch from the last resourceVersion seen (event or bookmark). A 410 Gone (compacted
 * history, expired continue token) means list again; any other failure backs off with jitter and
 * retries, without dropping what the store holds (controllers keep working from it).
 *
 * It reports what changed (`onChange`) and when the whole store was replaced by a list
 * (`onReplace`: initial sync and every re-list); it does not convert or write anything.
 */

export type ReflectorStatus = 'listing' | 'watching' | 'backoff' | 'stopped';

export interface ReflectorHandlers {
  onReplace(): void;
  onChange(key: string, obj: KubeObject | undefined): void;
  onStatus?(status: ReflectorStatus, err?: Error): void;
}

export interface ReflectorOptions {
  pageSize?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  /** Asked of the server for each watch (the server ends it then; the reflector re-watches). */
  watchTimeoutSeconds?: number;
}

export interface ReflectorStats {
  lists: number;
  relistsAfterGone: number;
  watches: number;
  errors: number;
  bookmarks: number;
  events: number;
}

export function objectKey(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

export class Reflector implements Disposable {
  readonly store = new Map<string, KubeObject>();
  readonly stats: ReflectorStats = { lists: 0, relistsAfterGone: 0, watches: 0, errors: 0, bookmarks: 0, events: 0 };
  private rv = '';
  private synced = false;
  private disposed = false;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private readonly syncWaiters: (() => void)[] = [];
  private readonly backoff: Backoff;
  private readonly clock: Clock;

  constructor(
    readonly resource: KubeResource,
    private readonly lister: Lister,
    private readonly watcher: Watch,
    private readonly handlers: ReflectorHandlers,
    private readonly opts: ReflectorOptions = {},
  ) {
    this.backoff = new Backoff(opts.backoff);
    this.clock = opts.clock ?? systemClock;
  }

  start(): void {
    this.running ??= this.run();
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  dispose(): void {
    this.disposed = true;
    this.abort?.abort();
    this.wake?.();
    this.handlers.onStatus?.('stopped');
  }

  /** Resolves when the loop has ended (after dispose). */
  async stopped(): Promise<void> {
    await this.running;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.disposed) {
      try {
        if (needList) {
          this.handlers.onStatus?.('listing');
          await this.listAll();
          needList = false;
        }
        this.handlers.onStatus?.('watching');
        const outcome = await this.watchOnce();
        if (outcome === 'gone') {
          this.stats.relistsAfterGone++;
          needList = true;
        } else if (outcome === 'idle') {
          await this.sleep(this.backoff.next());
        }
      } catch (err) {
        if (this.disposed) break;
        if (httpStatusOf(err) === 410) {
          this.stats.relistsAfterGone++;
          needList = true;
          continue;
        }
        if (httpStatusOf(err) === 404 && needList) {
          // The server does not serve this resource (an optional CRD not installed): nothing of it
          // exists. Count as listed, and look again now and then.
          this.notServed();
          await this.sleep(this.backoff.next());
          continue;
        }
        this.stats.errors++;
        this.handlers.onStatus?.('backoff', err instanceof Error ? err : new Error(String(err)));
        await this.sleep(this.backoff.next());
      }
    }
  }

  private async listAll(): Promise<void> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let rv = '';
    for (let page = 0; page < 100_000; page++) {
      const res = await this.lister({ limit: this.opts.pageSize ?? 500, ...(cont ? { continue: cont } : {}) });
      items.push(...res.items);
      rv = res.resourceVersion;
      cont = res.continue;
      if (!cont || this.disposed) break;
    }
    if (this.disposed) return;
    this.stats.lists++;
    this.store.clear();
    for (const o of items) this.store.set(objectKey(o), o);
    this.rv = rv;
    this.backoff.reset();
    this.handlers.onReplace();
    this.markSynced();
  }

  private notServed(): void {
    if (this.synced && this.store.size === 0) return;
    this.handlers.onStatus?.('backoff', new Error(`${this.resource.path} is not served by the API server; treating it as empty`));
    this.store.clear();
    this.handlers.onReplace();
    this.markSynced();
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** One watch: 'gone' (re-list), 'ended' (re-watch now), 'idle' (ended at once with nothing: back off). */
  private watchOnce(): Promise<'gone' | 'ended' | 'idle'> {
    this.stats.watches++;
    const started = this.clock.now();
    let gone = false;
    let seen = 0;
    let failure: Error | undefined;
    return new Promise((resolve, reject) => {
      const query: Record<string, string | boolean | number> = { resourceVersion: this.rv, allowWatchBookmarks: true };
      if (this.opts.watchTimeoutSeconds) query['timeoutSeconds'] = this.opts.watchTimeoutSeconds;
      const onEvent = (type: string, obj: KubeObject & { code?: number; message?: string }): void => {
        if (this.disposed) return;
        seen++;
        if (type === 'ERROR') {
          if (obj?.code === 410) gone = true;
          else failure = new Error(`watch ${this.resource.name}: ${obj?.message ?? 'error event'}`);
          this.abort?.abort();
          return;
        }
        const rv = obj?.metadata?.resourceVersion;
        if (rv) this.rv = rv;
        if (type === 'BOOKMARK') {
          this.stats.bookmarks++;
          return;
        }
        const o = normaliseObject(obj, this.resource.apiVersion, this.resource.kind);
        const key = objectKey(o);
        this.stats.events++;
        this.backoff.reset();
        if (type === 'DELETED') {
          this.store.delete(key);
          this.handlers.onChange(key, undefined);
        } else if (type === 'ADDED' || type === 'MODIFIED') {
          this.store.set(key, o);
          this.handlers.onChange(key, o);
        }
      };
      let finished = false;
      const onDone = (err: unknown): void => {
        finished = true;
        this.abort = undefined;
        if (this.disposed) return resolve('ended');
        if (gone) return resolve('gone');
        if (failure) return reject(failure);
        if (err && !(err instanceof Error && err.name === 'AbortError')) return reject(err);
        resolve(seen === 0 && this.clock.now() - started < 1000 ? 'idle' : 'ended');
      };
      this.watcher.watch(this.resource.path, query, onEvent, onDone).then(
        (ctrl) => {
          if (!finished) this.abort = ctrl;
          if (this.disposed) ctrl.abort();
        },
        reject,
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.disposed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        t.dispose();
        this.wake = undefined;
        resolve();
      };
    });
  }
}
