import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Datastore } from '../../src/datastore/datastore.js';
import { EtcdDatastore } from '../../src/datastore/etcd.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd-cluster.js';
import { CniRig, createPools, isRoot } from './cni-harness.js';
import { addCheckDel } from './cni-cycle.js';

/**
 * The brindle CNI plugin against a real 3-member etcd cluster (the plugin speaks etcd's HTTP
 * gateway; member failover is tested in test/datastore/etcd-http.test.ts, since behind the
 * loopback forwarder a dead member looks like a reset connection, not a refused one).
 */

const skip = isRoot ? false : 'needs root (network namespaces)';
let cluster: EtcdCluster;
let rig: CniRig;
let ds: Datastore;

describe('CNI plugin on etcd', { skip, timeout: 240_000 }, () => {
  before(async () => {
    cluster = await startEtcdCluster();
    rig = new CniRig();
    ds = await EtcdDatastore.open(cluster.url);
    await createPools(ds, [{ name: 'pool4', cidr: '10.73.0.0/16' }]);
    await rig.install(cluster.url);
    await rig.forwardLoopback(cluster.members.map((m) => Number(new URL(m.clientUrl).port)));
  });
  after(async () => {
    await ds?.close();
    rig?.dispose();
    await cluster?.stop();
  });

  for (const version of ['0.3.1', '1.0.0', '1.1.0']) {
    test(`ADD, CHECK, DEL with cniVersion ${version}`, async () => {
      await addCheckDel(rig, ds, cluster.url, version, { ns: 'etcd-ns', name: `db-${version.replace(/\./g, '')}`, containerId: `e${version.replace(/\./g, '')}` });
    });
  }

  test('an ADD killed after its IPAM write, retried: the same address, nothing leaked', async () => {
    const netns = rig.pod();
    const conf = rig.conf('1.0.0', {}, cluster.url);
    const env = { containerId: 'unknown-outcome', netns, args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=uo' };
    const killed = await rig.run('ADD', conf, { ...env, extra: { BRINDLE_CNI_TEST_HANG_AFTER: 'ipam' } }, 'brindle', /hanging after/);
    assert.equal(killed.code, null);
    const ipam = new IpamClient(ds);
    const first = await ipam.ipsByHandle('k8s-pod-network.unknown-outcome');
    const retry = await rig.run('ADD', conf, env);
    assert.equal(retry.code, 0, retry.stdout);
    assert.deepEqual((retry.json!['ips'] as { address: string }[]).map((i) => i.address.split('/')[0]), first);
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.unknown-outcome'), first);
    assert.equal((await ipam.check()).summary.problems, 0);
    assert.equal((await rig.run('DEL', conf, env)).code, 0);
  });

  test('etcd unreachable: ADD fails with "try again later" (11) naming the endpoint, and changes nothing', async () => {
    const netns = rig.pod();
    const r = await rig.run('ADD', rig.conf('1.0.0', {}, 'etcd://127.0.0.1:1'), { containerId: 'noetcd', netns });
    assert.equal(r.json!['code'], 11, r.stdout);
    assert.match(String(r.json!['msg']), /cannot reach etcd at 127\.0\.0\.1:1: connection refused/);
    assert.deepEqual(rig.links(netns), ['lo']);
  });
});
