import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asSeconds, DEFAULT_FAILSAFE_INBOUND, DEFAULT_FAILSAFE_OUTBOUND, felixSettings } from '../../src/calc/felix-settings.js';

// FelixConfiguration merging as Felix does it: per-node over global over Calico's defaults, per
// field; unreadable values fall back to the next source.

test("Calico's defaults when nothing is configured", () => {
  const s = felixSettings(undefined, undefined);
  assert.equal(s.defaultEndpointToHostAction, 'Drop');
  assert.equal(s.logPrefix, 'calico-packet');
  assert.deepEqual(s.failsafeInboundHostPorts.map((p) => `${p.protocol}:${p.port}`).join(', '), 'tcp:22, udp:68, tcp:179, tcp:2379, tcp:2380, tcp:5473, tcp:6443, tcp:6666, tcp:6667');
  assert.deepEqual(s.failsafeOutboundHostPorts.map((p) => `${p.protocol}:${p.port}`).join(', '), 'udp:53, udp:67, tcp:179, tcp:2379, tcp:2380, tcp:5473, tcp:6443, tcp:6666, tcp:6667');
  assert.equal(s.vxlanEnabled, undefined, 'automatic');
  assert.deepEqual([s.vxlanPort, s.vxlanVNI, s.vxlanMTU], [4789, 4096, 0]);
  assert.deepEqual([s.filterAllowAction, s.mangleAllowAction, s.filterDenyAction], ['Accept', 'Accept', 'Drop']);
  assert.deepEqual([s.routeRefreshIntervalSeconds, s.tablesRefreshIntervalSeconds, s.ipsetsRefreshIntervalSeconds], [90, 180, 90]);
  assert.deepEqual(s.interfacePrefixes, ['cali']);
  s.failsafeInboundHostPorts.push({ protocol: 'tcp', port: 1 });
  assert.equal(DEFAULT_FAILSAFE_INBOUND.length, 9, 'the defaults are copied, never shared');
  assert.equal(DEFAULT_FAILSAFE_OUTBOUND.length, 9);
});

test('per-node fields win, field by field; lists replace (an empty list too); bad values fall back', () => {
  const s = felixSettings(
    { defaultEndpointToHostAction: 'accept', failsafeInboundHostPorts: [{ port: 22 }], interfacePrefix: 'cali,tap', vxlanEnabled: true, nftablesFilterAllowAction: 'Return', iptablesFilterAllowAction: 'Accept', custom: 1 },
    { failsafeInboundHostPorts: [], vxlanEnabled: 'yes', routeRefreshInterval: '1m30s', iptablesRefreshInterval: '500ms', defaultEndpointToHostAction: 'Maybe', custom: 2 },
  );
  assert.equal(s.defaultEndpointToHostAction, 'Accept', 'an unknown per-node value falls back to the global one (enum case-insensitive)');
  assert.deepEqual(s.failsafeInboundHostPorts, []);
  assert.deepEqual(s.interfacePrefixes, ['cali', 'tap']);
  assert.equal(s.vxlanEnabled, true);
  assert.equal(s.filterAllowAction, 'Return', 'nftables* before iptables*');
  assert.equal(s.routeRefreshIntervalSeconds, 90);
  assert.equal(s.tablesRefreshIntervalSeconds, 0.5);
  assert.equal(s.raw['custom'], 2);
  assert.deepEqual(felixSettings({ failsafeOutboundHostPorts: [{ protocol: 'ICMP', port: 1 }] }, undefined).failsafeOutboundHostPorts.length, 9, 'an unreadable list is ignored whole');
});

test('durations as Calico writes them', () => {
  assert.equal(asSeconds('90s'), 90);
  assert.equal(asSeconds('1h2m3s'), 3723);
  assert.equal(asSeconds('250ms'), 0.25);
  assert.equal(asSeconds('0'), 0);
  assert.equal(asSeconds(12), 12);
  for (const bad of ['', '10', '5x', 's', '-1s', '1s junk', -3]) assert.equal(asSeconds(bad), undefined, String(bad));
});
