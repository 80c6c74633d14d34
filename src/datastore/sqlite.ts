import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AlreadyExistsError, BrindleError, ConflictError, NotFoundError, UnavailableError, UsageError } from '../errors.js';
import type { Datastore, KeyValue, ListResult, Watch, WatchHandlers } from './datastore.js';
import { checkValueSize } from './value-size.js';
import type { DatastoreOptions } from './open.js';
import { SqliteLogPoller } from './sqlite-log-poller.js';
import { SQLITE_SCHEMA } from './sqlite-schema.js';

/** Tuning for the SQLite backend; the defaults suit production. */
export interface SqliteTuning {
  /** Revisions of history kept for watchers (older ones are compacted in the write path). */
  retainRevisions?: number;
  /** How often the cross-process watch poller looks for new log rows (ms). */
  pollIntervalMs?: number;
  /** How long a writer waits for another process's write lock (ms). */
  busyTimeoutMs?: number;
  /**
   * NORMAL (default): a commit survives a process crash; the last commits may be lost on power
   * failure (WAL is synced at checkpoints). FULL: every commit is synced to disk before it returns.
   */
  synchronous?: 'NORMAL' | 'FULL';
}

const DEFAULT_RETAIN = 100_000;
const COMPACT_EVERY = 1000;

/**
 * The embedded datastore: one SQLite file (WAL mode) shared safely by every Brindle process on a
 * host (agent, CNI plugin, CLI). Each write is one `BEGIN IMMEDIATE` transaction that checks the
 * compare-and-swap condition, bumps the global revision in `meta`, writes `kv` and appends to
 * `log`. The log is the watch history: a poller (see SqliteLogPoller) tails it, so writes made by
 * other processes reach this process's watchers within a few milliseconds.
 *
 * It does not replicate: the file is the single copy. Use etcd for multi-host clusters.
 */
export class SqliteDatastore implements Datastore {
  readonly url: string;
  private readonly db: Database.Database;
  private readonly poller: SqliteLogPoller;
  private readonly retain: number;
  private closed = false;
  private readonly stmts: ReturnType<typeof prepare>;

  private constructor(url: string, db: Database.Database, tuning: SqliteTuning) {
    this.url = url;
    this.db = db;
    this.retain = Math.max(1, tuning.retainRevisions ?? DEFAULT_RETAIN);
    this.stmts = prepare(db);
    this.poller = new SqliteLogPoller(db, tuning.pollIntervalMs ?? 5);
  }

