import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatastore } from '../../src/datastore/open.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { addNode, addPool } from './fixtures.js';
import { allocationsByIp, verifyRun } from './verify.js';
import { WorkerPool } from './worker-pool.js';

/**
 * The concurrency run against a 3-member etcd whose leader is SIGKILLed halfway through. Workers
 * retry failed attempts with fresh handles and record which handles were acknowledged. Afterwards
 * no address may be held twice; garbage-collecting the handles nobody acknowledged (at most one per
 * failed attempt: the in-flight ones) must leave `check` clean with every acknowledged address
 * still held by its handle.
 */
const PER_WORKER = 500;
const NODES = ['f1', 'f2', 'f3', 'f4'];

describe('IPAM with the etcd leader killed midway', () => {
  let cluster: EtcdCluster;
  before(async () => {
    cluster = await startEtcdCluster({ size: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it(`4 processes × ${PER_WORKER}: no duplicates; clean after GC of in-flight handles only`, async () => {
    const ds = await openDatastore(cluster.url);
    const pool = new WorkerPool();
    try {
      await addPool(ds, 'pool-fault', '10.97.0.0/16', { blockSize: 26 });
      for (const n of NODES) await addNode(ds, n);
      const runs = Promise.all(NODES.map((n, i) => pool.run(cluster.url, n, PER_WORKER, `fault-w${i}`, 300_000)));
      // Kill the leader once half the work is acknowledged (bounded wait).
      const deadline = Date.now() + 240_000;
      while (pool.progress < (PER_WORKER * NODES.length) / 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok(pool.progress >= (PER_WORKER * NODES.length) / 2, `workers made too little progress before the kill: ${pool.progress}`);
      const leader = await cluster.leader();
      await cluster.kill(leader);
      const killedAt = pool.progress;
      const results = await runs;
      for (const r of results) assert.equal(r.exitCode, 0, `worker for ${r.node} failed: ${r.errors.join(' | ')}`);
      assert.ok(killedAt < PER_WORKER * NODES.length, 'the leader died before the run ended');

      // No address is held twice (allocationsByIp asserts it) and none was acknowledged twice.
      const held = await allocationsByIp(ds);
      const acked = results.flatMap((r) => r.acknowledged);
      assert.equal(new Set(acked.map((a) => a.ip)).size, acked.length, 'an address was acknowledged twice');

      // GC: release handles that no worker acknowledged.
      const ipam = new IpamClient(ds);
      const ackedHandles = new Set(acked.map((a) => a.handle));
      const failed = new Set(results.flatMap((r) => r.failedAttempts));
      const stray = new Set([...(await ipam.store.listHandles()).map((h) => h.value.handleID), ...[...held.values()].filter((h): h is string => h !== null)].filter((h) => !ackedHandles.has(h)));
      for (const h of stray) assert.ok(failed.has(h), `handle ${h} holds state but was neither acknowledged nor a failed attempt`);
      for (const h of stray) await ipam.releaseByHandle(h);
      process.stdout.write(`# leader killed at ${killedAt} acknowledged; ${failed.size} failed attempts; ${stray.size} in-flight handles collected\n`);

      await verifyRun(ds, results, PER_WORKER * NODES.length);
    } finally {
      pool.dispose();
      await ds.close();
    }
  });
});
