import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowEvaluator, type DirectionTrace, type FlowExplanation, type FlowSpec } from '../../src/calc/explain.js';
import { renderExplanation } from '../../src/calc/explain-text.js';
import type { ActivePolicy, ActiveProfile, CalcSnapshot, EndpointState, ParsedRule, TierInfo } from '../../src/calc/types.js';

// Hand-made CalcSnapshots (the contract of src/calc/types.ts), so the evaluator is checked on its
// own, independent of how the calculation graph builds them.

function rule(action: ParsedRule['action'], index: number, extra: Partial<ParsedRule> = {}): ParsedRule {
  return { action, index, text: `${action} #${index}`, ...extra };
}

function policy(key: string, inbound: ParsedRule[], outbound: ParsedRule[] = [], extra: Partial<ActivePolicy> = {}): ActivePolicy {
  const [tier, ns, name] = key.split('/') as [string, string, string];
  return { key, identity: { kind: 'NetworkPolicy', tier, name, ...(ns !== '_' ? { namespace: ns } : {}) }, inbound, outbound, ...extra };
}

function tier(name: string, ingress: string[], egress: string[] = [], defaultAction: 'Deny' | 'Pass' = 'Deny'): TierInfo {
  return { name, defaultAction, ingressPolicies: ingress, egressPolicies: egress };
}

function wep(ns: string, name: string, ip: string, tiers: TierInfo[], profileIds = ['allow-all']): EndpointState {
  return { id: `wep:${ns}/${name}`, kind: 'workload', name, namespace: ns, node: 'n1', ipv4Nets: [`${ip}/32`], ipv6Nets: [], profileIds, tiers };
}

function snapshot(eps: EndpointState[], policies: ActivePolicy[], ipSets: Record<string, { type: 'ip' | 'net' | 'ip-and-port'; members: string[] }> = {}, profiles: ActiveProfile[] = [ALLOW_ALL]): CalcSnapshot {
  return {
    ipSets: new Map(Object.entries(ipSets).map(([k, v]) => [k, { type: v.type, members: new Set(v.members) }])),
    policies: new Map(policies.map((p) => [p.key, p])),
    profiles: new Map(profiles.map((p) => [p.name, p])),
    endpoints: new Map(eps.map((e) => [e.id, e])),
    routes: new Map(),
    vteps: new Map(),
    hostIps: new Map(),
    pools: new Map(),
    config: undefined,
    labels: new Map(),
    inSync: true,
  };
}

const ALLOW_ALL: ActiveProfile = { name: 'allow-all', inbound: [rule('allow', 0)], outbound: [rule('allow', 0)] };
const TCP80: FlowSpec = { protocol: 'TCP', port: 80 };

function explain(s: CalcSnapshot, from: string, to: string, flow = TCP80): FlowExplanation {
  const ev = new FlowEvaluator(s);
  const peer = (r: string) => {
    const ep = ev.findEndpoint(r);
    return ep ? { endpoint: ep } : { ip: r };
  };
  return ev.explain(peer(from), peer(to), flow);
}

function ingressOf(x: FlowExplanation): DirectionTrace {
  assert.ok(x.ingress.evaluated, 'ingress should have been evaluated');
  return x.ingress;
}