  static async open(url: string, options?: DatastoreOptions, tuning: SqliteTuning = {}): Promise<SqliteDatastore> {
    const path = sqlitePathOf(url);
    if (options?.create === false && !existsSync(path)) {
      throw new NotFoundError(`SQLite datastore ${path} does not exist (only commands that write create it); check --datastore or BRINDLE_DATASTORE`);
    }
    let db: Database.Database | undefined;
    try {
      makeParentDirs(path);
      db = new Database(path, { timeout: tuning.busyTimeoutMs ?? 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${tuning.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      db.exec(SQLITE_SCHEMA);
      db.prepare(`INSERT OR IGNORE INTO meta(name, value) VALUES ('revision', 0), ('compacted', 0)`).run();
    } catch (err) {
      // A file that opened but is not usable (not a database, locked, read-only) must not keep its handle.
      try {
        db?.close();
      } catch {
        // closing is best effort here; the open error is what the caller needs
      }
      throw new UnavailableError(`cannot open SQLite datastore ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new SqliteDatastore(url, db, tuning);
  }

  async get(key: string): Promise<KeyValue | null> {
    return this.guard('get', () => {
      const row = this.stmts.get.get(key) as KvRow | undefined;
      return row ? toKeyValue(row) : null;
    });
  }

  async list(prefix: string): Promise<ListResult> {
    return this.guard('list', () =>
      this.db.transaction(() => {
        const hi = prefixUpperBound(prefix);
        const rows = (hi === null ? this.stmts.listFrom.all(prefix) : this.stmts.listRange.all(prefix, hi)) as KvRow[];
        const items = rows.filter((r) => r.key.startsWith(prefix)).map(toKeyValue);
        return { items, revision: this.currentRevision() };
      })(),
    );
  }

  async create(key: string, value: string): Promise<KeyValue> {
    checkValueSize(key, value);
    return this.write('create', (rev) => {
      if (this.stmts.get.get(key)) throw new AlreadyExistsError(`key ${key} already exists`);
      this.stmts.putKv.run(key, value, rev, rev);
      this.stmts.appendLog.run(rev, key, value, rev);
      return { key, value, createRevision: rev, modRevision: rev };
    });
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    checkValueSize(key, value);
    return this.write('update', (rev) => {
      const cur = this.stmts.get.get(key) as KvRow | undefined;
      if (!cur) throw new NotFoundError(`key ${key} does not exist`);
      if (cur.mod_rev !== expectedRevision) throw new ConflictError(`key ${key} is at revision ${cur.mod_rev}, not ${expectedRevision}`);
      this.stmts.putKv.run(key, value, cur.create_rev, rev);
      this.stmts.appendLog.run(rev, key, value, cur.create_rev);
      return { key, value, createRevision: cur.create_rev, modRevision: rev };
    });
  }

  async delete(key: string, expectedRevision?: number): Promise<void> {
    await this.write('delete', (rev) => {
      const cur = this.stmts.get.get(key) as KvRow | undefined;
      if (!cur) throw new NotFoundError(`key ${key} does not exist`);
      if (expectedRevision !== undefined && cur.mod_rev !== expectedRevision) {
        throw new ConflictError(`key ${key} is at revision ${cur.mod_rev}, not ${expectedRevision}`);
      }
      this.stmts.deleteKv.run(key);
      this.stmts.appendLog.run(rev, key, null, cur.create_rev);
    });
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    if (this.closed) throw new UnavailableError(`datastore ${this.url} is closed`);
    return this.poller.add(prefix, fromRevision, handlers);
  }

  /** Drops history at or below `revision`; watches from before it get CompactedError. */
  async compact(revision: number): Promise<void> {
    this.guard('compact', () => this.db.transaction(() => this.compactTo(Math.min(revision, this.currentRevision()))).immediate());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.db.close();
  }

  private currentRevision(): number {
    return (this.stmts.meta.get('revision') as { value: number }).value;
  }

  private compactTo(revision: number): void {
    const compacted = (this.stmts.meta.get('compacted') as { value: number }).value;
    if (revision <= compacted) return;
    this.stmts.deleteLogTo.run(revision);
    this.stmts.setMeta.run(revision, 'compacted');
  }

  /** Runs `apply` in one BEGIN IMMEDIATE transaction with the next revision, then wakes the poller. */
  private async write<T>(op: string, apply: (rev: number) => T): Promise<T> {
    const result = this.guard(op, () =>
      this.db.transaction(() => {
        const rev = this.currentRevision() + 1;
        const out = apply(rev);
        this.stmts.setMeta.run(rev, 'revision');
        if (rev % COMPACT_EVERY === 0 && rev > this.retain) this.compactTo(rev - this.retain);
        return out;
      }).immediate(),
    );
    this.poller.wake();
    return result;
  }

  private guard<T>(op: string, fn: () => T): T {
    if (this.closed) throw new UnavailableError(`datastore ${this.url} is closed`);
    try {
      return fn();
    } catch (err) {
      if (err instanceof BrindleError) throw err;
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
        throw new UnavailableError(`${op} on ${this.url}: the database stayed locked by another process`, { cause: err });
      }
      throw new UnavailableError(`${op} on ${this.url} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

interface KvRow {
  key: string;
  value: string;
  create_rev: number;
  mod_rev: number;
}

function prepare(db: Database.Database) {
  return {
    get: db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key = ?'),
    listRange: db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
    listFrom: db.prepare('SELECT key, value, create_rev, mod_rev FROM kv WHERE key >= ? ORDER BY key'),
    putKv: db.prepare('INSERT OR REPLACE INTO kv(key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)'),
    deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
    appendLog: db.prepare('INSERT INTO log(rev, key, value, create_rev) VALUES (?, ?, ?, ?)'),
    deleteLogTo: db.prepare('DELETE FROM log WHERE rev <= ?'),
    meta: db.prepare('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
  };
}

function toKeyValue(r: KvRow): KeyValue {
  return { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.mod_rev };
}

/**
 * The smallest string greater than every string starting with `prefix` (last UTF-16 unit + 1), or
 * null when there is none we can form safely; callers also filter with startsWith.
 */
function prefixUpperBound(prefix: string): string | null {
  if (prefix === '') return null;
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last >= 0xd800) return null;
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/**
 * Creates the missing directories above `file`, one level at a time (Node's recursive mkdir can
 * spin forever under /proc, so this walks a bounded number of levels instead).
 */
function makeParentDirs(file: string): void {
  const missing: string[] = [];
  for (let dir = dirname(file); !existsSync(dir) && missing.length < 64; dir = dirname(dir)) {
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) mkdirSync(dir);
}

/** `sqlite:/abs/file.db`, `sqlite:rel/file.db` or `sqlite:///abs/file.db` → a filesystem path. */
export function sqlitePathOf(url: string): string {
  let path = url.slice('sqlite:'.length);
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '') throw new UsageError(`datastore URL "${url}" names no file: use sqlite:/path/file.db`);
  return resolve(path);
}

