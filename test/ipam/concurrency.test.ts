import { describe, it } from 'node:test';
import type { Datastore } from '../../src/datastore/datastore.js';
import { openDatastore } from '../../src/datastore/open.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { addNode, addPool, freshStore } from './fixtures.js';
import { verifyRun } from './verify.js';
import { WorkerPool } from './worker-pool.js';

/**
 * 4 worker processes × 500 assignments against real SQLite and a real 3-member etcd cluster:
 * once with four nodes, once with all four processes for the same node (the hardest contention:
 * every process races for the same block). No address may be handed out twice, and `check` must
 * find nothing wrong.
 */
const PER_WORKER = 500;
const WORKER_TIMEOUT_MS = 300_000;

async function runScenario(ds: Datastore, url: string, tag: string, nodes: string[]): Promise<void> {
  await addPool(ds, `pool-${tag}`, '10.96.0.0/16', { blockSize: 26 });
  for (const n of new Set(nodes)) await addNode(ds, n);
  // one node taking all 2000 addresses needs 32 blocks (the default limit is 20); a block limit
  // requires strict affinity (there is nothing to borrow here anyway)
  await new IpamClient(ds).configure({ strictAffinity: true, maxBlocksPerHost: 40 });
  const pool = new WorkerPool();
  try {
    const results = await Promise.all(nodes.map((n, i) => pool.run(url, n, PER_WORKER, `${tag}-w${i}`, WORKER_TIMEOUT_MS)));
    await verifyRun(ds, results, PER_WORKER * nodes.length);
  } finally {
    pool.dispose();
  }
}

describe('IPAM under concurrent processes: SQLite', () => {
  for (const [tag, nodes] of [
    ['four-nodes', ['n1', 'n2', 'n3', 'n4']],
    ['one-node', ['solo', 'solo', 'solo', 'solo']],
  ] as const) {
    it(`4 processes × ${PER_WORKER} assignments, ${tag}: no duplicates, check clean`, async () => {
      const { ds, url, dispose } = await freshStore('sqlite');
      try {
        await runScenario(ds, url, tag, [...nodes]);
      } finally {
        await dispose();
      }
    });
  }
});

describe('IPAM under concurrent processes: 3-member etcd', () => {
  for (const [tag, nodes] of [
    ['four-nodes', ['e1', 'e2', 'e3', 'e4']],
    ['one-node', ['esolo', 'esolo', 'esolo', 'esolo']],
  ] as const) {
    it(`4 processes × ${PER_WORKER} assignments, ${tag}: no duplicates, check clean`, async () => {
      // a fresh cluster per scenario (starting one is cheaper than deleting thousands of keys)
      const cluster: EtcdCluster = await startEtcdCluster({ size: 3 });
      try {
        const ds = await openDatastore(cluster.url);
        try {
          await runScenario(ds, cluster.url, tag, [...nodes]);
        } finally {
          await ds.close();
        }
      } finally {
        await cluster.stop();
      }
    });
  }
});
