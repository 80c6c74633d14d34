import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Rule } from '../../src/api/types.js';
import { parseRule, RuleParseError, SelectorCache } from '../../src/calc/rule-parser.js';
import { ruleText } from '../../src/calc/rule-text.js';
import type { ParsedRule } from '../../src/calc/types.js';
import { named, sel } from './state-builders.js';

// One line per construct: v3 rule (already selector-composed for simplicity) → ParsedRule.

function parse(rule: Rule, src = '', dst = '', notSrc = '', notDst = ''): ParsedRule {
  const { text: _t, ...rest } = parseRule({ rule, index: 3, srcSelector: src, dstSelector: dst, notSrcSelector: notSrc, notDstSelector: notDst }, new SelectorCache()).rule;
  return rest as ParsedRule;
}

const CASES: { name: string; rule: Rule; sels?: [string?, string?, string?, string?]; want: Partial<ParsedRule> }[] = [
  { name: 'Allow', rule: { action: 'Allow' }, want: { action: 'allow' } },
  { name: 'Pass becomes pass', rule: { action: 'Pass' }, want: { action: 'pass' } },
  { name: 'Log', rule: { action: 'Log' }, want: { action: 'log' } },
  { name: 'protocol name lower-cased', rule: { action: 'Deny', protocol: 'ICMPv6', ipVersion: 6 }, want: { action: 'deny', protocol: 'icmpv6', ipVersion: 6 } },
  { name: 'protocol number as string', rule: { action: 'Deny', protocol: 132, notProtocol: 'UDPLite' }, want: { action: 'deny', protocol: '132', notProtocol: 'udplite' } },
  { name: 'icmp type and code', rule: { action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 }, notICMP: { type: 3 } }, want: { action: 'allow', protocol: 'icmp', icmp: { type: 8, code: 0 }, notIcmp: { type: 3 } } },
  {
    name: 'ports: number, string, range',
    rule: { action: 'Allow', protocol: 'TCP', source: { ports: [1, '2'] }, destination: { ports: [80, '8000:8080'], notPorts: ['9000:9001'] } },
    want: { action: 'allow', protocol: 'tcp', src: { ports: [{ first: 1, last: 1 }, { first: 2, last: 2 }] }, dst: { ports: [{ first: 80, last: 80 }, { first: 8000, last: 8080 }], notPorts: [{ first: 9000, last: 9001 }] } },
  },
  {
    name: 'nets: bare IPs get a prefix, host bits cleared',
    rule: { action: 'Allow', source: { nets: ['10.0.0.1', '10.1.2.3/16'], notNets: ['fd00::1'] }, destination: { nets: ['fd00:1::/64'] } },
    want: { action: 'allow', src: { nets: ['10.0.0.1/32', '10.1.0.0/16'], notNets: ['fd00::1/128'] }, dst: { nets: ['fd00:1::/64'] } },
  },
  { name: 'selector → IP set', rule: { action: 'Allow' }, sels: ['a == "b"'], want: { action: 'allow', src: { ipSetIds: [sel('a == "b"')] } } },
  { name: 'notSelector alone → negated IP set', rule: { action: 'Allow' }, sels: ['', '', 'has(x)'], want: { action: 'allow', src: { notIpSetIds: [sel('has(x)')] } } },
  {
    name: 'notSelector folded into the positive selector',
    rule: { action: 'Allow' }, sels: ['', 'has(a)', '', 'has(b)'], want: { action: 'allow', dst: { ipSetIds: [sel('has(a) && !has(b)')] } },
  },
  {
    name: 'named port without selector uses all()',
    rule: { action: 'Allow', destination: { ports: ['http'] } }, want: { action: 'allow', dst: { namedPortIpSetIds: [named('all()', 'tcp', 'http')] } },
  },
  {
    name: 'named port with selector: no plain set',
    rule: { action: 'Allow', protocol: 'UDP', destination: { ports: ['dns'] } }, sels: ['', 'has(a)'],
    want: { action: 'allow', protocol: 'udp', dst: { namedPortIpSetIds: [named('has(a)', 'udp', 'dns')] } },
  },
  {
    name: 'named and numeric ports keep the plain set',
    rule: { action: 'Allow', protocol: 'SCTP', destination: { ports: ['x', 5] } }, sels: ['', 'has(a)'],
    want: { action: 'allow', protocol: 'sctp', dst: { ports: [{ first: 5, last: 5 }], namedPortIpSetIds: [named('has(a)', 'sctp', 'x')], ipSetIds: [sel('has(a)')] } },
  },
  {
    name: 'negated named port filtered by the positive selector',
    rule: { action: 'Allow', source: { notPorts: ['p'] } }, sels: ['has(s)'],
    want: { action: 'allow', src: { notNamedPortIpSetIds: [named('has(s)', 'tcp', 'p')], ipSetIds: [sel('has(s)')] } },
  },
];

