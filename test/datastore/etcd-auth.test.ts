import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { EtcdDatastore } from '../../src/datastore/etcd.js';
import { UnavailableError } from '../../src/errors.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { WatchCollector } from './watch-collector.js';

/**
 * An etcd that refuses this client (authentication enabled, no credentials for it): reads fail
 * at once with etcd's reason, and so does a watch, instead of retrying a refusal forever in silence.
 */

let cluster: EtcdCluster | null = null;
after(async () => {
  await cluster?.stop();
});

test('etcd with auth enabled: a refused watch is a terminal error naming the reason', { timeout: 60_000 }, async () => {
  cluster = await startEtcdCluster({ size: 1 });
  const endpoint = cluster.url.replace('etcd://', '');
  const ctl = (...args: string[]) => execFileSync('/usr/bin/etcdctl', ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8', timeout: 20_000, stdio: 'pipe' });
  ctl('user', 'add', 'root:brindle-test');
  ctl('auth', 'enable');
  const ds = await EtcdDatastore.open(cluster.url);
  try {
    await assert.rejects(ds.get('/refused/k'), (err: Error) => err instanceof UnavailableError && /user name is empty/.test(err.message));
    const w = new WatchCollector();
    const watch = ds.watch('/refused/', 0, w.handlers);
    try {
      const err = await w.waitForError();
      assert.ok(err instanceof UnavailableError, `expected UnavailableError, got ${err}`);
      assert.equal(err.message, 'watch of /refused/ on etcd was refused: etcdserver: user name is empty');
      assert.deepEqual(w.events, []);
    } finally {
      watch.dispose();
    }
  } finally {
    await ds.close();
  }
});
