import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateResource } from '../../src/api/validate.js';
import { felixSettings } from '../../src/calc/felix-settings.js';
import { FlowEvaluator } from '../../src/calc/explain.js';
import { toWorkloadEndpointModel } from '../../src/calc/resource-converter.js';
import { protocolHasPorts, protocolLabel, protocolNumber } from '../../src/calc/rule-matcher.js';
import { normaliseProtocol } from '../../src/calc/rule-parser.js';
import { emptySnapshot } from '../../src/calc/snapshot.js';
import { PORT_PROTOCOLS, PROTOCOLS, protocolByName, protocolKey, protocolList, protocolNumberOf } from '../../src/net/protocols.js';

// One protocol table, and every place that knows protocols agrees with it: validation of rules,
// host-endpoint and Kubernetes ports and failsafe ports; the rule parser, matcher and explain;
// named ports; FelixConfiguration. (Validation refused ports on UDPLite while the matcher gave
// UDPLite packets ports; Kubernetes and failsafe ports had their own lists.)

const V3 = 'projectcalico.org/v3';
const issuesOf = (doc: unknown) => validateResource(doc).map((i) => `${i.path}: ${i.message}`);

test('the table: names, numbers, lower-case keys, ports, families', () => {
  assert.deepEqual(PROTOCOLS.map((p) => [p.name, p.number, p.key, p.hasPorts, p.family ?? null]), [
    ['TCP', 6, 'tcp', true, null], ['UDP', 17, 'udp', true, null], ['ICMP', 1, 'icmp', false, 4],
    ['ICMPv6', 58, 'icmpv6', false, 6], ['SCTP', 132, 'sctp', true, null], ['UDPLite', 136, 'udplite', false, null],
  ]);
  assert.equal(protocolList(PORT_PROTOCOLS), 'TCP, UDP or SCTP');
  assert.equal(protocolNumberOf('tcp'), undefined, "Calico's API spells names exactly");
  assert.equal(protocolNumberOf('tcp', { anyCase: true }), 6);
  assert.equal(protocolNumberOf('0'), undefined);
  assert.equal(protocolNumberOf('0', { min: 0 }), 0);
  assert.equal(protocolNumberOf(256), undefined);
  assert.equal(protocolKey('ICMPv6'), 'icmpv6');
  assert.equal(protocolKey(47), '47');
});

test('every consumer agrees with the table', () => {
  for (const p of PROTOCOLS) {
    // Rules: ports only where the table has them.
    const gnp = { apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name: 'p' }, spec: { ingress: [{ action: 'Allow', protocol: p.name, destination: { ports: [80] } }] } };
    const portIssues = issuesOf(gnp).filter((i) => /ports/.test(i));
    assert.equal(portIssues.length === 0, p.hasPorts, `${p.name} rule ports: ${portIssues.join('; ')}`);
    // Kubernetes NetworkPolicy ports and FelixConfiguration failsafe ports: exactly the port protocols.
    const knp = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'k', namespace: 'ns' }, spec: { podSelector: {}, ingress: [{ ports: [{ protocol: p.name, port: 80 }] }] } };
    assert.equal(issuesOf(knp).length === 0, p.hasPorts, `${p.name} Kubernetes port: ${issuesOf(knp).join('; ')}`);
    const fc = { apiVersion: V3, kind: 'FelixConfiguration', metadata: { name: 'default' }, spec: { failsafeInboundHostPorts: [{ protocol: p.name, port: 22 }] } };
    assert.equal(issuesOf(fc).length === 0, p.hasPorts, `${p.name} failsafe port: ${issuesOf(fc).join('; ')}`);
    const settings = felixSettings({ failsafeInboundHostPorts: [{ protocol: p.name, port: 22 }] }, undefined);
    assert.deepEqual(settings.failsafeInboundHostPorts.map((x) => x.protocol), p.hasPorts ? [p.key] : ['tcp', 'udp', 'tcp', 'tcp', 'tcp', 'tcp', 'tcp', 'tcp', 'tcp'], `${p.name} in settings`);
    // Parser, matcher, labels.
    assert.equal(normaliseProtocol(p.name), p.key);
    assert.equal(protocolNumber(p.name), p.number);
    assert.equal(protocolNumber(p.key), p.number);
    assert.equal(protocolLabel(p.number), p.name);
    assert.equal(protocolHasPorts(p.number), p.hasPorts, `${p.name} matcher ports`);
    // Explain builds packets with ports exactly for the port protocols.
    const ev = new FlowEvaluator(emptySnapshot());
    const a = { family: 4 as const, value: 1n, text: '10.0.0.1' };
    const pkt = ev.packet(a, { ...a, value: 2n, text: '10.0.0.2' }, { protocol: p.name, port: 80 });
    assert.equal(pkt.dstPort !== undefined, p.hasPorts, `${p.name} packet ports`);
    // Named ports on endpoints, by name in any case or by number.
    for (const written of [p.name, p.number]) {
      const wep = toWorkloadEndpointModel({ apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name: 'w', namespace: 'ns' }, spec: { ports: [{ name: 'x', protocol: written as never, port: 80 }] } });
      assert.equal(wep.ports[0]!.protocol, p.key, `${p.name} named port written as ${written}`);
    }
  }
  assert.equal(protocolByName('Tcp', { anyCase: true })?.name, 'TCP');
});
