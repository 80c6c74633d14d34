import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { vtepMacFor } from '../../src/calc/route-resolver.js';
import { canRunNetns, Topology, waitFor, type NodeNs } from './helpers/topology.js';
import { blockUpdate, res, VxlanNode } from './helpers/vxlan-node.js';

// VXLAN without BGP (no BIRD anywhere): calc → VxlanManager → VxlanApplier on three node
// namespaces. Always: every remote block goes through vxlan.calico. CrossSubnet with nodes on two
// subnets: plain underlay routes inside a subnet, VXLAN only across. IP-in-IP has no kernel module
// here, so its kernel test skips (its routes are unit-tested).

const skip = canRunNetns();
const V3 = 'projectcalico.org/v3';

const nodeRes = (n: NodeNs, i: number): Resource => ({
  apiVersion: V3, kind: 'Node', metadata: { name: n.name },
  spec: { bgp: { ipv4Address: n.cidr }, ipv4VXLANTunnelAddr: `10.65.${i + 1}.1` },
});
const poolRes = (vxlanMode: string): Resource => ({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.65.0.0/16', vxlanMode } });

async function cluster(topo: Topology, mode: string): Promise<VxlanNode[]> {
  const updates = [...topo.nodes.map((n, i) => res(nodeRes(n, i))), res(poolRes(mode)), ...topo.nodes.map((n, i) => blockUpdate(`10.65.${i + 1}.0/26`, n.name))];
  const nodes = topo.nodes.map((n) => new VxlanNode(n));
  for (const v of nodes) await v.update(updates);
  return nodes;
}

test('VXLAN Always, no BGP: workloads on three nodes reach each other through vxlan.calico', { skip, timeout: 60_000 }, async () => {
  const topo = Topology.create([0, 0, 0]);
  try {
    const ws = topo.nodes.map((n, i) => topo.addWorkload(n, `10.65.${i + 1}.10`, { mtu: 1450 }));
    const nodes = await cluster(topo, 'Always');
    const n1 = topo.node(0);
    const routes = topo.routes(n1.ns);
    assert.match(routes, /10\.65\.2\.0\/26 via 10\.65\.2\.1 dev vxlan\.calico proto 81 onlink/);
    assert.match(routes, /10\.65\.3\.0\/26 via 10\.65\.3\.1 dev vxlan\.calico proto 81 onlink/);
    assert.match(routes, /blackhole 10\.65\.1\.0\/26 proto 81/);
    const link = JSON.parse(execFileSync('ip', ['-n', n1.ns, '-j', '-d', 'link', 'show', 'vxlan.calico'], { encoding: 'utf8' }))[0];
    assert.deepEqual([link.address, link.mtu, link.linkinfo.info_data.id, link.linkinfo.info_data.port, link.linkinfo.info_data.local, link.linkinfo.info_data.learning],
      [vtepMacFor('node-1'), 1450, 4096, 4789, '10.192.0.2', false]);
    assert.match(execFileSync('ip', ['-n', n1.ns, 'neigh', 'show', 'dev', 'vxlan.calico'], { encoding: 'utf8' }), new RegExp(`10\\.65\\.2\\.1 lladdr ${vtepMacFor('node-2')} PERMANENT`));
    assert.match(execFileSync('bridge', ['-n', n1.ns, 'fdb', 'show', 'dev', 'vxlan.calico'], { encoding: 'utf8' }), new RegExp(`${vtepMacFor('node-3')} dst 10\\.192\\.0\\.4 self permanent`));
    for (const a of ws) for (const b of ws) if (a !== b) assert.ok(topo.ping(a.ns, b.ip), `${a.ip} → ${b.ip}`);
    // The underlay has no route to the blocks: only the tunnel carries them.
    assert.doesNotMatch(routes, /10\.65\.\d\.0\/26 via 10\.192/);

    // A second apply with nothing changed runs no command; drift (a deleted FDB entry) is repaired.
    assert.equal((await nodes[0]!.applier.apply(nodes[0]!.manager.desired())).commands, 0);
    execFileSync('bridge', ['-n', n1.ns, 'fdb', 'del', vtepMacFor('node-2'), 'dev', 'vxlan.calico', 'dst', '10.192.0.3', 'self']);
    assert.equal((await nodes[0]!.applier.apply(nodes[0]!.manager.desired())).commands, 0, 'between resyncs the applier trusts what it programmed');
    assert.equal((await nodes[0]!.applier.apply(nodes[0]!.manager.desired(), true)).commands, 1, 'a full apply (resync) re-reads the kernel');
    assert.ok(topo.ping(ws[0]!.ns, ws[1]!.ip));

    // A node that leaves takes its VTEP and routes with it.
    await nodes[0]!.update([{ key: res(nodeRes(topo.node(2), 2)).key, value: null }]);
    assert.doesNotMatch(topo.routes(n1.ns), /10\.65\.3\.0\/26/);
    assert.doesNotMatch(execFileSync('ip', ['-n', n1.ns, 'neigh', 'show', 'dev', 'vxlan.calico'], { encoding: 'utf8' }), /10\.65\.3\.1/);
  } finally {
    topo.destroy();
  }
});

test('VXLAN CrossSubnet: plain routes inside a subnet, VXLAN across subnets', { skip, timeout: 60_000 }, async () => {
  const topo = Topology.create([0, 0, 1]);
  try {
    const ws = topo.nodes.map((n, i) => topo.addWorkload(n, `10.65.${i + 1}.10`, { mtu: 1450 }));
    await cluster(topo, 'CrossSubnet');
    const r1 = topo.routes(topo.node(0).ns);
    assert.match(r1, /10\.65\.2\.0\/26 via 10\.192\.0\.3 dev eth0 proto 81/, 'same subnet: underlay next hop');
    assert.match(r1, /10\.65\.3\.0\/26 via 10\.65\.3\.1 dev vxlan\.calico proto 81 onlink/, 'other subnet: tunnel');
    const r3 = topo.routes(topo.node(2).ns);
    assert.match(r3, /10\.65\.1\.0\/26 via 10\.65\.1\.1 dev vxlan\.calico/);
    assert.match(r3, /10\.65\.2\.0\/26 via 10\.65\.2\.1 dev vxlan\.calico/);
    for (const a of ws) for (const b of ws) if (a !== b) assert.ok(topo.ping(a.ns, b.ip), `${a.ip} → ${b.ip}`);
    // The fabric forwards only the underlay: the workload addresses never appear unencapsulated across subnets.
    await waitFor('ping still works', () => topo.ping(ws[2]!.ns, ws[0]!.ip), 3000);
  } finally {
    topo.destroy();
  }
});

test('IP-in-IP kernel test', { skip: skip ?? ipipMissing(), timeout: 30_000 }, () => {
  assert.fail('this kernel has IP-in-IP: write the kernel test (routes are unit-tested in test/dataplane/ipip-manager.test.ts)');
});

function ipipMissing(): string | undefined {
  const ns = `bip${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['-n', ns, 'link', 'add', 'tunl9', 'type', 'ipip'], { encoding: 'utf8' });
    return r.status === 0 ? undefined : `this kernel has no IP-in-IP (ipip) support ("${r.stderr.trim()}"); IP-in-IP routes are render-tested only`;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
