import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { CalculationGraph, IPAM_BLOCK_PREFIX, type Update } from '../../src/calc/graph.js';
import { vtepMacFor } from '../../src/calc/route-resolver.js';
import { keyOf } from '../../src/calc/snapshot.js';
import { routeCallbacks } from '../helpers/route-sink.js';
import { ipipCommands, IpipManager } from '../../src/dataplane/managers/ipip-manager.js';
import { VxlanManager } from '../../src/dataplane/managers/vxlan-manager.js';

// The tunnel managers fed by the real calculation graph of node1: which device, neighbours, FDB
// entries and routes each pool mode gives, one table row per case.

const V3 = 'projectcalico.org/v3';
const node = (name: string, ip: string, extra: Record<string, unknown> = {}): Resource => ({ apiVersion: V3, kind: 'Node', metadata: { name }, spec: { bgp: { ipv4Address: ip }, ...extra } });
const pool = (spec: Record<string, unknown>): Resource => ({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.65.0.0/16', ...spec } });
const block = (cidr: string, owner: string): Update => ({ key: `${IPAM_BLOCK_PREFIX}ipv4/block/${cidr.replace(/[./]/g, '-')}`, value: { cidr, affinity: `host:${owner}` } });
const wep = (name: string, nodeName: string, ip: string): Resource => ({ apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name, namespace: 'ns' }, spec: { node: nodeName, ipNetworks: [`${ip}/32`], interfaceName: `cali${name}` } });
const res = (r: Resource): Update => ({ key: keyOf(r), value: r });

function feed(updates: Update[], sink: Parameters<typeof routeCallbacks>[0]): CalculationGraph {
  const g = new CalculationGraph({ hostname: 'node1' }, routeCallbacks(sink));
  g.onUpdates(updates);
  g.onInSync();
  return g;
}

const VX_NODES = [
  res(node('node1', '192.168.0.1/24', { ipv4VXLANTunnelAddr: '10.65.0.1' })),
  res(node('node2', '192.168.0.2/24', { ipv4VXLANTunnelAddr: '10.65.1.1' })),
  res(node('node3', '172.16.0.3/24', { ipv4VXLANTunnelAddr: '10.65.2.1' })),
];
const BLOCKS = [block('10.65.0.0/26', 'node1'), block('10.65.1.0/26', 'node2'), block('10.65.2.0/26', 'node3')];

function vxlan(mode: string, opts: { programNoEncapRoutes?: boolean } = {}, extra: Update[] = []) {
  const m = new VxlanManager({ hostname: 'node1', ...opts });
  feed([...VX_NODES, res(pool({ vxlanMode: mode })), ...BLOCKS, ...extra], m);
  m.completeDeferredWork();
  const d = m.desired();
  return { d, routes: Object.fromEntries([...d.routes].map(([k, r]) => [k, r.kind === 'blackhole' ? 'blackhole' : `via ${r.via}${r.dev ? ` dev ${r.dev}` : ''}${r.onlink ? ' onlink' : ''}`])) };
}

test('VXLAN Always: device, one neighbour and FDB entry per remote VTEP, every remote block tunnelled', () => {
  const { d, routes } = vxlan('Always', {}, [res(wep('w9', 'node3', '10.65.0.9'))]);
  assert.deepEqual(d.device, { name: 'vxlan.calico', vni: 4096, port: 4789, localIP: '192.168.0.1', mac: vtepMacFor('node1'), tunnelIP: '10.65.0.1', mtu: 1450 });
  assert.deepEqual([...d.neighbours], [['10.65.1.1', vtepMacFor('node2')], ['10.65.2.1', vtepMacFor('node3')]]);
  assert.deepEqual([...d.fdb], [[vtepMacFor('node2'), '192.168.0.2'], [vtepMacFor('node3'), '172.16.0.3']]);
  assert.deepEqual(routes, {
    '10.65.0.0/26': 'blackhole',
    '10.65.1.0/26': 'via 10.65.1.1 dev vxlan.calico onlink',
    '10.65.2.0/26': 'via 10.65.2.1 dev vxlan.calico onlink',
    '10.65.0.9/32': 'via 10.65.2.1 dev vxlan.calico onlink', // borrowed by node3 from node1's block
  });
});

test('VXLAN CrossSubnet: the same subnet is routed plainly, the other through the tunnel', () => {
  assert.deepEqual(vxlan('CrossSubnet').routes, {
    '10.65.0.0/26': 'blackhole',
    '10.65.1.0/26': 'via 192.168.0.2',
    '10.65.2.0/26': 'via 10.65.2.1 dev vxlan.calico onlink',
  });
});

test('no encapsulation: nothing unless no BIRD runs (programNoEncapRoutes)', () => {
  assert.deepEqual(vxlan('Never').routes, {});
  assert.deepEqual(vxlan('Never', { programNoEncapRoutes: true }).routes, { '10.65.0.0/26': 'blackhole', '10.65.1.0/26': 'via 192.168.0.2', '10.65.2.0/26': 'via 172.16.0.3' });
});

test('a tunnelled route waits for its VTEP; without our own VTEP there is no device', () => {
  const m = new VxlanManager({ hostname: 'node1' });
  m.onRouteUpdate({ dst: '10.65.1.0/26', type: 'remote-block', node: 'node2', nodeIP: '192.168.0.2', vxlan: true, encap: 'vxlan' });
  assert.equal(m.desired().routes.size, 0);
  assert.equal(m.desired().device, undefined);
  m.onVtepUpdate({ node: 'node2', nodeIP: '192.168.0.2', tunnelIP: '10.65.1.1', mac: 'ee:00:00:00:00:02' });
  assert.equal(m.desired().routes.size, 0, 'still no device of our own');
  m.onVtepUpdate({ node: 'node1', nodeIP: '192.168.0.1', tunnelIP: '10.65.0.1', mac: 'ee:00:00:00:00:01' });
  assert.deepEqual([...m.desired().routes.keys()], ['10.65.1.0/26']);
  m.onVtepRemoved('node2');
  assert.equal(m.desired().routes.size, 0);
  assert.equal(m.desired().fdb.size, 0);
});

test('IP-in-IP (render only): tunl0 routes for Always, plain routes inside the subnet for CrossSubnet', () => {
  for (const [mode, expected] of [
    ['Always', ['route replace 10.65.0.0/26 via 192.168.0.2 dev tunl0 onlink proto 81', 'route replace 10.65.1.0/26 via 172.16.0.3 dev tunl0 onlink proto 81', 'route replace blackhole 10.65.9.0/26 proto 81']],
    ['CrossSubnet', ['route replace 10.65.0.0/26 via 192.168.0.2 proto 81', 'route replace 10.65.1.0/26 via 172.16.0.3 dev tunl0 onlink proto 81', 'route replace blackhole 10.65.9.0/26 proto 81']],
    ['Never', []],
  ] as const) {
    const m = new IpipManager({ tunnelAddress: '10.65.9.1' });
    feed([res(node('node1', '192.168.0.1/24')), res(node('node2', '192.168.0.2/24')), res(node('node3', '172.16.0.3/24')),
      res(pool({ ipipMode: mode })), block('10.65.9.0/26', 'node1'), block('10.65.0.0/26', 'node2'), block('10.65.1.0/26', 'node3')], m);
    const cmds = ipipCommands(m.desired());
    assert.deepEqual(cmds.slice(0, 3), ['link add tunl0 type ipip', 'link set tunl0 mtu 1480 up', 'addr replace 10.65.9.1/32 dev tunl0'], mode);
    assert.deepEqual(cmds.slice(3), expected, mode);
  }
});
