import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../src/base/clock.js';
import { BufferedSink } from '../../src/flows/buffered-sink.js';
import { BulkHttpSink } from '../../src/flows/bulk-http-sink.js';
import { parsePeerFilter, parseSince } from '../../src/flows/flow-filter.js';
import { flowToJson, type FlowRecord } from '../../src/flows/flow-record.js';
import type { FlowSink } from '../../src/flows/flow-sink.js';
import { SqliteFlowStore } from '../../src/flows/flow-store.js';
import { JsonLinesSink } from '../../src/flows/jsonl-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'brindle-flows-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function rec(i: number, over: Partial<FlowRecord> = {}): FlowRecord {
  return {
    node: 'node-a', src: { ip: '10.99.0.1', kind: 'workload', namespace: 'prod', name: 'client', labels: { app: 'client' } }, dst: { ip: '10.99.0.2', kind: 'workload', namespace: 'prod', name: 'db', labels: { app: 'db' } },
    protocol: 'TCP', srcPort: 40000 + i, dstPort: 5432, direction: 'ingress', verdict: i % 2 ? 'denied' : 'allowed', policy: { kind: 'policy', tier: 'default', namespace: 'prod', name: 'allow-web', ruleIndex: 0 },
    packets: 1, bytes: 60, start: 1_000 + i, end: 1_000 + i, ...over,
  };
}

/** A sink that fails (down) until told otherwise. */
class FlakySink implements FlowSink {
  readonly name = 'flaky';
  down = true;
  got: FlowRecord[] = [];
  calls = 0;
  async write(rs: readonly FlowRecord[]): Promise<void> {
    this.calls++;
    if (this.down) throw new Error('connection refused');
    this.got.push(...rs);
  }
  async close(): Promise<void> {}
}