describe('FlowEvaluator', () => {
  test('no tiers: the profile decides', () => {
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), wep('x', 'b', '10.0.0.2', [])], []);
    const x = explain(s, 'x/a', 'x/b');
    assert.equal(x.verdict, 'allow');
    assert.match(ingressOf(x).decision, /rule 0 of profile allow-all: allow/);
  });

  test('end of tier denies when no policy matches', () => {
    const t = tier('default', ['default/x/deny-all']);
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), wep('x', 'b', '10.0.0.2', [t])], [policy('default/x/deny-all', [])]);
    const x = explain(s, 'x/a', 'x/b');
    assert.equal(x.verdict, 'deny');
    const ing = ingressOf(x);
    assert.equal(ing.tiers[0]!.outcome, 'end-of-tier-deny');
    assert.equal(ing.tiers[0]!.policies[0]!.outcome, 'no-match');
    assert.match(ing.decision, /end of tier/);
  });

  test('Pass skips to the next tier; an allow there wins', () => {
    const admin = tier('admin', ['admin/_/pass-all']);
    const dflt = tier('default', ['default/x/allow-b']);
    const src = { src: { ipSetIds: ['s:b'] } };
    const s = snapshot(
      [wep('x', 'a', '10.0.0.1', []), wep('x', 'b', '10.0.0.2', []), wep('x', 'c', '10.0.0.3', [admin, dflt])],
      [policy('admin/_/pass-all', [rule('pass', 0)]), policy('default/x/allow-b', [rule('allow', 0, src)])],
      { 's:b': { type: 'ip', members: ['10.0.0.2'] } },
    );
    assert.equal(explain(s, 'x/b', 'x/c').verdict, 'allow');
    const denied = explain(s, 'x/a', 'x/c');
    assert.equal(denied.verdict, 'deny');
    const ing = ingressOf(denied);
    assert.deepEqual(ing.tiers.map((t) => t.outcome), ['pass', 'end-of-tier-deny']);
    assert.equal(ing.tiers[1]!.policies[0]!.misses[0]!.reason, "source does not match the rule's source selector");
  });

  test('tier default action Pass falls through to the profile', () => {
    const t = tier('soft', ['soft/_/nothing'], [], 'Pass');
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), wep('x', 'b', '10.0.0.2', [t])], [policy('soft/_/nothing', [rule('deny', 0, { protocol: 'udp' })])]);
    const x = explain(s, 'x/a', 'x/b');
    assert.equal(x.verdict, 'allow');
    assert.equal(ingressOf(x).tiers[0]!.outcome, 'end-of-tier-pass');
    assert.deepEqual(ingressOf(x).profiles.map((p) => p.outcome), ['allow']);
  });

  test('staged policies are ignored and a tier of only staged policies does not drop', () => {
    const t = tier('default', ['default/x/staged-deny']);
    const staged = policy('default/x/staged-deny', [rule('deny', 0)], [], { identity: { kind: 'StagedNetworkPolicy', tier: 'default', name: 'staged-deny', namespace: 'x' } });
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), wep('x', 'b', '10.0.0.2', [t])], [staged]);
    const x = explain(s, 'x/a', 'x/b');
    assert.equal(x.verdict, 'allow');
    assert.equal(ingressOf(x).tiers[0]!.policies[0]!.outcome, 'staged');
  });

  test('log rules continue; later deny decides', () => {
    const t = tier('default', ['default/x/p']);
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), wep('x', 'b', '10.0.0.2', [t])], [policy('default/x/p', [rule('log', 0), rule('deny', 1)])]);
    const x = explain(s, 'x/a', 'x/b');
    assert.equal(x.verdict, 'deny');
    const p = ingressOf(x).tiers[0]!.policies[0]!;
    assert.deepEqual(p.logged.map((l) => l.index), [0]);
    assert.equal(p.rule!.index, 1);
  });

  test('missing policy and missing profile fail closed', () => {
    const t = tier('default', ['default/x/gone']);
    const s = snapshot([wep('x', 'a', '10.0.0.1', [], ['nope']), wep('x', 'b', '10.0.0.2', [t])], []);
    const x = explain(s, 'x/a', 'x/b');
    assert.equal(x.verdict, 'deny');
    assert.ok(x.egress.evaluated && x.egress.profiles[0]!.outcome === 'fail-closed');
    assert.equal(ingressOf(x).tiers[0]!.policies[0]!.outcome, 'fail-closed');
  });

  test('no profile and no policy denies (host endpoint with nothing applied)', () => {
    const hep: EndpointState = { id: 'hep:n1-eth0', kind: 'host', name: 'n1-eth0', node: 'n1', ipv4Nets: ['192.168.1.10'], ipv6Nets: [], profileIds: [], tiers: [] };
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), hep], []);
    const x = explain(s, 'x/a', 'n1-eth0');
    assert.equal(x.verdict, 'deny');
    assert.match(ingressOf(x).decision, /no profile/);
  });

  test('a host endpoint\'s pre-DNAT and untracked policies are named as not evaluated, never silently left out', () => {
    const normal = tier('default', ['default/_/allow-in'], ['default/_/allow-in']);
    const hep: EndpointState = {
      id: 'hep:n1-eth0', kind: 'host', name: 'n1-eth0', node: 'n1', ipv4Nets: ['192.168.1.10'], ipv6Nets: [], profileIds: [], tiers: [normal],
      preDNATTiers: [tier('default', ['default/_/nodeports'])], untrackedTiers: [tier('default', [], ['default/_/raw-out'])], forwardTiers: [],
    };
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), hep], [policy('default/_/allow-in', [rule('allow', 0)], [rule('allow', 0)])]);
    const x = explain(s, 'x/a', 'n1-eth0');
    assert.equal(x.verdict, 'allow');
    assert.deepEqual(ingressOf(x).notEvaluated, ['pre-DNAT policy default/_/nodeports']);
    assert.match(renderExplanation(x), /note: pre-DNAT policy default\/_\/nodeports also applies to this host endpoint and is not evaluated here/);
    const out = new FlowEvaluator(s).explain({ endpoint: hep }, { ip: '8.8.8.8' }, TCP80);
    assert.ok(out.egress.evaluated);
    assert.deepEqual(out.egress.notEvaluated, ['untracked (doNotTrack) policy default/_/raw-out']);
    assert.equal(ingressOf(explain(snapshot([wep('x', 'a', '10.0.0.1', []), { ...hep, preDNATTiers: [], untrackedTiers: [] }], [policy('default/_/allow-in', [rule('allow', 0)])]), 'x/a', 'n1-eth0')).notEvaluated, undefined);
  });

  test('a host reaching its own workloads is not policed (as Felix); other nodes\' workloads are', () => {
    const denyAll = tier('default', ['default/_/deny-all'], ['default/_/deny-all']);
    const hep: EndpointState = { id: 'hep:n1-eth0', kind: 'host', name: 'n1-eth0', node: 'n1', ipv4Nets: ['192.168.1.10/32'], ipv6Nets: [], profileIds: [], tiers: [denyAll] };
    const local = wep('x', 'a', '10.0.0.1', [denyAll]);
    const remote: EndpointState = { ...wep('x', 'b', '10.0.0.2', [denyAll]), node: 'n2' };
    const s = snapshot([hep, local, remote], [policy('default/_/deny-all', [], [])]);
    const x = explain(s, 'n1-eth0', 'x/a');
    assert.equal(x.verdict, 'allow');
    assert.equal(x.egress.evaluated, false);
    assert.equal(x.ingress.evaluated, false);
    assert.match(renderExplanation(x), /not evaluated \(traffic from host n1 to its own workload x\/a is not policed/);
    const y = explain(s, 'n1-eth0', 'x/b');
    assert.equal(y.verdict, 'deny');
    assert.ok(y.egress.evaluated && y.ingress.evaluated);
    // The other way round (workload to its host) is policed by the workload's egress.
    assert.equal(explain(s, 'x/a', 'n1-eth0').verdict, 'deny');
  });

  test('bare IP destination: only the source egress is evaluated, nets and notNets by containment', () => {
    const t = tier('default', [], ['default/x/egress']);
    const s = snapshot([wep('x', 'a', '10.0.0.1', [t])], [policy('default/x/egress', [], [rule('allow', 0, { dst: { nets: ['8.8.0.0/16'], notNets: ['8.8.4.0/24'] } })])]);
    const ok = explain(s, 'x/a', '8.8.8.8');
    assert.equal(ok.verdict, 'allow');
    assert.equal(ok.ingress.evaluated, false);
    assert.equal(explain(s, 'x/a', '8.8.4.4').verdict, 'deny');
    assert.equal(explain(s, 'x/a', '9.9.9.9').verdict, 'deny');
  });

  test('net IP sets match by containment (network sets)', () => {
    const t = tier('default', [], ['default/x/to-set']);
    const s = snapshot([wep('x', 'a', '10.0.0.1', [t])], [policy('default/x/to-set', [], [rule('allow', 0, { dst: { ipSetIds: ['s:ns'] } })])], { 's:ns': { type: 'net', members: ['172.16.0.0/12'] } });
    assert.equal(explain(s, 'x/a', '172.20.1.1').verdict, 'allow');
    assert.equal(explain(s, 'x/a', '172.32.0.1').verdict, 'deny');
  });

  test('named ports are ORed with numeric ports and keyed by address and protocol', () => {
    const t = tier('default', ['default/x/named']);
    const r = rule('allow', 0, { protocol: 'tcp', dst: { ports: [{ first: 443, last: 443 }], namedPortIpSetIds: ['n:serve'] } });
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), wep('x', 'b', '10.0.0.2', [t])], [policy('default/x/named', [r])], { 'n:serve': { type: 'ip-and-port', members: ['10.0.0.2,tcp:8080'] } });
    assert.equal(explain(s, 'x/a', 'x/b', { protocol: 'TCP', port: 8080 }).verdict, 'allow');
    assert.equal(explain(s, 'x/a', 'x/b', { protocol: 'TCP', port: 443 }).verdict, 'allow');
    assert.equal(explain(s, 'x/a', 'x/b', { protocol: 'TCP', port: 80 }).verdict, 'deny');
    assert.equal(explain(s, 'x/a', 'x/b', { protocol: 'UDP', port: 8080 }).verdict, 'deny');
  });

  test('port ranges, notPorts, protocol numbers and ICMP', () => {
    const t = tier('default', ['default/x/p']);
    const rules = [
      rule('deny', 0, { protocol: 'tcp', dst: { notPorts: [{ first: 1, last: 1000 }] } }),
      rule('allow', 1, { protocol: '6', dst: { ports: [{ first: 80, last: 90 }] } }),
      rule('allow', 2, { protocol: 'icmp', icmp: { type: 8 } }),
    ];
    const s = snapshot([wep('x', 'a', '10.0.0.1', []), wep('x', 'b', '10.0.0.2', [t])], [policy('default/x/p', rules)]);
    assert.equal(explain(s, 'x/a', 'x/b', { protocol: 'TCP', port: 85 }).verdict, 'allow');
    assert.equal(explain(s, 'x/a', 'x/b', { protocol: 'TCP', port: 91 }).verdict, 'deny');
    const high = explain(s, 'x/a', 'x/b', { protocol: 'TCP', port: 5000 });
    assert.equal(ingressOf(high).tiers[0]!.policies[0]!.rule!.index, 0);
    assert.equal(explain(s, 'x/a', 'x/b', { protocol: 'ICMP' }).verdict, 'allow');
    assert.equal(explain(s, 'x/a', 'x/b', { protocol: 'ICMP', icmpType: 0 }).verdict, 'deny');
  });

  test('egress denial and ingress are both reported', () => {
    const e = tier('default', [], ['default/x/no-egress']);
    const s = snapshot([wep('x', 'a', '10.0.0.1', [e]), wep('x', 'b', '10.0.0.2', [])], [policy('default/x/no-egress', [], [])]);
    const x = explain(s, 'x/a', 'x/b');
    assert.equal(x.verdict, 'deny');
    assert.ok(x.egress.evaluated && x.egress.verdict === 'deny');
    assert.equal(ingressOf(x).verdict, 'allow');
    assert.deepEqual(x.flow, { from: 'x/a', to: 'x/b', protocol: 'TCP', port: 80, family: 4, srcIp: '10.0.0.1', dstIp: '10.0.0.2' });
  });

  test('IPv6 flows use the endpoints\' IPv6 addresses', () => {
    const t = tier('default', ['default/x/v6']);
    const a: EndpointState = { ...wep('x', 'a', '10.0.0.1', []), ipv6Nets: ['fd00::1/128'] };
    const b: EndpointState = { ...wep('x', 'b', '10.0.0.2', [t]), ipv6Nets: ['fd00::2/128'] };
    const s = snapshot([a, b], [policy('default/x/v6', [rule('allow', 0, { ipVersion: 6, src: { nets: ['fd00::/64'] } })])]);
    const ev = new FlowEvaluator(s);
    const x = ev.explain({ ip: 'fd00:0::1' }, { endpoint: b }, TCP80);
    assert.equal(x.verdict, 'allow');
    assert.equal(x.flow.srcIp, 'fd00::1');
    assert.equal(explain(s, 'x/a', 'x/b').verdict, 'deny');
  });

  test('notNets of the other family: Felix drops the rule for that IP version, so it matches no packet of it', () => {
    const t = tier('default', ['default/x/not-v4'], []);
    const a: EndpointState = { ...wep('x', 'a', '10.0.0.1', []), ipv6Nets: ['fd00::1/128'] };
    const b: EndpointState = { ...wep('x', 'b', '10.0.0.2', [t]), ipv6Nets: ['fd00::2/128'] };
    // Deny everything not from 10.0.0.0/8, then allow: IPv4 from outside is denied; IPv6 is not
    // touched by the deny rule (Felix renders it only in the IPv4 chains) and reaches the allow.
    const rules = [rule('deny', 0, { src: { notNets: ['10.0.0.0/8'] } }), rule('allow', 1)];
    const s = snapshot([a, b], [policy('default/x/not-v4', rules)]);
    const ev = new FlowEvaluator(s);
    assert.equal(ev.explain({ ip: '192.168.1.1' }, { endpoint: b }, TCP80).verdict, 'deny');
    assert.equal(ev.explain({ ip: '10.9.9.9' }, { endpoint: b }, TCP80).verdict, 'allow');
    const v6 = ev.explain({ ip: 'fd00::9' }, { endpoint: b }, TCP80);
    assert.equal(v6.verdict, 'allow');
    const step = ingressOf(v6).tiers[0]!.policies[0]!;
    assert.equal(step.rule!.index, 1);
    assert.match(step.misses[0]!.reason, /no IPv6 CIDR/);
    assert.equal(ev.explain({ endpoint: a }, { endpoint: b }, TCP80, 6).verdict, 'allow');
  });

  test('an endpoint is found by its own address, so a flow to that address is evaluated as a flow to it', () => {
    const deny = tier('default', ['default/x/deny-all']);
    const a: EndpointState = { ...wep('x', 'a', '10.0.0.1', []), ipv6Nets: ['fd00::1/128'] };
    const b = wep('x', 'b', '10.0.0.2', [deny]);
    const s = snapshot([a, b], [policy('default/x/deny-all', [])]);
    const ev = new FlowEvaluator(s);
    assert.deepEqual(ev.endpointsByIp('10.0.0.2').map((e) => e.id), ['wep:x/b']);
    assert.deepEqual(ev.endpointsByIp('fd00:0:0::1').map((e) => e.id), ['wep:x/a']);
    assert.deepEqual(ev.endpointsByIp('10.0.0.3'), []);
    // The peer carries the address it was named by (here the IPv6 one of x/a).
    const x = ev.explain({ endpoint: a, ip: 'fd00::1' }, { ip: 'fd00::2' }, TCP80);
    assert.equal(x.flow.srcIp, 'fd00::1');
    assert.equal(x.flow.family, 6);
    assert.ok(x.egress.evaluated);
    assert.equal(ev.explain({ endpoint: a }, { endpoint: b, ip: '10.0.0.2' }, TCP80).verdict, 'deny');
  });
});
