import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ParsedRule } from '../../src/calc/types.js';
import { renderRuleMatches, ruleFamilies } from '../../src/dataplane/nftables/render-rule.js';
import { ruleVerdict } from '../../src/dataplane/nftables/render-verdict.js';
import type { Family } from '../../src/dataplane/nftables/names.js';

/** Renderer table: one line per construct, the rule and the nft rules it becomes (all families). */
const sets = {
  setName: (id: string, f: Family) => `s${f}-${id}`,
  namedPortSetName: (id: string, f: Family) => `p${f}-${id}`,
};

function render(rule: Omit<ParsedRule, 'index' | 'text' | 'action'>): string[] {
  const r = { action: 'allow' as const, index: 0, text: '', ...rule };
  return ruleFamilies(r).flatMap((f) => renderRuleMatches(r, f, sets));
}

const CASES: [string, Omit<ParsedRule, 'index' | 'text' | 'action'>, string[]][] = [
  ['match everything', {}, ['']],
  ['protocol', { protocol: 'tcp' }, ['meta l4proto tcp']],
  ['not protocol', { notProtocol: 'udp' }, ['meta l4proto != udp']],
  ['numeric protocol', { protocol: '132' }, ['meta l4proto 132']],
  ['ports OR into rules', { protocol: 'tcp', dst: { ports: [{ first: 80, last: 80 }, { first: 8000, last: 8080 }] } }, ['meta l4proto tcp th dport 80', 'meta l4proto tcp th dport 8000-8080']],
  ['not ports AND in one rule', { protocol: 'udp', dst: { notPorts: [{ first: 53, last: 53 }, { first: 67, last: 68 }] } }, ['meta l4proto udp th dport != 53 th dport != 67-68']],
  ['nets per family', { src: { nets: ['10.0.0.0/8', 'fd00::/64', '192.0.2.1/32'] } }, ['ip saddr 10.0.0.0/8', 'ip saddr 192.0.2.1', 'ip6 saddr fd00::/64']],
  ['only v6 nets: no v4 rule', { src: { nets: ['fd00::1/128'] } }, ['ip6 saddr fd00::1']],
  ['not nets (IPv6 side still IPv6 only)', { dst: { notNets: ['10.1.0.0/16'] } }, ['ip daddr != 10.1.0.0/16', 'meta nfproto ipv6']],
  ['selector set both families', { src: { ipSetIds: ['a'] } }, ['ip saddr @s4-a', 'ip6 saddr @s6-a']],
  ['not selector', { src: { notIpSetIds: ['b'] } }, ['ip saddr != @s4-b', 'ip6 saddr != @s6-b']],
  ['named port OR numeric port', { protocol: 'tcp', dst: { ports: [{ first: 443, last: 443 }], namedPortIpSetIds: ['n'] } },
    ['meta nfproto ipv4 meta l4proto tcp th dport 443', 'meta l4proto tcp ip daddr . meta l4proto . th dport @p4-n', 'meta nfproto ipv6 meta l4proto tcp th dport 443', 'meta l4proto tcp ip6 daddr . meta l4proto . th dport @p6-n']],
  ['ipVersion 6', { ipVersion: 6, protocol: 'tcp' }, ['meta nfproto ipv6 meta l4proto tcp']],
  ['ipVersion 4 with a port', { ipVersion: 4, protocol: 'udp', dst: { ports: [{ first: 53, last: 53 }] } }, ['meta nfproto ipv4 meta l4proto udp th dport 53']],
  ['icmp type and code', { protocol: 'icmp', icmp: { type: 8, code: 0 } }, ['meta l4proto icmp icmp type 8 icmp code 0']],
  ['icmpv6', { protocol: 'icmpv6', icmp: { type: 128 } }, ['meta l4proto ipv6-icmp icmpv6 type 128']],
  ['not icmp type', { protocol: 'icmp', notIcmp: { type: 3 } }, ['meta l4proto icmp icmp type != 3']],
  ['both sides', { protocol: 'tcp', src: { nets: ['10.0.0.0/8'] }, dst: { ports: [{ first: 22, last: 22 }] } }, ['meta l4proto tcp ip saddr 10.0.0.0/8 th dport 22']],
];

for (const [name, rule, want] of CASES) {
  test(`render rule: ${name}`, () => assert.deepEqual(render(rule), want));
}

test('verdicts: one function for every action', () => {
  assert.equal(ruleVerdict('allow'), 'counter meta mark set meta mark | 0x00010000 return');
  assert.equal(ruleVerdict('pass'), 'counter meta mark set meta mark | 0x00020000 return');
  assert.equal(ruleVerdict('deny'), 'counter drop');
  assert.equal(ruleVerdict('log', { logPrefix: 'x: ' }), 'counter log prefix "x: " level notice');
  assert.equal(ruleVerdict('allow', { untracked: true }), 'counter notrack meta mark set meta mark | 0x00010000 return');
});
