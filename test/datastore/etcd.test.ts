import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EtcdDatastore, parseEtcdUrl } from '../../src/datastore/etcd.js';
import { openDatastore } from '../../src/datastore/open.js';
import { UnavailableError, UsageError } from '../../src/errors.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { datastoreContract } from './contract.js';

/** The etcd backend against a real 3-member cluster on 127.0.0.1: the shared contract plus specifics. */

let cluster: EtcdCluster | null = null;
before(async () => {
  cluster = await startEtcdCluster();
});
after(async () => {
  await cluster?.stop();
});

datastoreContract('etcd', { open: () => EtcdDatastore.open(cluster!.url), shared: true });

describe('etcd specifics', () => {
  test('a dead endpoint is UnavailableError naming it, within a few seconds', async () => {
    const port = await unusedPort();
    const ds = await openDatastore(`etcd://127.0.0.1:${port}`);
    const started = Date.now();
    try {
      await assert.rejects(ds.get('/x'), (err: Error) => {
        assert.ok(err instanceof UnavailableError, `got ${err.name}: ${err.message}`);
        assert.equal(err.message, `cannot reach etcd at 127.0.0.1:${port}: connection refused`);
        return true;
      });
      assert.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms`);
    } finally {
      await ds.close();
    }
    const quick = await EtcdDatastore.open(`etcd://127.0.0.1:${port}`, {}, { retryWindowMs: 500 });
    try {
      await assert.rejects(quick.create('/x', 'v'), /cannot reach etcd at 127\.0\.0\.1:\d+: connection refused/);
      await assert.rejects(quick.list('/'), UnavailableError);
    } finally {
      await quick.close();
    }
  });

  test('one follower down: every operation still works through the others', async () => {
    const leader = await cluster!.leader();
    const victim = cluster!.members.find((m) => m.name !== leader.name)!;
    await cluster!.kill(victim);
    const ds = await EtcdDatastore.open(cluster!.url);
    try {
      for (let i = 0; i < 20; i++) {
        const kv = await ds.create(`/onedown/${i}`, String(i));
        assert.equal((await ds.get(kv.key))!.value, String(i));
      }
      assert.equal((await ds.list('/onedown/')).items.length, 20);
    } finally {
      await ds.close();
      await cluster!.restart(victim);
    }
  });

  test('list pages through more keys than one response holds, at one revision', async () => {
    const ds = await EtcdDatastore.open(cluster!.url);
    try {
      const n = 2345;
      for (let i = 0; i < n; i += 100) {
        await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => ds.create(`/paged/${String(i + j).padStart(5, '0')}`, `v${i + j}`)));
      }
      const listed = await ds.list('/paged/');
      assert.equal(listed.items.length, n);
      assert.deepEqual(listed.items.map((kv) => kv.value), Array.from({ length: n }, (_, i) => `v${i}`));
      assert.equal(listed.revision, Math.max(...listed.items.map((kv) => kv.modRevision)));
    } finally {
      await ds.close();
    }
  });

  test('URL parsing', () => {
    assert.deepEqual(parseEtcdUrl('etcd://127.0.0.1:2379,10.0.0.2', false), {
      hosts: ['http://127.0.0.1:2379', 'http://10.0.0.2:2379'], endpoints: '127.0.0.1:2379,10.0.0.2:2379', secure: false,
    });
    assert.equal(parseEtcdUrl('etcds://h:1/', false).hosts[0], 'https://h:1');
    assert.equal(parseEtcdUrl('etcd://h:1', true).hosts[0], 'https://h:1');
    assert.throws(() => parseEtcdUrl('etcd://', false), UsageError);
    assert.throws(() => parseEtcdUrl('etcd://a b:1', false), UsageError);
  });
});

async function unusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
