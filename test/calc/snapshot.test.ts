import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CalculationGraph } from '../../src/calc/graph.js';
import { computeSnapshot, ContractViolationError, keyOf, SnapshotDataplane } from '../../src/calc/snapshot.js';
import type { ActivePolicy, EndpointState } from '../../src/calc/types.js';
import { felixSettings } from '../../src/calc/felix-settings.js';
import { felixConfig, gnp, node, np, pool, profile, wep } from './state-builders.js';

// The fake dataplane must catch every ordering-contract violation, or the state tests prove nothing.

const POLICY: ActivePolicy = {
  key: 'default/_/p', identity: { kind: 'GlobalNetworkPolicy', tier: 'default', name: 'p' },
  inbound: [{ action: 'allow', index: 0, text: '{action: Allow}', src: { ipSetIds: ['s:set'] } }], outbound: [],
};
const ENDPOINT: EndpointState = {
  id: 'wep:ns/w', kind: 'workload', name: 'w', namespace: 'ns', node: 'n', ipv4Nets: [], ipv6Nets: [], profileIds: ['prof'],
  tiers: [{ name: 'default', defaultAction: 'Deny', ingressPolicies: ['default/_/p'], egressPolicies: [] }],
};

const SETTINGS = felixSettings(undefined, undefined);

/** A dataplane past the start of its first batch (settings received), unless `fresh`. */
function violates(f: (dp: SnapshotDataplane) => void, pattern: RegExp, fresh = false): void {
  const dp = new SnapshotDataplane();
  if (!fresh) dp.onConfigUpdate(SETTINGS);
  assert.throws(() => f(dp), (err: unknown) => err instanceof ContractViolationError && pattern.test(err.message));
}

test('SnapshotDataplane rejects contract violations', () => {
  violates((dp) => dp.onIpSetMemberAdded('s:x', '10.0.0.1/32'), /unknown IP set s:x/);
  violates((dp) => { dp.onIpSetAdded('s:x', 'net'); dp.onIpSetAdded('s:x', 'net'); }, /added twice/);
  violates((dp) => { dp.onIpSetAdded('s:x', 'net'); dp.onIpSetMemberAdded('s:x', 'm'); dp.onIpSetMemberAdded('s:x', 'm'); }, /member m added twice/);
  violates((dp) => { dp.onIpSetAdded('s:x', 'net'); dp.onIpSetMemberRemoved('s:x', 'm'); }, /was not in it/);
  violates((dp) => dp.onIpSetRemoved('s:x'), /unknown IP set/);
  violates((dp) => dp.onPolicyActive(POLICY), /references IP set s:set, which was never added/);
  violates((dp) => { dp.onIpSetAdded('s:set', 'net'); dp.onPolicyActive(POLICY); dp.onIpSetRemoved('s:set'); }, /still used by policy default\/_\/p/);
  violates((dp) => dp.onEndpointUpdate(ENDPOINT), /uses policy default\/_\/p, which is not active/);
  violates((dp) => {
    dp.onIpSetAdded('s:set', 'net');
    dp.onPolicyActive(POLICY);
    dp.onEndpointUpdate(ENDPOINT);
  }, /lists profile prof, which is not active/);
  violates((dp) => {
    dp.onIpSetAdded('s:set', 'net');
    dp.onPolicyActive(POLICY);
    dp.onProfileActive({ name: 'prof', inbound: [], outbound: [] });
    dp.onEndpointUpdate(ENDPOINT);
    dp.onPolicyInactive('default/_/p');
  }, /made inactive while endpoint wep:ns\/w still uses it/);
  violates((dp) => dp.onPolicyInactive('default/_/p'), /unknown policy/);
  violates((dp) => dp.onProfileInactive('prof'), /unknown profile/);
  violates((dp) => dp.onEndpointRemoved('wep:ns/w'), /unknown endpoint/);
  violates((dp) => { dp.onInSync(); dp.onInSync(); }, /in-sync reported twice/);
  // Batches, settings, staged policies, host IPs, pools, repeats.
  violates((dp) => dp.onIpSetAdded('s:x', 'net'), /first batch begins with ipset\+ s:x, not with the settings/, true);
  violates((dp) => dp.onInSync(), /first batch begins with in-sync/, true);
  violates((dp) => dp.onBatchComplete(), /empty batch/, true);
  violates((dp) => { dp.onBatchComplete(); dp.onBatchComplete(); }, /empty batch/);
  violates((dp) => dp.onConfigUpdate(SETTINGS), /settings sent again unchanged/);
  violates((dp) => dp.onPolicyActive({ ...POLICY, inbound: [], identity: { ...POLICY.identity, kind: 'StagedGlobalNetworkPolicy' } }), /is not marked staged/);
  violates((dp) => dp.onPolicyActive({ ...POLICY, inbound: [], staged: true }), /of kind GlobalNetworkPolicy is marked staged/);
  violates((dp) => dp.onPolicyActive({ ...POLICY, inbound: [], staged: true, identity: { ...POLICY.identity, kind: 'StagedGlobalNetworkPolicy' } }), /staged policies, and only they, have keys named staged:/);
  violates((dp) => { dp.onPolicyActive({ ...POLICY, inbound: [] }); dp.onPolicyActive({ ...POLICY, inbound: [] }); }, /policy default\/_\/p sent again unchanged/);
  violates((dp) => dp.onHostIpUpdate({ node: 'n' }), /without any address/);
  violates((dp) => dp.onHostIpRemoved('n'), /unknown host IPs of n removed/);
  violates((dp) => dp.onIpPoolRemoved('p'), /unknown pool p removed/);
  violates((dp) => {
    const pool = { name: 'p', cidr: '10.0.0.0/16', family: 4 as const, natOutgoing: false, vxlanMode: 'Never' as const, ipipMode: 'Never' as const, disabled: false };
    dp.onIpPoolUpdate(pool);
    dp.onIpPoolUpdate({ ...pool });
  }, /pool p sent again unchanged/);
});

