import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Resource } from '../../src/api/types.js';
import { CalculationGraph, IPAM_BLOCK_PREFIX, type Update } from '../../src/calc/graph.js';
import { vtepMacFor } from '../../src/calc/route-resolver.js';
import { keyOf, SnapshotDataplane } from '../../src/calc/snapshot.js';
import type { RouteUpdate, VtepUpdate } from '../../src/calc/types.js';
import { plain, wep } from './state-builders.js';

// Routes and VTEPs for node1 from Nodes, IPPools, IPAM blocks and workloads, as named states
// reached from every other state and by random histories (SnapshotDataplane checks that no VXLAN
// route exists without its VTEP).

const V3 = 'projectcalico.org/v3';
const node = (name: string, ip: string, tunnel?: string, mac?: string): Resource => ({
  apiVersion: V3, kind: 'Node', metadata: { name },
  spec: { bgp: { ipv4Address: ip }, ...(tunnel ? { ipv4VXLANTunnelAddr: tunnel } : {}), ...(mac ? { vxlanTunnelMACAddr: mac } : {}) },
});
const pool = (vxlanMode: string, natOutgoing = true): Resource => ({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool1' }, spec: { cidr: '10.65.0.0/16', vxlanMode, natOutgoing } });
const block = (cidr: string, owner: string | null) => ({ key: `${IPAM_BLOCK_PREFIX}ipv4/block/${cidr.replace(/[./]/g, '-')}`, value: { cidr, affinity: owner ? `host:${owner}` : null } });

interface RouteState { name: string; updates: Update[]; routes: RouteUpdate[]; vteps: VtepUpdate[] }

const res = (r: Resource): Update => ({ key: keyOf(r), value: r });
const N1 = node('node1', '192.168.0.1/24', '10.65.0.1', 'AA:BB:CC:00:00:01');
const N2 = node('node2', '192.168.0.2/24', '10.65.1.1');
const N3 = node('node3', '172.16.0.3/24', '10.65.2.1', 'aa:bb:cc:00:00:03');
const BLOCKS = [block('10.65.0.0/26', 'node1'), block('10.65.1.0/26', 'node2'), block('10.65.2.0/26', 'node3'), block('10.65.3.0/26', null)];
const WEPS = [
  wep('ns1', 'w1', {}, { ips: ['10.65.0.5/32'], iface: 'cali-w1' }),
  wep('ns1', 'w2', {}, { node: 'node2', ips: ['10.65.1.7/32'] }),
  wep('ns1', 'w3', {}, { node: 'node2', ips: ['10.65.0.9/32'] }), // borrowed from node1's block
];
const VTEPS: VtepUpdate[] = [
  { node: 'node1', nodeIP: '192.168.0.1', tunnelIP: '10.65.0.1', mac: 'aa:bb:cc:00:00:01' },
  { node: 'node2', nodeIP: '192.168.0.2', tunnelIP: '10.65.1.1', mac: vtepMacFor('node2') },
  { node: 'node3', nodeIP: '172.16.0.3', tunnelIP: '10.65.2.1', mac: 'aa:bb:cc:00:00:03' },
];
const HOSTS: RouteUpdate[] = [
  { dst: '192.168.0.1/32', type: 'local-host', node: 'node1', nodeIP: '192.168.0.1' },
  { dst: '192.168.0.2/32', type: 'remote-host', node: 'node2', nodeIP: '192.168.0.2' },
  { dst: '172.16.0.3/32', type: 'remote-host', node: 'node3', nodeIP: '172.16.0.3' },
  { dst: '10.65.0.1/32', type: 'tunnel', node: 'node1', nodeIP: '192.168.0.1' },
  { dst: '10.65.1.1/32', type: 'tunnel', node: 'node2', nodeIP: '192.168.0.2' },
];
const T3: RouteUpdate = { dst: '10.65.2.1/32', type: 'tunnel', node: 'node3', nodeIP: '172.16.0.3' };

function workloadRoutes(nat: boolean, vxlanSameSubnet: boolean, vxlanNode3: boolean, encap = true): RouteUpdate[] {
  const n = { ...(nat ? { natOutgoing: true } : {}), ...(encap ? { encap: 'vxlan' as const } : {}) };
  const v = vxlanSameSubnet ? { vxlan: true } : {};
  return [
    { dst: '10.65.0.0/26', type: 'local-block', node: 'node1', nodeIP: '192.168.0.1', ...n },
    { dst: '10.65.1.0/26', type: 'remote-block', node: 'node2', nodeIP: '192.168.0.2', ...n, ...v },
    { dst: '10.65.2.0/26', type: 'remote-block', node: 'node3', nodeIP: '172.16.0.3', ...n, ...(vxlanNode3 ? { vxlan: true } : {}) },
    { dst: '10.65.0.5/32', type: 'local-workload', node: 'node1', nodeIP: '192.168.0.1', interfaceName: 'cali-w1', ...n },
    { dst: '10.65.0.9/32', type: 'remote-workload', node: 'node2', nodeIP: '192.168.0.2', ...n, ...v },
  ];
}

const STATES: RouteState[] = [
  { name: 'empty', updates: [], routes: [], vteps: [] },
  {
    name: 'CrossSubnet pool: VXLAN only to the other subnet',
    updates: [res(N1), res(N2), res(N3), res(pool('CrossSubnet')), ...BLOCKS, ...WEPS.map(res)],
    routes: [...HOSTS, T3, ...workloadRoutes(true, false, true)], vteps: VTEPS,
  },
  {
    name: 'Always pool, no NAT',
    updates: [res(N1), res(N2), res(N3), res(pool('Always', false)), ...BLOCKS, ...WEPS.map(res)],
    routes: [...HOSTS, T3, ...workloadRoutes(false, true, true)], vteps: VTEPS,
  },
  {
    name: 'node3 has no tunnel address: no VTEP, no VXLAN to it',
    updates: [res(N1), res(N2), res(node('node3', '172.16.0.3/24')), res(pool('Always')), ...BLOCKS, ...WEPS.map(res)],
    routes: [...HOSTS, ...workloadRoutes(true, true, false)], vteps: VTEPS.slice(0, 2),
  },
  {
    name: 'w3 inside its own node block: no /32',
    updates: [res(N1), res(N2), res(N3), res(pool('Never')), ...BLOCKS, res(WEPS[0]!), res(WEPS[1]!), res(wep('ns1', 'w3', {}, { node: 'node2', ips: ['10.65.1.9/32'] }))],
    routes: [...HOSTS, T3, ...workloadRoutes(true, false, false, false).filter((r) => r.dst !== '10.65.0.9/32')], vteps: VTEPS,
  },
];

const sortRoutes = (r: RouteUpdate[]) => Object.fromEntries([...r].sort((a, b) => (a.dst < b.dst ? -1 : 1)).map((x) => [x.dst, x]));

function load(updates: Update[]): { g: CalculationGraph; dp: SnapshotDataplane } {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  g.onUpdates(updates);
  g.onInSync();
  return { g, dp };
}

for (const s of STATES) {
  test(`routes: ${s.name}`, () => {
    for (const order of [s.updates, [...s.updates].reverse()]) {
      const { dp } = load(order);
      assert.deepEqual(Object.fromEntries([...dp.snapshot.routes].sort()), sortRoutes(s.routes));
      assert.deepEqual([...dp.snapshot.vteps.values()].sort((a, b) => (a.node < b.node ? -1 : 1)), s.vteps);
    }
  });
}

test('routes: every state to every other', () => {
  for (const from of STATES) {
    for (const to of STATES) {
      const { g, dp } = load(from.updates);
      const toKeys = new Set(to.updates.map((u) => u.key));
      g.onUpdates([...to.updates, ...from.updates.filter((u) => !toKeys.has(u.key)).map((u) => ({ key: u.key, value: null }))]);
      g.flush();
      assert.deepEqual(Object.fromEntries([...dp.snapshot.routes].sort()), sortRoutes(to.routes), `${from.name} → ${to.name}`);
      assert.deepEqual([...dp.snapshot.vteps.values()].sort((a, b) => (a.node < b.node ? -1 : 1)), to.vteps, `${from.name} → ${to.name}`);
    }
  }
});

test('routes: random histories end as a fresh computation', () => {
  const variants = new Map<string, unknown[]>();
  for (const s of STATES) for (const u of s.updates) variants.set(u.key, [...(variants.get(u.key) ?? []), u.value]);
  const keys = [...variants.keys()].sort();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(keys.length - 1), fc.integer({ min: -1, max: 3 }), fc.boolean()), { maxLength: 60 }), (ops) => {
      const { g, dp } = load([]);
      const store = new Map<string, unknown>();
      for (const [k, v, flush] of ops) {
        const key = keys[k]!;
        const vs = variants.get(key)!;
        const value = v < 0 ? null : vs[v % vs.length]!;
        if (value === null) store.delete(key);
        else store.set(key, value);
        g.onUpdates([{ key, value: value as Resource | null }]);
        if (flush) g.flush();
      }
      g.flush();
      const fresh = load([...store].map(([key, value]) => ({ key, value: value as Resource })));
      assert.deepEqual(plain(dp.snapshot), plain(fresh.dp.snapshot));
    }),
    { numRuns: 150, seed: 7 },
  );
});
