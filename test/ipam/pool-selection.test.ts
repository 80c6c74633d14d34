import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCidr, parseCidr } from '../../src/net/cidr.js';
import { splitCidr } from '../../src/ipam/pool-selection.js';

describe('ipam pool selection', () => {
  it('splits a pool into equal pools (calicoctl ipam split)', () => {
    assert.deepEqual(splitCidr(parseCidr('10.0.0.0/16'), 4).map(formatCidr), ['10.0.0.0/18', '10.0.64.0/18', '10.0.128.0/18', '10.0.192.0/18']);
    assert.deepEqual(splitCidr(parseCidr('fd00::/120'), 2).map(formatCidr), ['fd00::/121', 'fd00::80/121']);
    assert.throws(() => splitCidr(parseCidr('10.0.0.0/16'), 3), /power of 2/);
    assert.throws(() => splitCidr(parseCidr('10.0.0.0/16'), 1), /power of 2/);
    assert.throws(() => splitCidr(parseCidr('10.0.0.0/31'), 4), /not large enough/);
  });
});
