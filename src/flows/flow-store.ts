import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchesFilter, type FlowFilter } from './flow-filter.js';
import type { FlowPeer, FlowRecord } from './flow-record.js';
import type { FlowSink } from './flow-sink.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS flow_records (
  id INTEGER PRIMARY KEY,
  node TEXT NOT NULL,
  end_ms INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS flow_records_end ON flow_records(end_ms);
CREATE TABLE IF NOT EXISTS flow_parts (
  hash TEXT PRIMARY KEY,
  part TEXT NOT NULL,
  seen_ms INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flow_overruns (
  node TEXT NOT NULL,
  minute_ms INTEGER NOT NULL,
  source TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (node, minute_ms, source)
) WITHOUT ROWID;
`;

/** Kernel overruns a node reported in one minute: events were dropped, so records are missing. */
export interface FlowOverruns {
  node: string;
  /** Epoch ms of the minute's start. */
  minute: number;
  source: string;
  count: number;
}

/** A part of a record stored once: `{"$": hash}` in the record, the JSON in flow_parts. */
type PartRef = { $: string };
/** Distinct parts remembered per store object, at most (then forgotten and re-checked). */
const MAX_KNOWN_PARTS = 100_000;
/**
 * A part's `seen_ms` is brought forward at most this often per writer: a part whose `seen_ms` is
 * older than retention plus this can have no record left, and `prune` deletes it.
 */
const TOUCH_MS = 3600_000;

export interface StoredFlow {
  id: number;
  record: FlowRecord;
}

/**
 * Flow records in SQLite: a table `flow_records` beside the datastore's own tables (the embedded
 * database by default) or in a file of its own. Each row is one aggregated record as JSON, with the
 * columns queries narrow on (end time, verdict, node); the rest of a filter runs on the decoded
 * record. `prune` enforces retention. Several nodes may write one file (WAL, busy timeout).
 *
 * Identities and deciders are stored once: a peer that carries labels (a workload, host endpoint
 * or network set: its address, names and labels) and the deciding policy become `{"$": hash}`, a
 * content hash keying the table `flow_parts` (INSERT OR IGNORE, so writers never conflict), and are
 * put back on read, byte for byte. Rows written before that (everything inline) read as they always
 * did: no migration. External peers stay inline (their addresses are unbounded). Each part notes
 * when a record last used it (`seen_ms`, brought forward at most hourly per writer), and `prune`
 * deletes parts no record within retention can use, so identities of workloads long gone go too.
 *
 * Beside the records, `flow_overruns` counts per node and minute the times the kernel dropped flow
 * events (netlink buffer overruns), so whoever reads the records learns that some are missing.
 */
export class SqliteFlowStore implements FlowSink {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly insertPart: Database.Statement;
  private readonly selectPart: Database.Statement;
  private readonly insertOverrun: Database.Statement;
  /** Hashes known to be in flow_parts, with their JSON. */
  private readonly parts = new Map<string, string>();
  /** Hashes this writer stored, with the `seen_ms` it last gave them. */
  private readonly touched = new Map<string, number>();

  constructor(readonly path: string, readonly retentionMs = 7 * 86400_000) {
    this.name = `sqlite:${path}`;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    migrateParts(this.db);
    this.insert = this.db.prepare('INSERT INTO flow_records (node, end_ms, verdict, record) VALUES (?, ?, ?, ?)');
    // Written again (not only updated) when touched: another writer's prune may have deleted it meanwhile.
    this.insertPart = this.db.prepare('INSERT INTO flow_parts (hash, part, seen_ms) VALUES (?, ?, ?) ON CONFLICT (hash) DO UPDATE SET seen_ms = max(seen_ms, excluded.seen_ms)');
    this.selectPart = this.db.prepare('SELECT part FROM flow_parts WHERE hash = ?');
    this.insertOverrun = this.db.prepare('INSERT INTO flow_overruns (node, minute_ms, source, count) VALUES (?, ?, ?, 1) ON CONFLICT (node, minute_ms, source) DO UPDATE SET count = count + 1');
  }

  /** Counts one kernel overrun of `source` on `node` at `at` (epoch ms), in its minute. */
  recordOverrun(node: string, source: string, at: number): void {
    this.insertOverrun.run(node, Math.floor(at / 60_000) * 60_000, source);
  }

  /** Overruns per node, minute and source in minutes that end at or after `since` (all when unset), oldest first. */
  overruns(o: { since?: number; node?: string } = {}): FlowOverruns[] {
    const rows = this.db.prepare('SELECT node, minute_ms AS minute, source, count FROM flow_overruns WHERE minute_ms >= ? AND (? IS NULL OR node = ?) ORDER BY minute_ms, node, source')
      .all(o.since === undefined ? 0 : Math.floor(o.since / 60_000) * 60_000, o.node ?? null, o.node ?? null) as FlowOverruns[];
    return rows;
  }

  /** The reference to `value` in flow_parts (written there unless already known; `at` = the record's end, its seen time). */
  private ref(value: object, at: number): PartRef {
    const text = JSON.stringify(value);
    const h = createHash('sha256').update(text).digest('base64url').slice(0, 16);
    const last = this.touched.get(h);
    if (last === undefined) {
      if (this.touched.size >= MAX_KNOWN_PARTS) this.touched.clear();
      if (this.parts.size >= MAX_KNOWN_PARTS) this.parts.clear();
      this.insertPart.run(h, text, at);
      this.parts.set(h, text);
      this.touched.set(h, at);
    } else if (at - last >= TOUCH_MS) {
      this.insertPart.run(h, text, at);
      this.touched.set(h, at);
    }
    return { $: h };
  }

  /** The value a reference stands for (a fresh object per call: callers may change it). */
  private deref<T>(v: T | PartRef): T {
    if (typeof v !== 'object' || v === null || !('$' in v) || Object.keys(v).length !== 1) return v as T;
    const h = (v as PartRef).$;
    let text = this.parts.get(h);
    if (text === undefined) {
      text = (this.selectPart.get(h) as { part: string } | undefined)?.part;
      if (text === undefined) throw new Error(`flow store ${this.path}: record refers to part ${h}, which is missing`);
      if (this.parts.size >= MAX_KNOWN_PARTS) this.parts.clear();
      this.parts.set(h, text);
    }
    return JSON.parse(text) as T;
  }

  private peerRef(p: FlowPeer, at: number): FlowPeer | PartRef {
    return p.labels && Object.keys(p.labels).length > 0 ? this.ref(p, at) : p;
  }

  /** The row text of a record. */
  private encode(r: FlowRecord): string {
    return JSON.stringify({ ...r, src: this.peerRef(r.src, r.end), dst: this.peerRef(r.dst, r.end), policy: this.ref(r.policy, r.end) });
  }

  private decode(text: string): FlowRecord {
    const r = JSON.parse(text) as FlowRecord;
    return { ...r, src: this.deref(r.src), dst: this.deref(r.dst), policy: this.deref(r.policy) };
  }

  /** Writes a batch in one transaction. */
  writeSync(records: readonly FlowRecord[]): void {
    const tx = this.db.transaction((rs: readonly FlowRecord[]) => {
      for (const r of rs) this.insert.run(r.node, r.end, r.verdict, this.encode(r));
    });
    try {
      tx(records);
    } catch (err) {
      // Parts of a rolled-back batch are not in the table: forget what this batch taught.
      this.parts.clear();
      this.touched.clear();
      throw err;
    }
  }

  async write(records: readonly FlowRecord[]): Promise<void> {
    this.writeSync(records);
  }

  /** Deletes records that ended before `now - retention`, and the parts none of the rest can use; returns how many records. */
  prune(now: number): number {
    const cut = now - this.retentionMs;
    this.db.prepare('DELETE FROM flow_overruns WHERE minute_ms < ?').run(cut);
    const n = this.db.prepare('DELETE FROM flow_records WHERE end_ms < ?').run(cut).changes;
    const gone = this.db.prepare('DELETE FROM flow_parts WHERE seen_ms < ?').run(cut - TOUCH_MS).changes;
    if (gone > 0) {
      this.parts.clear();
      this.touched.clear();
    }
    return n;
  }

  /** How many parts (identities, deciders) are stored. */
  partCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM flow_parts').get() as { n: number }).n;
  }

  /**
   * Records matching the filter, oldest first by id, after `afterId` (for --follow). `limit` keeps
   * the LAST matching records (what `hubble observe --last N` shows).
   */
  query(f: FlowFilter, o: { afterId?: number; limit?: number } = {}): StoredFlow[] {
    const where: string[] = ['id > ?'];
    const args: (string | number)[] = [o.afterId ?? 0];
    if (f.since !== undefined) {
      where.push('end_ms >= ?');
      args.push(f.since);
    }
    if (f.verdict) {
      where.push('verdict = ?');
      args.push(f.verdict);
    }
    if (f.node) {
      where.push('node = ?');
      args.push(f.node);
    }
    const out: StoredFlow[] = [];
    const stmt = this.db.prepare(`SELECT id, record FROM flow_records WHERE ${where.join(' AND ')} ORDER BY id`);
    for (const row of stmt.iterate(...args) as Iterable<{ id: number; record: string }>) {
      const record = this.decode(row.record);
      if (!matchesFilter(record, f)) continue;
      out.push({ id: row.id, record });
      if (o.limit !== undefined && out.length > o.limit * 2) out.splice(0, out.length - o.limit);
    }
    return o.limit !== undefined && out.length > o.limit ? out.slice(out.length - o.limit) : out;
  }

  lastId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM flow_records').get() as { m: number }).m;
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM flow_records').get() as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * Files from before `seen_ms`: the column is added and every part marked seen now, so they live a
 * full retention from the upgrade (records written before may use any of them).
 */
function migrateParts(db: Database.Database): void {
  const has = () => (db.prepare('PRAGMA table_info(flow_parts)').all() as { name: string }[]).some((c) => c.name === 'seen_ms');
  if (has()) return;
  db.transaction(() => {
    if (has()) return; // another process migrated it first
    db.exec('ALTER TABLE flow_parts ADD COLUMN seen_ms INTEGER NOT NULL DEFAULT 0');
    db.prepare('UPDATE flow_parts SET seen_ms = ?').run(Date.now());
  }).immediate();
}

/**
 * Where flows are stored unless told otherwise: the embedded datastore's own SQLite file, or beside
 * it a `flows.db` when the datastore is etcd.
 */
export function defaultFlowStorePath(datastoreUrl: string): string {
  if (datastoreUrl.startsWith('sqlite:')) return datastoreUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return '/var/lib/brindle/flows.db';
}
