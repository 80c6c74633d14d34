import type Database from 'better-sqlite3';
import { CompactedError, UnavailableError } from '../errors.js';
import type { Watch, WatchEvent, WatchHandlers, WatchStatus } from './datastore.js';

/** One row of the SQLite change log; `value` is null for a delete. */
export interface LogRow {
  rev: number;
  key: string;
  value: string | null;
  create_rev: number;
}

interface PollWatcher {
  prefix: string;
  handlers: WatchHandlers;
  /** Highest revision this watcher has been given (or asked to start after). */
  last: number;
  disposed: boolean;
}

const BATCH_ROWS = 5000;

/**
 * Tails the `log` table of one SQLite datastore for all of its watchers. One timer per store
 * (unref'd, running only while there are watchers) checks `PRAGMA data_version`, which changes
 * when another connection commits; this process's own writes call `wake()`. New rows are read in
 * revision order and handed to every watcher whose prefix matches, each on a microtask, in order.
 *
 * A poll that finds the database locked (SQLITE_BUSY) is retried on the next tick and reported to
 * the watchers as `onStatus(disconnected)`, then `connected` after the next successful poll; any
 * other failure is terminal (UnavailableError). It does not write and does not compact; a watcher
 * whose history is gone gets CompactedError.
 */
export class SqliteLogPoller {
  private readonly db: Database.Database;
  private readonly intervalMs: number;
  private readonly watchers = new Set<PollWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private wakeScheduled = false;
  /** Highest log revision read so far (valid while the timer runs). */
  private seen = 0;
  private dataVersion = -1;
  /** The last poll failed with SQLITE_BUSY (watchers were told they are disconnected). */
  private busy = false;
  private readonly readRows: Database.Statement;
  private readonly readMeta: Database.Statement;

  constructor(db: Database.Database, intervalMs: number) {
    this.db = db;
    this.intervalMs = intervalMs;
    this.readRows = db.prepare('SELECT rev, key, value, create_rev FROM log WHERE rev > ? AND rev <= ? ORDER BY rev LIMIT ?');
    this.readMeta = db.prepare('SELECT value FROM meta WHERE name = ?');
  }

  add(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    const w: PollWatcher = { prefix, handlers, last: fromRevision, disposed: false };
    queueMicrotask(() => {
      if (w.disposed) return;
      try {
        this.attach(w);
      } catch (err) {
        w.disposed = true;
        handlers.onError(err instanceof Error ? err : new Error(String(err)));
      }
    });
    return {
      dispose: () => {
        w.disposed = true;
        this.watchers.delete(w);
        if (this.watchers.size === 0) this.stop();
      },
    };
  }

  /** A write by this process committed: poll on the next turn instead of waiting for the timer. */
  wake(): void {
    if (this.timer === null || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.poll(true);
    });
  }

  close(): void {
    for (const w of this.watchers) w.disposed = true;
    this.watchers.clear();
    this.stop();
  }

  /** Delivers the backlog after the watcher's start revision up to `seen`, then joins the live set. */
  private attach(w: PollWatcher): void {
    if (this.timer === null) this.start();
    const backlog = this.db.transaction(() => {
      const compacted = this.meta('compacted');
      if (w.last < compacted) {
        throw new CompactedError(`watch from revision ${w.last}: history compacted to ${compacted}`, compacted);
      }
      const rows: LogRow[] = [];
      for (let after = w.last; after < this.seen; ) {
        const batch = this.readRange(after, this.seen);
        if (batch.length === 0) break;
        rows.push(...batch);
        after = batch[batch.length - 1]!.rev;
      }
      return rows;
    })();
    const events = backlog.filter((r) => r.key.startsWith(w.prefix)).map(toEvent);
    w.last = Math.max(w.last, this.seen);
    this.watchers.add(w);
    if (events.length > 0) this.deliver(w, events);
  }

  private start(): void {
    this.seen = this.meta('revision');
    this.dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    this.timer = setInterval(() => this.poll(false), this.intervalMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private poll(force: boolean): void {
    if (this.timer === null || !this.db.open) return;
    try {
      const dv = this.db.pragma('data_version', { simple: true }) as number;
      if (!force && dv === this.dataVersion) {
        this.setBusy(undefined);
        return;
      }
      for (let round = 0; round < 100 && this.timer !== null; round++) {
        const { rows, compacted } = this.db.transaction(() => ({
          compacted: this.meta('compacted'),
          rows: this.readRange(this.seen, Number.MAX_SAFE_INTEGER),
        }))();
        // Only once the rows are read: a poll that failed (locked) must read them next time.
        this.dataVersion = dv;
        this.setBusy(undefined);
        if (compacted > this.seen) this.failBehind(compacted);
        if (rows.length === 0) return;
        this.dispatch(rows);
        if (rows.length < BATCH_ROWS) return;
      }
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY')) {
        this.setBusy(err as Error);
        return;
      }
      const failure = new UnavailableError(`watching the SQLite datastore failed: ${(err as Error).message}`, { cause: err });
      for (const w of [...this.watchers]) this.fail(w, failure);
    }
  }

  /** Reports a change between locked (`cause`) and readable (undefined) to every watcher. */
  private setBusy(cause: Error | undefined): void {
    if (this.busy === (cause !== undefined)) return;
    this.busy = cause !== undefined;
    const status: WatchStatus = cause
      ? { state: 'disconnected', cause: new UnavailableError(`watching the SQLite datastore: the database is locked (${cause.message}); retrying`, { cause }) }
      : { state: 'connected' };
    for (const w of this.watchers) {
      queueMicrotask(() => {
        if (!w.disposed) w.handlers.onStatus?.(status);
      });
    }
  }

  private dispatch(rows: LogRow[]): void {
    for (const w of this.watchers) {
      const events: WatchEvent[] = [];
      for (const r of rows) {
        if (r.rev > w.last && r.key.startsWith(w.prefix)) events.push(toEvent(r));
      }
      w.last = Math.max(w.last, rows[rows.length - 1]!.rev);
      if (events.length > 0) this.deliver(w, events);
    }
    this.seen = rows[rows.length - 1]!.rev;
  }

  /** History this poller had not read yet was compacted away (it fell far behind). */
  private failBehind(compacted: number): void {
    for (const w of [...this.watchers]) {
      if (w.last < compacted) {
        this.fail(w, new CompactedError(`watch fell behind: history compacted to ${compacted} before revision ${w.last + 1} was read`, compacted));
      }
    }
    this.seen = Math.max(this.seen, compacted);
  }

  private fail(w: PollWatcher, err: Error): void {
    this.watchers.delete(w);
    if (this.watchers.size === 0) this.stop();
    queueMicrotask(() => {
      if (w.disposed) return;
      w.disposed = true;
      w.handlers.onError(err);
    });
  }

  private deliver(w: PollWatcher, events: WatchEvent[]): void {
    queueMicrotask(() => {
      if (!w.disposed) w.handlers.onEvents(events);
    });
  }

  private readRange(after: number, upTo: number): LogRow[] {
    return this.readRows.all(after, upTo, BATCH_ROWS) as LogRow[];
  }

  private meta(name: string): number {
    return (this.readMeta.get(name) as { value: number }).value;
  }
}

function toEvent(r: LogRow): WatchEvent {
  if (r.value === null) return { type: 'delete', key: r.key, modRevision: r.rev };
  return { type: 'put', kv: { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.rev } };
}
