import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffMatrices, matrixToJson, renderMatrix, type ReachabilityMatrix } from '../../src/calc/matrix.js';
import { cidrContains, parseAddr, parseCidr, protocolLabel, protocolNumber } from '../../src/calc/rule-matcher.js';

const m = (endpoints: string[], rows: string[]): ReachabilityMatrix => ({
  protocol: 'TCP', port: 80, family: 4, endpoints, allowed: rows.map((r) => [...r].map((c) => c === '.')),
});

describe('matrix rendering and comparison', () => {
  test('renders the netpol truth table with row and column headers', () => {
    assert.equal(renderMatrix(m(['x/a', 'x/bb'], ['.X', 'X.'])), '     x/a  x/bb\nx/a  .    X\nx/bb X    .\n');
  });

  test('JSON: endpoints and allowed[src][dst]', () => {
    assert.deepEqual(matrixToJson(m(['x/a', 'y/b'], ['.X', '..'])), {
      protocol: 'TCP', port: 80, endpoints: ['x/a', 'y/b'],
      allowed: { 'x/a': { 'x/a': true, 'y/b': false }, 'y/b': { 'x/a': true, 'y/b': true } },
    });
  });

  test('diff: changed cells over common endpoints, row-major; added and removed endpoints listed', () => {
    const before = m(['a', 'b', 'c'], ['...', '...', '...']);
    const after = m(['a', 'b', 'd'], ['.X.', 'X..', '...']);
    assert.deepEqual(diffMatrices(before, after), {
      changes: [{ from: 'a', to: 'b', before: true, after: false }, { from: 'b', to: 'a', before: true, after: false }],
      addedEndpoints: ['d'],
      removedEndpoints: ['c'],
    });
  });
});

describe('addresses, CIDRs and protocols', () => {
  const cases: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['10.0.1.2/31', '10.0.1.3', true],
    ['10.0.1.2/31', '10.0.1.4', false],
    ['10.0.1.2', '10.0.1.2', true],
    ['0.0.0.0/4', '10.0.1.1', true],
    ['0.0.0.0/4', '16.0.0.1', false],
    ['255.255.255.255/32', '255.255.255.255', true],
    ['fd00::/64', 'fd00::1:2', true],
    ['fd00::/64', 'fd00:0:0:1::1', false],
    ['::/0', '2001:db8::1', true],
    ['::ffff:10.0.0.0/104', '::ffff:10.1.2.3', true],
    ['10.0.0.0/8', 'fd00::1', false],
  ];
  for (const [cidr, ip, want] of cases) {
    test(`${cidr} ${want ? 'contains' : 'does not contain'} ${ip}`, () => {
      assert.equal(cidrContains(parseCidr(cidr), parseAddr(ip)), want);
    });
  }

  test('canonical text and invalid input', () => {
    assert.equal(parseAddr('010.1.2.3').text, '10.1.2.3');
    assert.equal(parseAddr('FD00::1').text, 'fd00::1');
    assert.equal(parseAddr('fd00:0:0:1:0:0:0:1').text, 'fd00:0:0:1::1');
    assert.equal(parseAddr('1:0:2:0:3:0:4:0').text, '1:0:2:0:3:0:4:0');
    assert.equal(parseAddr('::').text, '::');
    assert.equal(parseAddr('0:0:0:0:0:0:0:1').text, '::1');
    assert.equal(parseAddr('2001:db8:0:0:1:0:0:0').text, '2001:db8:0:0:1::');
    assert.equal(parseAddr('2001:db8:0:0:1:0:0:1').text, '2001:db8::1:0:0:1');
    for (const bad of ['10.0.0', '10.0.0.256', 'fd00:::1', '1:2:3:4:5:6:7:8:9', 'x']) assert.throws(() => parseAddr(bad), /not a valid IP address/, bad);
    assert.throws(() => parseCidr('10.0.0.0/33'), /not a valid CIDR/);
  });

  test('protocols by name or number', () => {
    assert.equal(protocolNumber('TCP'), 6);
    assert.equal(protocolNumber('icmpv6'), 58);
    assert.equal(protocolNumber('132'), 132);
    assert.equal(protocolLabel(17), 'UDP');
    assert.equal(protocolLabel(58), 'ICMPv6');
    assert.equal(protocolLabel(47), '47');
    assert.throws(() => protocolNumber('QUIC'), /unknown protocol "QUIC"/);
    assert.throws(() => protocolNumber('256'), /unknown protocol/);
  });
});