for (const c of CASES) {
  test(`parse rule: ${c.name}`, () => {
    const [src, dst, notSrc, notDst] = c.sels ?? [];
    assert.deepEqual(parse(c.rule, src, dst, notSrc, notDst), { index: 3, ...c.want });
  });
}

test('a services match becomes a service set: destination address+port pairs, source addresses', () => {
  const dst = parse({ action: 'Allow', destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } });
  const src = parse({ action: 'Allow', source: { services: { name: 'kube-dns', namespace: 'kube-system' } } });
  assert.equal(dst.dst?.namedPortIpSetIds?.length, 1);
  assert.equal(dst.dst?.ipSetIds, undefined);
  assert.equal(src.src?.ipSetIds?.length, 1);
  assert.notEqual(src.src!.ipSetIds![0], dst.dst!.namedPortIpSetIds![0]);
});

test('an invalid selector, port or net, or an unenforceable match, is a RuleParseError', () => {
  assert.throws(() => parse({ action: 'Allow' }, 'a == '), RuleParseError);
  assert.throws(() => parse({ action: 'Allow', destination: { ports: ['no spaces allowed'] } }), RuleParseError);
  assert.throws(() => parse({ action: 'Allow', destination: { nets: ['10.0.0.300/8'] } }), RuleParseError);
  assert.throws(() => parse({ action: 'Allow', destination: { services: { name: 7 as never } } }), /invalid services match/);
  assert.throws(() => parse({ action: 'Allow', http: { methods: ['GET'] } }), /HTTP matches/);
  // Values of the wrong type (stored by a write that bypassed validation) are refused, not ignored:
  // ignoring an icmp type or a protocol would widen the rule.
  assert.throws(() => parse({ action: 'Allow', protocol: {} as never }), /invalid protocol/);
  assert.throws(() => parse({ action: 'Allow', protocol: 'ICMP', icmp: { type: 'echo' as never } }), /invalid icmp/);
  assert.throws(() => parse({ action: 'Deny', protocol: 'ICMP', notICMP: { type: 8, code: '0' as never } }), /invalid notICMP/);
  assert.deepEqual(parse({ action: 'Allow', protocol: 'ICMP', icmp: {} as never }), { action: 'allow', index: 3, protocol: 'icmp' });
});

const TEXT_CASES: [Rule, string][] = [
  [{ action: 'Allow' }, '{action: Allow}'],
  [
    { action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: [80] } },
    `{action: Allow, protocol: TCP, source: {selector: "app == 'web'"}, destination: {ports: [80]}}`,
  ],
  [{ destination: { ports: ['http', '80:90'] }, action: 'Deny', ipVersion: 4 }, '{action: Deny, ipVersion: 4, destination: {ports: [http, "80:90"]}}'],
  [{ action: 'Pass', source: { nets: ['10.0.0.0/8'], namespaceSelector: 'global()' }, destination: {} }, '{action: Pass, source: {nets: [10.0.0.0/8], namespaceSelector: "global()"}}'],
  [{ action: 'Allow', icmp: { type: 8 }, source: { serviceAccounts: { names: ['a', 'b'] } } }, '{action: Allow, icmp: {type: 8}, source: {serviceAccounts: {names: [a, b]}}}'],
  [{ action: 'Allow', source: { selector: 'yes' } }, '{action: Allow, source: {selector: "yes"}}'],
];

for (const [rule, want] of TEXT_CASES) test(`rule text: ${want}`, () => assert.equal(ruleText(rule), want));

test('rule text quotes strings YAML would read as other types', () => {
  assert.equal(ruleText({ action: 'Allow', source: { selector: '123' } }), '{action: Allow, source: {selector: "123"}}');
  assert.equal(ruleText({ action: 'Allow', source: { selector: 'null' } }), '{action: Allow, source: {selector: "null"}}');
  assert.equal(ruleText({ action: 'Allow', destination: { ports: ['1e3'] } }), '{action: Allow, destination: {ports: ["1e3"]}}');
});
