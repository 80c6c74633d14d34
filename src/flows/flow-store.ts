import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchesFilter, type FlowFilter } from './flow-filter.js';
import type { FlowRecord } from './flow-record.js';
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
`;

export interface StoredFlow {
  id: number;
  record: FlowRecord;
}

/**
 * Flow records in SQLite: a table `flow_records` beside the datastore's own tables (the embedded
 * database by default) or in a file of its own. Each row is one aggregated record as JSON, with the
 * columns queries narrow on (end time, verdict, node); the rest of a filter runs on the decoded
 * record. `prune` enforces retention. Several nodes may write one file (WAL, busy timeout).
 */
export class SqliteFlowStore implements FlowSink {
  readonly name: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(readonly path: string, readonly retentionMs = 7 * 86400_000) {
    this.name = `sqlite:${path}`;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare('INSERT INTO flow_records (node, end_ms, verdict, record) VALUES (?, ?, ?, ?)');
  }

  /** Writes a batch in one transaction. */
  writeSync(records: readonly FlowRecord[]): void {
    const tx = this.db.transaction((rs: readonly FlowRecord[]) => {
      for (const r of rs) this.insert.run(r.node, r.end, r.verdict, JSON.stringify(r));
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
      const record = JSON.parse(row.record) as FlowRecord;
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
