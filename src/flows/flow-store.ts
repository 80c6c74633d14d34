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
CREATE TABLE IF NOT EXISTS flow_labels (
  hash TEXT PRIMARY KEY,
  labels TEXT NOT NULL
) WITHOUT ROWID;
`;

/** A peer as stored: its labels replaced by `lh`, the key of the label set in flow_labels. */
type StoredPeer = Omit<FlowPeer, 'labels'> & { labels?: Record<string, string>; lh?: string };

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
 * Label sets are stored once: a peer's `labels` become `lh`, a content hash keying the table
 * `flow_labels` (INSERT OR IGNORE, so writers never conflict), and are put back on read. Rows
 * written before that (labels inline) read as they always did: no migration. Label sets are few
 * (one per distinct workload labelling) and are kept when records are pruned.
 */
export class SqliteFlowStore implements FlowSink {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly insertLabels: Database.Statement;
  private readonly selectLabels: Database.Statement;
  /** Label objects already hashed (the flow context hands out one object per endpoint). */
  private readonly hashOf = new WeakMap<Record<string, string>, string>();
  /** Label sets known to be in flow_labels (written or read), by hash. */
  private readonly labelsByHash = new Map<string, Record<string, string>>();

  constructor(readonly path: string, readonly retentionMs = 7 * 86400_000) {
    this.name = `sqlite:${path}`;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare('INSERT INTO flow_records (node, end_ms, verdict, record) VALUES (?, ?, ?, ?)');
    this.insertLabels = this.db.prepare('INSERT OR IGNORE INTO flow_labels (hash, labels) VALUES (?, ?)');
    this.selectLabels = this.db.prepare('SELECT labels FROM flow_labels WHERE hash = ?');
  }

  private storedPeer(p: FlowPeer): StoredPeer {
    if (!p.labels || Object.keys(p.labels).length === 0) return p;
    let h = this.hashOf.get(p.labels);
    if (h === undefined) {
      const text = JSON.stringify(p.labels);
      // Of the text as written (key order included), so a record reads back exactly as it came.
      h = createHash('sha256').update(text).digest('base64url').slice(0, 16);
      this.hashOf.set(p.labels, h);
      if (!this.labelsByHash.has(h)) {
        this.insertLabels.run(h, text);
        this.labelsByHash.set(h, JSON.parse(text) as Record<string, string>);
      }
    }
    const { labels: _labels, ...rest } = p;
    return { ...rest, lh: h };
  }

  private peerOf(p: StoredPeer): FlowPeer {
    if (p.lh === undefined) return p as FlowPeer;
    let labels = this.labelsByHash.get(p.lh);
    if (!labels) {
      const row = this.selectLabels.get(p.lh) as { labels: string } | undefined;
      labels = row ? (JSON.parse(row.labels) as Record<string, string>) : {};
      if (row) this.labelsByHash.set(p.lh, labels);
    }
    const { lh: _lh, ...rest } = p;
    // A copy per record: callers may change what they get.
    return { ...rest, labels: { ...labels } };
  }

  /** The row text of a record. */
  private encode(r: FlowRecord): string {
    return JSON.stringify({ ...r, src: this.storedPeer(r.src), dst: this.storedPeer(r.dst) });
  }

  private decode(text: string): FlowRecord {
    const r = JSON.parse(text) as FlowRecord & { src: StoredPeer; dst: StoredPeer };
    return { ...r, src: this.peerOf(r.src), dst: this.peerOf(r.dst) };
  }

  /** Writes a batch in one transaction. */
  writeSync(records: readonly FlowRecord[]): void {
    const tx = this.db.transaction((rs: readonly FlowRecord[]) => {
      for (const r of rs) this.insert.run(r.node, r.end, r.verdict, this.encode(r));
    });
    tx(records);
  }

  async write(records: readonly FlowRecord[]): Promise<void> {
    this.writeSync(records);
  }

  /** Deletes records that ended before `now - retention`; returns how many. */
  prune(now: number): number {
    return this.db.prepare('DELETE FROM flow_records WHERE end_ms < ?').run(now - this.retentionMs).changes;
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
 * Where flows are stored unless told otherwise: the embedded datastore's own SQLite file, or beside
 * it a `flows.db` when the datastore is etcd.
 */
export function defaultFlowStorePath(datastoreUrl: string): string {
  if (datastoreUrl.startsWith('sqlite:')) return datastoreUrl.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
  return '/var/lib/brindle/flows.db';
}