test('every flush that sends something is one batch; in-sync comes inside the first complete one', () => {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  const w = wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'] });
  g.onUpdates([{ key: keyOf(w), value: w }]);
  g.flush();
  assert.equal(dp.batches, 1);
  assert.equal(dp.log[0], 'config');
  assert.equal(dp.snapshot.inSync, false);
  g.flush(); // nothing changed: no batch at all
  assert.equal(dp.batches, 1);
  g.onUpdates([{ key: keyOf(profile('kns.ns1')), value: profile('kns.ns1') }]);
  g.onInSync();
  assert.equal(dp.batches, 2);
  assert.deepEqual(dp.log.slice(-2), ['in-sync', 'batch']);
  g.onInSync(); // in-sync again with nothing new: nothing sent
  assert.equal(dp.batches, 2);
  // A label change that moves no policy sends nothing: labels are not part of the stream…
  const relabelled = wep('ns1', 'w1', { app: 'web', extra: 'x' }, { ips: ['10.0.0.1/32'] });
  g.onUpdates([{ key: keyOf(w), value: relabelled }]);
  g.flush();
  assert.equal(dp.batches, 2);
  // …but the graph's model still has them.
  assert.equal(g.endpointLabels('wep:ns1/w1')?.['extra'], 'x');
});

test('settings follow FelixConfiguration default and node.<name>, per field, per-node first', () => {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  const glob = felixConfig('default', { defaultEndpointToHostAction: 'Accept', logPrefix: 'g' });
  const mine = felixConfig('node.node1', { logPrefix: 'n1' });
  const other = felixConfig('node.node2', { logPrefix: 'n2', defaultEndpointToHostAction: 'Return' });
  g.onUpdates([glob, mine, other].map((r) => ({ key: keyOf(r), value: r })));
  g.onInSync();
  assert.equal(dp.snapshot.config?.logPrefix, 'n1');
  assert.equal(dp.snapshot.config?.defaultEndpointToHostAction, 'Accept');
  assert.deepEqual(dp.snapshot.config?.failsafeOutboundHostPorts, SETTINGS.failsafeOutboundHostPorts);
  g.onUpdates([{ key: keyOf(mine), value: null }]);
  g.flush();
  assert.equal(dp.snapshot.config?.logPrefix, 'g');
  g.onUpdates([{ key: keyOf(other), value: felixConfig('node.node2', { logPrefix: 'changed' }) }]);
  const before = dp.batches;
  g.flush();
  assert.equal(dp.batches, before, 'another node\'s FelixConfiguration changes nothing here');
  g.onUpdates([{ key: keyOf(glob), value: null }]);
  g.flush();
  assert.deepEqual(dp.snapshot.config, SETTINGS);
});

test('output comes in dependency order: sets, policies, profiles, endpoints, routes up; the reverse down', () => {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  const res = [
    wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'] }), profile('kns.ns1'),
    np('ns1', 'p', { selector: "app == 'web'", ingress: [{ action: 'Allow', source: { selector: "app == 'db'" } }] }),
  ];
  g.onUpdates(res.map((r) => ({ key: keyOf(r), value: r })));
  g.onInSync();
  assert.deepEqual(dp.log.map((l) => l.split(' ')[0]), ['config', 'ipset+', 'policy+', 'profile+', 'endpoint', 'route', 'in-sync', 'batch']);
  dp.log.length = 0;
  g.onUpdates(res.map((r) => ({ key: keyOf(r), value: null })));
  g.flush();
  assert.deepEqual(dp.log.map((l) => l.split(' ')[0]), ['route-', 'endpoint-', 'policy-', 'profile-', 'ipset-', 'batch']);
  assert.equal(dp.snapshot.inSync, true);
});

