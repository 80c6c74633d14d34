import { AlreadyExistsError, CompactedError, ConflictError, NotFoundError } from '../errors.js';
import type { Datastore, KeyValue, ListResult, Watch, WatchEvent, WatchHandlers } from './datastore.js';
import { checkValueSize } from './value-size.js';

interface Watcher {
  prefix: string;
  handlers: WatchHandlers;
  disposed: boolean;
}

/**
 * An in-memory Datastore with the exact semantics of the real backends: one global revision,
 * compare-and-swap, ordered watch with history and compaction. Used by unit tests and by
 * `memory:` URLs (one process only, nothing persisted). Events are delivered asynchronously
 * (on a microtask) so callers see the same re-entrancy as with a real backend.
 */
export class MemoryDatastore implements Datastore {
  readonly url: string;
  private revision = 0;
  private compactedTo = 0;
  private readonly data = new Map<string, KeyValue>();
  private readonly history: { revision: number; event: WatchEvent }[] = [];
  private readonly watchers = new Set<Watcher>();

  constructor(url = 'memory:') {
    this.url = url;
  }

  async get(key: string): Promise<KeyValue | null> {
    const kv = this.data.get(key);
    return kv ? { ...kv } : null;
  }

  async list(prefix: string): Promise<ListResult> {
    const items = [...this.data.values()].filter((kv) => kv.key.startsWith(prefix)).map((kv) => ({ ...kv }));
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { items, revision: this.revision };
  }

  async create(key: string, value: string): Promise<KeyValue> {
    checkValueSize(key, value);
    if (this.data.has(key)) throw new AlreadyExistsError(`key ${key} already exists`);
    const rev = ++this.revision;
    const kv: KeyValue = { key, value, createRevision: rev, modRevision: rev };
    this.data.set(key, kv);
    this.record({ type: 'put', kv: { ...kv } });
    return { ...kv };
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    checkValueSize(key, value);
    const cur = this.data.get(key);
    if (!cur) throw new NotFoundError(`key ${key} does not exist`);
    if (cur.modRevision !== expectedRevision) {
      throw new ConflictError(`key ${key} is at revision ${cur.modRevision}, not ${expectedRevision}`);
    }
    const rev = ++this.revision;
    const kv: KeyValue = { key, value, createRevision: cur.createRevision, modRevision: rev };
    this.data.set(key, kv);
    this.record({ type: 'put', kv: { ...kv } });
    return { ...kv };
  }

  async delete(key: string, expectedRevision?: number): Promise<void> {
    const cur = this.data.get(key);
    if (!cur) throw new NotFoundError(`key ${key} does not exist`);
    if (expectedRevision !== undefined && cur.modRevision !== expectedRevision) {
      throw new ConflictError(`key ${key} is at revision ${cur.modRevision}, not ${expectedRevision}`);
    }
    const rev = ++this.revision;
    this.data.delete(key);
    this.record({ type: 'delete', key, modRevision: rev });
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    const w: Watcher = { prefix, handlers, disposed: false };
    queueMicrotask(() => {
      if (w.disposed) return;
      if (fromRevision < this.compactedTo) {
        w.disposed = true;
        handlers.onError(new CompactedError(`watch from revision ${fromRevision}: history compacted to ${this.compactedTo}`, this.compactedTo));
        return;
      }
      const backlog = this.history.filter((h) => h.revision > fromRevision && keyOf(h.event).startsWith(prefix)).map((h) => h.event);
      if (backlog.length > 0) handlers.onEvents(backlog);
      this.watchers.add(w);
    });
    return {
      dispose: () => {
        w.disposed = true;
        this.watchers.delete(w);
      },
    };
  }

  /** Drops history at or below `revision` (watches from before it get CompactedError). */
  compact(revision: number): void {
    this.compactedTo = Math.max(this.compactedTo, Math.min(revision, this.revision));
    while (this.history.length > 0 && this.history[0]!.revision <= this.compactedTo) this.history.shift();
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.disposed = true;
    this.watchers.clear();
  }

  private record(event: WatchEvent): void {
    this.history.push({ revision: this.revision, event });
    const key = keyOf(event);
    for (const w of this.watchers) {
      if (!key.startsWith(w.prefix)) continue;
      queueMicrotask(() => {
        if (!w.disposed) w.handlers.onEvents([event]);
      });
    }
  }
}

function keyOf(e: WatchEvent): string {
  return e.type === 'put' ? e.kv.key : e.key;
}
