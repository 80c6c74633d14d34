import assert from 'node:assert/strict';
import type { Datastore, KeyValue, ListResult, Watch, WatchHandlers } from '../../src/datastore/datastore.js';
import type { SyncerCallbacks, SyncStatus, SyncUpdate } from '../../src/datastore/syncer.js';

/**
 * What a syncer delivered: the state it builds (key → value and revision), every (key, revision)
 * seen (to prove nothing is repeated), the batches and the statuses, with bounded waits.
 */
export class SyncRecorder implements SyncerCallbacks {
  readonly state = new Map<string, { value: unknown; revision: number }>();
  readonly statuses: { status: SyncStatus; cause?: Error }[] = [];
  readonly batches: SyncUpdate[][] = [];
  private readonly seen = new Set<string>();
  readonly duplicates: string[] = [];

  onUpdates(updates: readonly SyncUpdate[]): void {
    this.batches.push([...updates]);
    for (const u of updates) {
      const id = `${u.key}@${u.revision}${u.value === null ? '-' : ''}`;
      if (this.seen.has(id)) this.duplicates.push(id);
      this.seen.add(id);
      if (u.value === null) this.state.delete(u.key);
      else this.state.set(u.key, { value: u.value, revision: u.revision });
    }
  }

  onStatus(status: SyncStatus, cause?: Error): void {
    this.statuses.push(cause ? { status, cause } : { status });
  }

  get status(): SyncStatus | undefined {
    return this.statuses.at(-1)?.status;
  }

  names(): SyncStatus[] {
    return this.statuses.map((s) => s.status);
  }

  async waitFor(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; statuses ${JSON.stringify(this.names())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  waitForStatus(s: SyncStatus, timeoutMs?: number): Promise<void> {
    return this.waitFor(`status ${s}`, () => this.status === s, timeoutMs);
  }

  /** The recorded state equals the datastore's list of these prefixes (values compared by `decode`). */
  async assertMatches(ds: Datastore, prefixes: string[], decode: (kv: KeyValue) => unknown): Promise<void> {
    const want = new Map<string, { value: unknown; revision: number }>();
    for (const p of prefixes) for (const kv of (await ds.list(p)).items) want.set(kv.key, { value: decode(kv), revision: kv.modRevision });
    assert.deepEqual(sorted(this.state), sorted(want));
    assert.deepEqual(this.duplicates, [], 'no update delivered twice');
  }

  /** Waits until the state equals the datastore's (bounded), then asserts it. */
  async converge(ds: Datastore, prefixes: string[], decode: (kv: KeyValue) => unknown, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.assertMatches(ds, prefixes, decode);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

function sorted<V>(m: Map<string, V>): [string, V][] {
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A Datastore that passes everything through and lets a test break it: lists that fail, watches
 * that disconnect (onStatus), reconnect, or fail (onError).
 */
export class FaultyDatastore implements Datastore {
  readonly url: string;
  private readonly live = new Set<{ handlers: WatchHandlers; inner: Watch }>();
  failLists = 0;
  listCalls = 0;

  constructor(readonly inner: Datastore, private readonly listError = () => new Error('list refused by the test')) {
    this.url = inner.url;
  }

  get(key: string): Promise<KeyValue | null> { return this.inner.get(key); }
  create(key: string, value: string): Promise<KeyValue> { return this.inner.create(key, value); }
  update(key: string, value: string, rev: number): Promise<KeyValue> { return this.inner.update(key, value, rev); }
  delete(key: string, rev?: number): Promise<void> { return this.inner.delete(key, rev); }
  close(): Promise<void> { return this.inner.close(); }

  async list(prefix: string): Promise<ListResult> {
    this.listCalls++;
    if (this.failLists > 0) {
      this.failLists--;
      throw this.listError();
    }
    return this.inner.list(prefix);
  }

  /** While set, new watches are only opened on the backend when `releaseWatches()` is called. */
  holdWatches = false;
  private held: (() => void)[] = [];

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    const entry: { handlers: WatchHandlers; inner: Watch } = { handlers, inner: { dispose: () => undefined } };
    let disposed = false;
    const open = () => {
      if (disposed) return;
      entry.inner = this.inner.watch(prefix, fromRevision, handlers);
      this.live.add(entry);
    };
    if (this.holdWatches) this.held.push(open);
    else open();
    return { dispose: () => { disposed = true; this.live.delete(entry); entry.inner.dispose(); } };
  }

  releaseWatches(): void {
    this.holdWatches = false;
    const held = this.held;
    this.held = [];
    for (const open of held) open();
  }

  get watches(): number {
    return this.live.size;
  }

  disconnect(cause: Error): void {
    for (const w of this.live) w.handlers.onStatus?.({ state: 'disconnected', cause });
  }

  reconnect(): void {
    for (const w of this.live) w.handlers.onStatus?.({ state: 'connected' });
  }

  /** Ends every watch with `err` (as a backend does on a terminal error). */
  failWatches(err: Error): void {
    for (const w of [...this.live]) {
      this.live.delete(w);
      w.inner.dispose();
      w.handlers.onError(err);
    }
  }
}
