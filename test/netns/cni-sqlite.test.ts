import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import type { WorkloadEndpoint } from '../../src/api/types.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { CniRig, createPools, isRoot } from './cni-harness.js';
import { addCheckDel } from './cni-cycle.js';

/** The brindle CNI plugin, installed and invoked as a runtime does, on the real kernel with the embedded datastore. */

const skip = isRoot ? false : 'needs root (network namespaces)';
let rig: CniRig;
let ds: Datastore;
let url: string;

describe('CNI plugin on SQLite', { skip, timeout: 180_000 }, () => {
  before(async () => {
    rig = new CniRig();
    url = `sqlite:${join(rig.dir, 'brindle.db')}`;
    ds = await SqliteDatastore.open(url);
    await createPools(ds, [{ name: 'pool4', cidr: '10.71.0.0/16' }]);
    await rig.install(url);
  });
  after(async () => {
    await ds?.close();
    rig?.dispose();
  });

  for (const version of ['0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
    test(`ADD, CHECK, DEL with cniVersion ${version}`, async () => {
      await addCheckDel(rig, ds, url, version, { ns: 'team-a', name: `web-${version.replace(/\./g, '')}`, containerId: `c${version.replace(/\./g, '')}` });
    });
  }

  test('a retried ADD returns the same address and wiring; DEL is idempotent, also after the netns is gone', async () => {
    const netns = rig.pod();
    const conf = rig.conf('1.0.0', {}, url);
    const env = { containerId: 'retry1', netns, args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=retry' };
    const a = await rig.run('ADD', conf, env);
    const b = await rig.run('ADD', conf, env);
    assert.equal(a.code, 0, a.stdout);
    assert.equal(b.code, 0, b.stdout);
    assert.deepEqual(b.json!['ips'], a.json!['ips']);
    assert.deepEqual(await new IpamClient(ds).ipsByHandle('k8s-pod-network.retry1'), [(a.json!['ips'] as { address: string }[])[0]!.address.split('/')[0]]);
    const check = await rig.run('CHECK', { ...conf, prevResult: a.json }, env);
    assert.equal(check.code, 0, check.stdout);
    // CHECK notices a route that went missing.
    const veth = (a.json!['interfaces'] as { name: string }[])[0]!.name;
    const ip = (a.json!['ips'] as { address: string }[])[0]!.address.split('/')[0];
    rig.ipJson(rig.node, 'route show'); // sanity: the node netns answers
    const { spawnSync } = await import('node:child_process');
    spawnSync('ip', ['-n', rig.node, 'route', 'del', `${ip}/32`, 'dev', veth]);
    const broken = await rig.run('CHECK', { ...conf, prevResult: a.json }, env);
    assert.equal(broken.code, 1);
    assert.equal(broken.json!['code'], 100);
    assert.match(String(broken.json!['msg']), new RegExp(`the node has no route ${ip.replace(/\./g, '\\.')} dev ${veth}`));
    rig.deleteNetns(netns);
    for (let i = 0; i < 2; i++) {
      const del = await rig.run('DEL', conf, env);
      assert.equal(del.code, 0, `DEL ${i + 1} after the netns is gone: ${del.stdout}`);
    }
    const never = await rig.run('DEL', conf, { containerId: 'never-added', netns: '', args: '' });
    assert.equal(never.code, 0, never.stdout);
    assert.equal(rig.links(rig.node).includes(veth), false);
    const report = await new IpamClient(ds).check();
    assert.equal(report.summary.problems, 0, JSON.stringify(report));
  });

  test('bad configuration is refused with CNI error JSON before anything changes', async () => {
    const netns = rig.pod();
    const env = { containerId: 'bad1', netns, args: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=bad' };
    const before = await ds.list('/');
    const linksBefore = rig.links(rig.node);
    const cases: [unknown, number, RegExp][] = [
      ['{"cniVersion":', 6, /not JSON/],
      [rig.conf('1.0.0', { datastore: 'mysql://db:3306' }), 7, /"datastore" "mysql:\/\/db:3306" is not a datastore URL/],
      [rig.conf('1.0.0', { datastore: url, ipam: undefined }), 7, /"ipam" is required/],
      [rig.conf('1.0.0', { datastore: url, ipam: { type: 'brindle-ipam', ipv4_pools: ['no-such-pool'] } }), 7, /ipam\.ipv4_pools names "no-such-pool", which is not an IP pool/],
      [rig.conf('1.0.0', { datastore: url, ipam: { type: 'brindle-ipam', assign_ipv6: 'true', assign_ipv4: 'false' } }), 7, /no enabled IPv6 pool exists/],
      [rig.conf('1.0.0', { datastore: url, ipam: { type: 'host-local' } }), 7, /ipam\.type "host-local" is not supported/],
      [rig.conf('0.2.0', { datastore: url }), 1, /cniVersion "0\.2\.0" is not supported/],
    ];
    for (const [conf, code, re] of cases) {
      const r = await rig.run('ADD', conf, env);
      assert.equal(r.code, 1, `expected a refusal for ${JSON.stringify(conf)}`);
      assert.equal(r.json!['code'], code, r.stdout);
      assert.match(String(r.json!['msg']), re);
    }
    const noNetns = await rig.run('ADD', rig.conf('1.0.0', {}, url), { ...env, netns: '/run/netns/brl-does-not-exist' });
    assert.equal(noNetns.json!['code'], 3);
    const noEnv = await rig.run('ADD', rig.conf('1.0.0', {}, url), { netns });
    assert.equal(noEnv.json!['code'], 4);
    assert.match(String(noEnv.json!['msg']), /CNI_CONTAINERID is required for ADD/);
    const afterList = await ds.list('/');
    assert.equal(afterList.revision, before.revision, 'no datastore write');
    assert.deepEqual(rig.links(rig.node), linksBefore, 'no link created');
    assert.deepEqual(rig.links(netns), ['lo']);
  });

  test('VERSION, STATUS (1.1.0) and GC releasing what the runtime no longer lists', async () => {
    const v = await rig.run('VERSION', '{"cniVersion":"1.1.0"}');
    assert.deepEqual(v.json, { cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
    const conf = rig.conf('1.1.0', {}, url);
    const st = await rig.run('STATUS', conf);
    assert.equal(st.code, 0, st.stdout);
    const notReady = await rig.run('STATUS', rig.conf('1.1.0', { ipam: { type: 'brindle-ipam', assign_ipv6: 'true' } }, url));
    assert.equal(notReady.json!['code'], 50);
    assert.match(String(notReady.json!['msg']), /no enabled IPv6 pool/);
    const keep = rig.pod();
    const drop = rig.pod();
    const k = await rig.run('ADD', conf, { containerId: 'gc-keep', netns: keep });
    const d = await rig.run('ADD', conf, { containerId: 'gc-drop', netns: drop });
    assert.equal(k.code, 0, k.stdout);
    assert.equal(d.code, 0, d.stdout);
    const gc = await rig.run('GC', { ...conf, 'cni.dev/valid-attachments': [{ containerID: 'gc-keep', ifname: 'eth0' }] });
    assert.equal(gc.code, 0, gc.stdout);
    const ipam = new IpamClient(ds);
    assert.equal((await ipam.ipsByHandle('k8s-pod-network.gc-keep')).length, 1);
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.gc-drop').catch(() => []), []);
    const weps = (await new ResourceClient(ds).list('WorkloadEndpoint', 'default')).items as WorkloadEndpoint[];
    assert.deepEqual(weps.map((w) => w.spec.containerID), ['gc-keep'], 'the dropped container\'s endpoint is gone');
    for (const [cid, ns] of [['gc-keep', keep], ['gc-drop', drop]] as const) assert.equal((await rig.run('DEL', conf, { containerId: cid, netns: ns })).code, 0);
  });

  for (const step of ['ipam', 'veth', 'endpoint'] as const) {
    test(`killed after the ${step} step: ipam check sees it, DEL cleans up everything`, async () => {
      const netns = rig.pod();
      const conf = rig.conf('1.0.0', {}, url);
      const env = { containerId: `kill-${step}`, netns, args: `K8S_POD_NAMESPACE=default;K8S_POD_NAME=kill-${step}`, extra: { BRINDLE_CNI_TEST_HANG_AFTER: step } };
      const killed = await rig.run('ADD', conf, env, 'brindle', /hanging after/);
      assert.equal(killed.code, null, `the plugin should have been killed: ${killed.stdout} ${killed.stderr}`);
      const ipam = new IpamClient(ds);
      const held = await ipam.ipsByHandle(`k8s-pod-network.kill-${step}`);
      assert.equal(held.length, 1, 'the address was assigned before the kill');
      if (step === 'ipam') {
        const report = await ipam.check();
        assert.deepEqual(report.leakedIps.map((l) => l.ip), held, 'an address without its endpoint is reported as leaked');
      }
      if (step !== 'ipam') assert.equal(rig.links(netns).includes('eth0'), true);
      const del = await rig.run('DEL', conf, { ...env, extra: {} });
      assert.equal(del.code, 0, del.stdout);
      assert.deepEqual(rig.links(netns), ['lo']);
      assert.equal(rig.links(rig.node).filter((l) => l.startsWith('cali')).length, 0, 'no veth left on the node');
      assert.equal(await new ResourceClient(ds).get('WorkloadEndpoint', `node--1-k8s-kill--${step}-eth0`, 'default'), null);
      const report = await ipam.check();
      assert.equal(report.summary.problems, 0, JSON.stringify(report));
    });
  }
});
