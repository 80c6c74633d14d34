import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffMatrices, matrixToJson, renderMatrix, type ReachabilityMatrix } from '../../src/calc/matrix.js';
import { protocolLabel, protocolNumber } from '../../src/calc/rule-matcher.js';

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

describe('protocols', () => {
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
