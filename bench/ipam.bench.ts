import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Datastore } from '../src/datastore/datastore.js';
import { openDatastore } from '../src/datastore/open.js';
import { startEtcdCluster } from '../test/helpers/etcd-cluster.js';
import { addNode, addPool } from '../test/ipam/fixtures.js';
import { WorkerPool, type WorkerResult } from '../test/ipam/worker-pool.js';
import type { BenchRow } from './table.js';

/**
 * IPAM assignment throughput: one node (one process) against four nodes in parallel (four
 * processes), on SQLite and on a 3-member etcd, measured side by side in one run. The rate of a
 * run is addresses acknowledged over the slowest worker's time; workers boot and connect first and
 * start together, so process start-up is not measured. The
 * ratio says how well block affinity lets nodes allocate without contending.
 */
const SQLITE_PER_WORKER = 500;
const ETCD_PER_WORKER = 150;
/** Each figure is the best of this many rounds, 1-node and 4-node runs alternating (the machine is shared and noisy). */
const ROUNDS = 2;

async function measure(ds: Datastore, url: string, tag: string, nodes: string[], perWorker: number, round: number): Promise<number> {
  await addPool(ds, `bench-${tag}-${round}`, `10.${100 + round * 8 + nodes.length}.0.0/16`);
  for (const n of nodes) await addNode(ds, `${n}-${round}`);
  nodes = nodes.map((n) => `${n}-${round}`);
  const pool = new WorkerPool();
  try {
    // All workers boot and connect first, then start together (boot time is not measured).
    const startAt = Date.now() + 4000;
    const results: WorkerResult[] = await Promise.all(nodes.map((n, i) => pool.run(url, n, perWorker, `${tag}-${i}`, 600_000, startAt)));
    const failed = results.find((r) => r.exitCode !== 0 || r.acknowledged.length !== perWorker);
    if (failed) throw new Error(`worker for ${failed.node} failed: ${failed.errors.join(' | ')}`);
    const slowest = Math.max(...results.map((r) => r.elapsedMs));
    return (perWorker * nodes.length) / (slowest / 1000);
  } finally {
    pool.dispose();
  }
}

async function rounds(ds: Datastore, url: string, tag: string, perWorker: number): Promise<[number, number]> {
  let one = 0;
  let four = 0;
  for (let r = 0; r < ROUNDS; r++) {
    one = Math.max(one, await measure(ds, url, `${tag}1`, ['solo'], perWorker, r));
    four = Math.max(four, await measure(ds, url, `${tag}4`, ['a', 'b', 'c', 'd'], perWorker, r));
  }
  return [one, four];
}

function rows(backend: string, one: number, four: number): BenchRow[] {
  return [
    { bench: 'ipam', metric: `${backend}: 1 node, 1 process`, value: one, unit: 'assign/s', note: `best of ${ROUNDS}` },
    { bench: 'ipam', metric: `${backend}: 4 nodes, 4 processes`, value: four, unit: 'assign/s', note: `aggregate, best of ${ROUNDS}` },
    { bench: 'ipam', metric: `${backend}: 4-node / 1-node`, value: four / one, unit: 'ratio', note: '4.0 = perfect scaling; this machine has 2 shared cores' },
  ];
}

export async function run(): Promise<BenchRow[]> {
  const out: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'brindle-ipam-bench-'));
  try {
    const url = `sqlite:${join(dir, 'bench.db')}`;
    const ds = await openDatastore(url);
    try {
      out.push(...rows('sqlite', ...(await rounds(ds, url, 'sq', SQLITE_PER_WORKER))));
    } finally {
      await ds.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cluster = await startEtcdCluster({ size: 3 });
  try {
    const ds = await openDatastore(cluster.url);
    try {
      out.push(...rows('etcd x3', ...(await rounds(ds, cluster.url, 'et', ETCD_PER_WORKER))));
    } finally {
      await ds.close();
    }
  } finally {
    await cluster.stop();
  }
  return out;
}
