import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EtcdDatastore } from '../../src/datastore/etcd.js';
import { EtcdHttpDatastore } from '../../src/datastore/etcd-http.js';
import { UnavailableError } from '../../src/errors.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { datastoreContract } from './contract.js';

/** The etcd HTTP-gateway backend (used by the CNI plugin) against a real 3-member cluster: the shared contract minus watches, and interop with the gRPC backend. */

let cluster: EtcdCluster | null = null;
before(async () => {
  cluster = await startEtcdCluster();
});
after(async () => {
  await cluster?.stop();
});

datastoreContract('etcd over HTTP', { open: () => EtcdHttpDatastore.open(cluster!.url), shared: true, watches: false });

describe('etcd HTTP specifics', () => {
  test('what one client writes the other reads, with the same revisions', async () => {
    const h = await EtcdHttpDatastore.open(cluster!.url);
    const g = await EtcdDatastore.open(cluster!.url);
    try {
      const a = await h.create('/interop/a', 'from http');
      assert.deepEqual(await g.get('/interop/a'), a);
      const b = await g.update('/interop/a', 'from grpc', a.modRevision);
      assert.deepEqual(await h.get('/interop/a'), b);
      assert.equal((await h.list('/interop/')).revision >= b.modRevision, true);
    } finally {
      await h.close();
      await g.close();
    }
  });

  test('a member down: requests move to the others; all down: UnavailableError naming the endpoints', async () => {
    const leader = await cluster!.leader();
    const victim = cluster!.members.find((m) => m.name !== leader.name)!;
    const first = `etcd://${[victim, ...cluster!.members.filter((m) => m !== victim)].map((m) => m.clientUrl.replace('http://', '')).join(',')}`;
    await cluster!.kill(victim);
    const ds = await EtcdHttpDatastore.open(first);
    try {
      for (let i = 0; i < 5; i++) await ds.create(`/http-onedown/${i}`, String(i));
      assert.equal((await ds.list('/http-onedown/')).items.length, 5);
    } finally {
      await ds.close();
      await cluster!.restart(victim);
    }
    const dead = await EtcdHttpDatastore.open('etcd://127.0.0.1:1', {}, { retryWindowMs: 300 });
    await assert.rejects(dead.get('/x'), (e: Error) => e instanceof UnavailableError && /cannot reach etcd at 127\.0\.0\.1:1: connection refused/.test(e.message));
    await assert.rejects(dead.create('/x', 'v'), UnavailableError);
  });
});
