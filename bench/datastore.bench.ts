import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Datastore } from '../src/datastore/datastore.js';
import { openDatastore } from '../src/datastore/open.js';
import { SqliteDatastore } from '../src/datastore/sqlite.js';
import { startEtcdCluster } from '../test/helpers/etcd-cluster.js';
import { percentiles, type BenchRow } from './table.js';

/**
 * Datastore latencies, SQLite vs etcd, measured side by side in one run. SQLite is a file on the
 * normal disk (WAL, synchronous=NORMAL); etcd is a 3-member cluster on 127.0.0.1 with its data on
 * the same disk. Per backend: sequential create, CAS update and get latency; watch delivery latency
 * from a write started in another process to the event in this one. Ratios are SQLite / etcd. One
 * extra row times SQLite with synchronous=FULL (fsync per commit, like etcd) for a durable baseline.
 */

const OPS = 300;
const WATCH_WRITES = 200;
const here = dirname(fileURLToPath(import.meta.url));
const WRITE_WORKER = join(here, '..', 'test', 'datastore', 'write-worker.js');

interface Figures {
  create: number[];
  cas: number[];
  get: number[];
  watch: number[];
}

export async function run(): Promise<BenchRow[]> {
  const root = mkdtempSync(join(tmpdir(), 'brindle-ds-bench-'));
  const cluster = await startEtcdCluster({ dataRoot: root });
  try {
    const sqlite = await measure(`sqlite:${join(root, 'bench.db')}`);
    const durable = await measureWrites(await SqliteDatastore.open(`sqlite:${join(root, 'durable.db')}`, {}, { synchronous: 'FULL' }));
    const etcd = await measure(cluster.url);
    const rows: BenchRow[] = [];
    for (const metric of ['create', 'cas', 'get', 'watch'] as const) {
      const s = percentiles(sqlite[metric]);
      const e = percentiles(etcd[metric]);
      const label = { create: 'sequential create', cas: 'CAS update', get: 'get', watch: 'watch delivery (other process)' }[metric];
      rows.push({ bench: 'datastore', metric: `sqlite ${label} median`, value: s.median, unit: 'ms', note: `n=${sqlite[metric].length}` });
      rows.push({ bench: 'datastore', metric: `sqlite ${label} p99`, value: s.p99, unit: 'ms' });
      rows.push({ bench: 'datastore', metric: `etcd ${label} median`, value: e.median, unit: 'ms', note: `n=${etcd[metric].length}` });
      rows.push({ bench: 'datastore', metric: `etcd ${label} p99`, value: e.p99, unit: 'ms' });
      rows.push({ bench: 'datastore', metric: `${label} median ratio`, value: s.median / e.median, unit: 'x', note: 'sqlite/etcd' });
      rows.push({ bench: 'datastore', metric: `${label} p99 ratio`, value: s.p99 / e.p99, unit: 'x', note: 'sqlite/etcd' });
    }
    const d = percentiles(durable);
    const e = percentiles(etcd.create);
    rows.push({ bench: 'datastore', metric: 'sqlite synchronous=FULL create median', value: d.median, unit: 'ms', note: `n=${durable.length}` });
    rows.push({ bench: 'datastore', metric: 'sqlite synchronous=FULL create p99', value: d.p99, unit: 'ms' });
    rows.push({ bench: 'datastore', metric: 'FULL-sync create median ratio', value: d.median / e.median, unit: 'x', note: 'sqlite(FULL)/etcd' });
    return rows;
  } finally {
    await cluster.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

async function measure(url: string): Promise<Figures> {
  const ds = await openDatastore(url);
  const prefix = `/bench/${Date.now()}/`;
  try {
    const create: number[] = [];
    const cas: number[] = [];
    const get: number[] = [];
    const key = `${prefix}counter`;
    let cur = await ds.create(key, '0');
    for (let i = 0; i < 20; i++) await ds.get(key);
    for (let i = 0; i < OPS; i++) {
      create.push(await timed(() => ds.create(`${prefix}k${i}`, `value-${i}`)));
      cas.push(await timed(async () => {
        cur = await ds.update(key, String(i + 1), cur.modRevision);
      }));
      get.push(await timed(() => ds.get(`${prefix}k${i}`)));
    }
    const watch = await watchLatency(ds, url, `${prefix}w/`);
    return { create, cas, get, watch };
  } finally {
    await ds.close();
  }
}

/** Sequential creates only (for the fsync-per-commit SQLite variant). */
async function measureWrites(ds: Datastore): Promise<number[]> {
  try {
    const out: number[] = [];
    for (let i = 0; i < OPS; i++) out.push(await timed(() => ds.create(`/bench/full/${i}`, `value-${i}`)));
    return out;
  } finally {
    await ds.close();
  }
}

/** Another process creates WATCH_WRITES keys (value carries its start time); we time each event. */
async function watchLatency(ds: Datastore, url: string, prefix: string): Promise<number[]> {
  const samples: number[] = [];
  const start = await ds.list(prefix);
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const watch = ds.watch(prefix, start.revision, {
    onEvents: (events) => {
      const now = performance.timeOrigin + performance.now();
      for (const e of events) if (e.type === 'put') samples.push(now - (JSON.parse(e.kv.value) as { t: number }).t);
      if (samples.length >= WATCH_WRITES) done();
    },
    onError: (err) => {
      throw err;
    },
  });
  const child = spawn(process.execPath, [WRITE_WORKER, url, prefix, String(WATCH_WRITES), '3'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 60_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (code !== 0) throw new Error(`write worker for ${url} exited with ${code}`);
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`watch on ${url} missed events`)), 10_000).unref())]);
  } finally {
    clearTimeout(timer);
    watch.dispose();
  }
  return samples;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