describe('BufferedSink', () => {
  test('a down sink never blocks the caller: records beyond the buffer are dropped and counted, the rest arrive once it is back', async () => {
    const clock = new ManualClock(0);
    const sink = new FlakySink();
    const b = new BufferedSink(sink, clock, { capacity: 100, batchSize: 30, backoffMs: 100 });
    const t0 = performance.now();
    for (let i = 0; i < 1_000; i++) b.offer([rec(i)]);
    assert.ok(performance.now() - t0 < 200, 'offer must not wait for the sink');
    await b.settled();
    assert.deepEqual([b.stats().buffered, b.stats().dropped, b.stats().sent], [100, 900, 0]);
    assert.ok(b.stats().failures >= 1 && /refused/.test(b.stats().lastError ?? ''));
    sink.down = false;
    clock.advance(10_000);
    for (let i = 0; i < 20 && b.stats().buffered > 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual([b.stats().buffered, b.stats().sent, sink.got.length], [0, 100, 100]);
    assert.deepEqual(sink.got.slice(0, 3).map((r) => r.srcPort), [40000, 40001, 40002], 'oldest first, in order');
    await b.close();
  });
});

describe('SqliteFlowStore', () => {
  test('stores, filters (verdict, peers, policy, since), keeps the last N, follows by id and prunes by retention', async () => {
    const s = new SqliteFlowStore(join(dir, 'f.db'), 500);
    s.writeSync(Array.from({ length: 10 }, (_, i) => rec(i)));
    assert.equal(s.count(), 10);
    assert.equal(s.query({ verdict: 'denied' }).length, 5);
    assert.equal(s.query({ from: parsePeerFilter('prod/client'), to: parsePeerFilter('app == "db"') }).length, 10);
    assert.equal(s.query({ from: parsePeerFilter('prod/db') }).length, 0);
    assert.equal(s.query({ to: parsePeerFilter('10.99.0.0/24') }).length, 10);
    assert.equal(s.query({ policy: 'prod/allow-web' }).length, 10);
    assert.equal(s.query({ policy: 'other' }).length, 0);
    assert.deepEqual(s.query({}, { limit: 3 }).map((f) => f.record.srcPort), [40007, 40008, 40009]);
    assert.deepEqual(s.query({ since: 1_008 }).map((f) => f.record.srcPort), [40008, 40009]);
    const last = s.lastId();
    s.writeSync([rec(20)]);
    assert.deepEqual(s.query({}, { afterId: last }).map((f) => f.record.srcPort), [40020]);
    assert.equal(s.prune(1_505), 5);
    assert.equal(s.count(), 6);
    await s.close();
    assert.ok(parseSince('5m', 600_000) === 300_000);
  });
});

describe('SqliteFlowStore identities and deciders', () => {
  test('labelled peers and policies stored once, referenced from records; records (and flows -o json) read back identical; rows with inline labels still read', async () => {
    const path = join(dir, 'labels.db');
    const s = new SqliteFlowStore(path);
    const shared = { app: 'web', tier: 'frontend', 'projectcalico.org/namespace': 'prod' };
    const records = Array.from({ length: 50 }, (_, i) => rec(i, {
      src: { ip: '10.99.0.1', kind: 'workload', namespace: 'prod', name: 'client', labels: shared },
      dst: i % 2 ? { ip: '10.99.0.2', kind: 'workload', namespace: 'prod', name: 'db', labels: { app: 'db', pci: 'true' } } : { ip: '198.51.100.1', kind: 'external' },
    }));
    s.writeSync(records.slice(0, 25));
    s.writeSync(records.slice(25));
    const db = new Database(path, { readonly: true });
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM flow_parts').get() as { n: number }).n, 3, 'two labelled peers and one policy');
    const raw = (db.prepare('SELECT record FROM flow_records ORDER BY id LIMIT 2').all() as { record: string }[]).map((r) => r.record);
    assert.ok(raw.every((t) => !t.includes('"frontend"') && !t.includes('allow-web')), `no labels or policy inline: ${raw[0]}`);
    assert.ok(raw[0]!.includes('"198.51.100.1"'), 'external peers inline');
    // A row as written before label sets existed (labels inline).
    const legacy = rec(99, { src: { ip: '10.99.0.9', kind: 'workload', namespace: 'old', name: 'legacy', labels: { app: 'legacy' } } });
    db.close();
    const w = new Database(path);
    w.prepare('INSERT INTO flow_records (node, end_ms, verdict, record) VALUES (?, ?, ?, ?)').run(legacy.node, legacy.end, legacy.verdict, JSON.stringify(legacy));
    w.close();
    await s.close();
    // Another process (a fresh store on the same file) reads them back.
    const r = new SqliteFlowStore(path);
    const got = r.query({}).map((f) => f.record);
    assert.deepEqual(got, [...records, legacy]);
    assert.deepEqual(got.map((x) => JSON.stringify(flowToJson(x))), [...records, legacy].map((x) => JSON.stringify(flowToJson(x))));
    assert.equal(r.query({ from: parsePeerFilter('tier == "frontend"'), to: parsePeerFilter('pci == "true"') }).length, 25, 'selector filters see the labels');
    got[0]!.src.labels!['app'] = 'changed';
    assert.equal(r.query({}, { limit: 51 })[0]!.record.src.labels!['app'], 'web', 'each read gets its own labels object');
    await r.close();
  });
});

describe('SqliteFlowStore retention of identities and deciders', () => {
  const H = 3600_000;
  test('parts no record within retention can use are pruned; parts still used (or touched by a later record) stay; a file from before seen_ms keeps its parts a full retention', async () => {
    const path = join(dir, 'parts.db');
    const day = 24 * H;
    const s = new SqliteFlowStore(path, day);
    const gone = { ip: '10.99.0.7', kind: 'workload' as const, namespace: 'prod', name: 'gone', labels: { app: 'gone' } };
    // Day 0: the old workload talks to db; the client talks to db all along.
    s.writeSync([rec(0, { src: gone, start: 0, end: 0 }), rec(1, { start: 0, end: 0 })]);
    assert.equal(s.partCount(), 4, 'gone, client, db, policy');
    s.writeSync([rec(2, { start: 2 * H, end: 2 * H })]);
    // Two days later: every day-0 record is past retention; client/db/policy were seen at day 2 (hour 50, touched hourly).
    s.writeSync([rec(3, { start: 50 * H, end: 50 * H })]);
    s.prune(50 * H + 1);
    assert.equal(s.count(), 1);
    assert.equal(s.partCount(), 3, 'the identity of the workload gone is deleted');
    assert.deepEqual(s.query({}).map((f) => f.record.src.name), ['client'], 'the remaining record reads back whole');
    // A writer that still remembers a part another prune deleted writes it again.
    const other = new SqliteFlowStore(path, day);
    other.prune(200 * H);
    assert.equal(other.partCount(), 0);
    s.writeSync([rec(4, { start: 200 * H, end: 200 * H + 1 })]);
    assert.equal(new SqliteFlowStore(path, day).query({ since: 200 * H }).length, 1, 'a record written after the prune has its parts');
    await s.close();
    await other.close();

    // A file written before parts carried seen_ms: the column is added, all parts seen now.
    const old = join(dir, 'old-parts.db');
    const w = new Database(old);
    w.exec('CREATE TABLE flow_parts (hash TEXT PRIMARY KEY, part TEXT NOT NULL) WITHOUT ROWID');
    w.prepare('INSERT INTO flow_parts (hash, part) VALUES (?, ?)').run('abc', '{"x":1}');
    w.close();
    const m = new SqliteFlowStore(old, day);
    m.prune(Date.now() - H);
    assert.equal(m.partCount(), 1, 'kept after the upgrade');
    m.prune(Date.now() + 2 * day);
    assert.equal(m.partCount(), 0, 'pruned once retention has passed since the upgrade');
    await m.close();
  });
});

describe('JSON-lines and _bulk sinks', () => {
  test('JSON lines: one flows -o json object per line', async () => {
    const f = join(dir, 'out', 'flows.jsonl');
    const s = new JsonLinesSink(f);
    await s.write([rec(0), rec(1)]);
    const lines = readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.src.name, l.dst.name, l.verdict, l.dstPort]), [['client', 'db', 'allowed', 5432], ['client', 'db', 'denied', 5432]]);
  });

  test('_bulk: NDJSON index actions to a daily index; an errors:true answer rejects (so the buffer retries)', async () => {
    const bodies: string[] = [];
    let answer = { errors: false, items: [] as unknown[] };
    const server: Server = createServer((req, res) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${req.headers['content-type']}\n${b}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const s = new BulkHttpSink(`http://127.0.0.1:${port}`, 'brindle-flows');
      await s.write([rec(0, { end: Date.UTC(2026, 11, 7) })]);
      const [head, action, doc] = bodies[0]!.split('\n');
      assert.equal(head, 'POST /_bulk application/x-ndjson');
      assert.deepEqual(JSON.parse(action!), { index: { _index: 'brindle-flows-2026.12.07' } });
      assert.equal(JSON.parse(doc!)['@timestamp'], '2026-12-07T00:00:00.000Z');
      answer = { errors: true, items: [{ index: { error: { reason: 'mapper_parsing_exception' } } }] };
      await assert.rejects(s.write([rec(1)]), /mapper_parsing_exception/);
    } finally {
      server.close();
    }
    await assert.rejects(new BulkHttpSink(`http://127.0.0.1:${port}`, 'x', 500).write([rec(0)]));
  });
});