test('nothing is re-sent when an update changes nothing', () => {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  const res = [wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'] }), profile('kns.ns1'), gnp('p', { selector: 'all()' })];
  g.onUpdates(res.map((r) => ({ key: keyOf(r), value: r })));
  g.onInSync();
  dp.log.length = 0;
  g.onUpdates(res.map((r) => ({ key: keyOf(r), value: structuredClone(r) })));
  g.flush();
  assert.deepEqual(dp.log, []);
});

test('a change and its revert between flushes sends nothing', () => {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  const w = wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'] });
  const res = [w, profile('kns.ns1'), gnp('p', { selector: "app == 'web'", ingress: [{ action: 'Allow', source: { selector: 'has(app)' } }] })];
  g.onUpdates(res.map((r) => ({ key: keyOf(r), value: r })));
  g.onInSync();
  dp.log.length = 0;
  const changed = wep('ns1', 'w1', { app: 'other' }, { ips: ['10.0.0.9/32'] });
  g.onUpdates([{ key: keyOf(w), value: changed }, { key: keyOf(w), value: w }]);
  g.flush();
  assert.deepEqual(dp.log, []);
});

test('malformed values are treated as absent, malformed rules fail closed', () => {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  const w = wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'] });
  const bad = gnp('bad-rules', { selector: 'all()', ingress: [null, { action: 'Allow', source: { ports: 'http' } }] });
  g.onUpdates([
    { key: keyOf(w), value: w },
    { key: keyOf(profile('kns.ns1')), value: profile('kns.ns1') },
    { key: '/brindle/v3/globalnetworkpolicies/_cluster/no-metadata', value: { kind: 'GlobalNetworkPolicy' } as never },
    { key: '/brindle/v3/tiers/_cluster/junk', value: 'junk' as never },
    { key: keyOf(bad), value: bad },
    { key: '/brindle/ipam/v2/handle/x', value: { whatever: true } as never },
  ]);
  g.onInSync();
  assert.deepEqual([...dp.snapshot.policies.values()].map((p) => [p.key, p.failClosed, p.inbound.length]), [['default/_/bad-rules', true, 0]]);
  assert.deepEqual(dp.snapshot.endpoints.get('wep:ns1/w1')?.tiers.map((t) => t.ingressPolicies), [['default/_/bad-rules']]);
});

test('rules with values of the wrong type fail closed: never crash the graph, never widen the rule', () => {
  const w = wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'] });
  const rules: unknown[] = [
    { action: 'Allow', protocol: {} }, // used to throw out of the graph
    { action: 'Allow', protocol: 'ICMP', icmp: { type: 'echo' } }, // used to allow every ICMP type
    { action: 'Allow', source: { namespaceSelector: 7 } }, // used to allow every source
    { action: 'Allow', source: { serviceAccounts: { names: 'frontend' } } }, // likewise
    { action: 'Allow', source: { serviceAccounts: { selector: 'role ==' } } }, // likewise
  ];
  for (const r of rules) {
    const bad = np('ns1', 'bad', { selector: 'all()', types: ['Ingress'], ingress: [r] });
    const s = computeSnapshot([w, profile('kns.ns1'), bad], { hostname: 'node1' });
    assert.deepEqual([...s.policies.values()].map((p) => [p.key, p.failClosed, p.inbound.length]), [['default/ns1/bad', true, 0]], JSON.stringify(r));
  }
});

test('host IPs and pools come after endpoints and before VTEPs and routes; removed in the reverse order', () => {
  const dp = new SnapshotDataplane();
  const g = new CalculationGraph({ hostname: 'node1' }, dp);
  const res = [
    wep('ns1', 'w1', { app: 'web' }, { ips: ['10.0.0.1/32'] }), profile('kns.ns1'),
    node('node2', { bgp: { ipv4Address: '192.168.1.2/24' }, ipv4VXLANTunnelAddr: '10.0.9.1' }),
    pool('p', { cidr: '10.0.0.0/16', vxlanMode: 'Always' }),
  ];
  g.onUpdates(res.map((r) => ({ key: keyOf(r), value: r })));
  g.onInSync();
  const kinds = (log: string[]) => [...new Set(log.map((l) => l.split(' ')[0]))];
  assert.deepEqual(kinds(dp.log), ['config', 'profile+', 'endpoint', 'hostip', 'pool', 'vtep', 'route', 'in-sync', 'batch']);
  dp.log.length = 0;
  g.onUpdates(res.map((r) => ({ key: keyOf(r), value: null })));
  g.flush();
  assert.deepEqual(kinds(dp.log), ['route-', 'vtep-', 'pool-', 'hostip-', 'endpoint-', 'profile-', 'batch']);
});
