import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Datastore } from '../../src/datastore/datastore.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { CniRig, createPools, isRoot } from './cni-harness.js';

/** 50 ADDs at once on one node (as a kubelet starting a node's pods): every one succeeds, no address twice. */

const skip = isRoot ? false : 'needs root (network namespaces)';
const N = 50;
let rig: CniRig;
let ds: Datastore;
let url: string;

describe('concurrent ADDs', { skip, timeout: 900_000 }, () => {
  before(async () => {
    rig = new CniRig();
    url = `sqlite:${join(rig.dir, 'brindle.db')}`;
    ds = await SqliteDatastore.open(url);
    // Small blocks, so the node claims several concurrently.
    await createPools(ds, [{ name: 'pool4', cidr: '10.72.0.0/16', blockSize: 28 }]);
    await rig.install(url);
  });
  after(async () => {
    await ds?.close();
    rig?.dispose();
  });

  test(`${N} concurrent ADDs get ${N} distinct addresses, endpoints and veths; ${N} concurrent DELs leave nothing`, async () => {
    const conf = rig.conf('1.0.0', {}, url);
    const pods = Array.from({ length: N }, (_, i) => ({ netns: rig.pod(), containerId: `cc${i}`, args: `K8S_POD_NAMESPACE=load;K8S_POD_NAME=pod-${i}` }));
    const adds = await Promise.all(pods.map((p) => rig.run('ADD', conf, p)));
    const failed = adds.filter((r) => r.code !== 0);
    assert.equal(failed.length, 0, `failed ADDs: ${failed.map((f) => `exit ${f.code} after ${f.ms.toFixed(0)} ms: ${f.stdout}${f.stderr.slice(-300)}`).join('\n')}`);
    const ips = adds.map((r) => (r.json!['ips'] as { address: string }[])[0]!.address);
    assert.equal(new Set(ips).size, N, 'no address handed out twice');
    const veths = adds.map((r) => (r.json!['interfaces'] as { name: string }[])[0]!.name);
    assert.equal(new Set(veths).size, N);
    assert.equal(rig.links(rig.node).filter((l) => l.startsWith('cali')).length, N);
    assert.equal((await new ResourceClient(ds).list('WorkloadEndpoint', 'load')).items.length, N);
    const report = await new IpamClient(ds).check();
    assert.equal(report.summary.problems, 0, JSON.stringify(report));
    assert.equal(report.summary.allocatedIps, N);
    const dels = await Promise.all(pods.map((p) => rig.run('DEL', conf, p)));
    assert.deepEqual(dels.filter((d) => d.code !== 0).map((d) => d.stdout), []);
    assert.equal(rig.links(rig.node).filter((l) => l.startsWith('cali')).length, 0);
    assert.equal((await new ResourceClient(ds).list('WorkloadEndpoint', 'load')).items.length, 0);
    const end = await new IpamClient(ds).check();
    assert.equal(end.summary.allocatedIps, 0);
    assert.equal(end.summary.problems, 0, JSON.stringify(end));
  });
});
