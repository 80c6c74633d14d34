import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../../src/errors.js';
import { BgpState } from '../../src/routing/bgp-state.js';
import { buildBirdConfig } from '../../src/routing/config-builder.js';
import { durationSeconds, normaliseAs } from '../../src/routing/bgp-values.js';
import { parsePeerIP } from '../../src/routing/peer-resolver.js';
import { stateFromInput, type GoldenInput } from './bird-input.js';

// What the builder refuses before anything reaches BIRD, and the small conversions it relies on.

const V3 = 'projectcalico.org/v3';
const nodeDoc = (name: string, bgp: Record<string, unknown> | undefined, labels: Record<string, string> = {}) =>
  ({ apiVersion: V3, kind: 'Node', metadata: { name, labels }, spec: bgp ? { bgp } : {} });

function build(resources: unknown[], node = 'node-1', secrets: Record<string, string> = {}) {
  const input = { node, resources, secrets } as GoldenInput;
  return buildBirdConfig(stateFromInput(input), node, { secrets: (n, k) => secrets[`${n}/${k}`] });
}

function refused(resources: unknown[], node = 'node-1'): string[] {
  try {
    build(resources, node);
  } catch (e) {
    assert.ok(e instanceof ValidationError);
    return e.issues.map((i) => i.message);
  }
  assert.fail('expected the configuration to be refused');
}

const TWO = [nodeDoc('node-1', { ipv4Address: '10.0.0.1/24' }), nodeDoc('node-2', { ipv4Address: '10.0.0.2/24' })];

test('refusals name what is wrong, all at once', () => {
  assert.deepEqual(refused([nodeDoc('node-1', { ipv4Address: '10.0.0.1/24' }), nodeDoc('node-2', { ipv4Address: '10.0.0.1/24' })]),
    ['duplicate router ID 10.0.0.1: node node-1 and node node-2 would both use it']);
  assert.deepEqual(refused([nodeDoc('node-1', { ipv4Address: '10.0.0.1/24', asNumber: 0 }), nodeDoc('node-2', { ipv4Address: '10.0.0.2/24', asNumber: 23456 })]), [
    'node node-1 asNumber: AS number "0" is not valid (1-4294967295 or dotted a.b)',
    'node node-2 asNumber: AS number 23456 is AS_TRANS, reserved for 4-byte AS translation',
  ]);
  assert.deepEqual(refused([...TWO,
    { apiVersion: V3, kind: 'BGPPeer', metadata: { name: 'me' }, spec: { peerIP: '10.0.0.1:179', asNumber: 64512 } },
    { apiVersion: V3, kind: 'BGPPeer', metadata: { name: 'ghost' }, spec: { peerIP: '10.0.0.9', asNumber: 65000, filters: ['nope'], password: { secretKeyRef: { name: 's', key: 'k' } }, maxRestartTime: 'soon' } },
  ]), [
    'BGPPeer ghost password: secret s/k not found',
    'BGPPeer ghost maxRestartTime: "soon" is not a duration (e.g. 120s, 2m)',
    'BGPPeer ghost uses BGPFilter "nope", which does not exist',
    "BGPPeer me: peerIP 10.0.0.1 is node node-1's own address; a node cannot peer with itself",
  ]);
  assert.deepEqual(refused([nodeDoc('node-1', {})]), ['node node-1 has spec.bgp but neither bgp.ipv4Address nor bgp.ipv6Address']);
});

test('the error message says BIRD keeps its previous configuration', () => {
  assert.throws(() => build([nodeDoc('node-1', { ipv4Address: '10.0.0.1/24', asNumber: -1 })]), /^ValidationError: BGP configuration for node node-1 refused \(BIRD keeps its previous configuration\): node node-1 asNumber/);
});

test('a node without spec.bgp runs no BIRD; a peer of a family the node lacks is skipped', () => {
  assert.equal(build([nodeDoc('node-1', undefined)]), undefined);
  const cfg = build([...TWO, { apiVersion: V3, kind: 'BGPPeer', metadata: { name: 'v6' }, spec: { peerIP: 'fd00::9', asNumber: 65000 } }]);
  assert.deepEqual(cfg?.peers.map((p) => p.name), ['Mesh_10_0_0_2']);
});

test('mesh sessions: one side passive, route reflectors left out of the mesh, per-node AS', () => {
  const cfg = build([...TWO, nodeDoc('node-3', { ipv4Address: '10.0.0.3/24', asNumber: '1.10' }), nodeDoc('rr', { ipv4Address: '10.0.0.0/24', routeReflectorClusterID: '1.1.1.1' })], 'node-2')!;
  assert.deepEqual(cfg.peers.map((p) => [p.name, p.asNumber, p.passive, p.internal]), [['Mesh_10_0_0_1', '64512', false, true], ['Mesh_10_0_0_3', '65546', true, false]]);
});

test('BgpState ignores unrelated keys and other nodes\' affinities, and reports changes once', () => {
  const s = new BgpState('node-1');
  s.onUpdate({ key: '/brindle/ipam/v2/host/node-2/ipv4/block/10-0-0-0-26', value: { state: 'confirmed', node: 'node-2', cidr: '10.0.0.0/26' } });
  s.onUpdate({ key: '/brindle/v3/networkpolicies/default/p', value: { spec: {} } });
  assert.equal(s.takeChanged(), false);
  s.onUpdate({ key: '/brindle/ipam/v2/host/node-1/ipv4/block/10-0-1-0-26', value: '{"state":"confirmed","node":"node-1","cidr":"10.0.1.0/26"}' });
  assert.equal(s.takeChanged(), true);
  assert.equal(s.takeChanged(), false);
  s.onUpdate({ key: '/brindle/ipam/v2/host/node-1/ipv4/block/10-0-1-0-26', value: { state: 'confirmed', node: 'node-1', cidr: '10.0.1.0/26' } });
  assert.equal(s.takeChanged(), false, 'the same value again is no change');
  s.onUpdate({ key: '/brindle/ipam/v2/host/node-1/ipv4/block/10-0-1-0-26', value: null });
  assert.equal(s.affinities.size, 0);
});

test('conversions: AS numbers, durations, peer addresses', () => {
  const errors: string[] = [];
  assert.deepEqual([normaliseAs(64512, 'x', errors), normaliseAs('65000', 'x', errors), normaliseAs('1.0', 'x', errors)], ['64512', '65000', '65536']);
  assert.deepEqual(errors, []);
  assert.deepEqual([durationSeconds('90s', 'x', errors), durationSeconds('2m', 'x', errors), durationSeconds('1h30m', 'x', errors), durationSeconds('1500ms', 'x', errors)], [90, 120, 5400, 2]);
  assert.equal(durationSeconds('2 minutes', 'x', errors), undefined);
  assert.deepEqual(parsePeerIP('[fd00::1]:1179'), { ip: 'fd00::1', family: 6, port: 1179 });
  assert.deepEqual(parsePeerIP('10.0.0.1:179'), { ip: '10.0.0.1', family: 4, port: 179 });
  assert.equal(parsePeerIP('10.0.0.1:0'), undefined);
});
