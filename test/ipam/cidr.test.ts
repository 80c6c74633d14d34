import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockCount, blockFor, cidrContains, cidrKeyName, formatCidr, formatIp, ipAt, nthBlock, ordinalOf, parseCidr, parseIp, tryParseIp } from '../../src/ipam/cidr.js';
import { splitCidr } from '../../src/ipam/pool-selection.js';

describe('ipam cidr arithmetic', () => {
  it('parses and formats addresses canonically', () => {
    const cases: [string, string][] = [
      ['10.65.0.5', '10.65.0.5'],
      ['0.0.0.0', '0.0.0.0'],
      ['255.255.255.255', '255.255.255.255'],
      ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
      ['FD00::', 'fd00::'],
      ['::', '::'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ];
    for (const [input, canonical] of cases) assert.equal(formatIp(parseIp(input)), canonical, input);
    for (const bad of ['10.0.0', '10.0.0.256', '01.2.3.4', '1::2::3', 'fd00::g', '', '1:2:3:4:5:6:7:8:9']) {
      assert.equal(tryParseIp(bad), undefined, bad);
    }
  });

  it('maps ordinals to addresses and back', () => {
    const b = parseCidr('10.65.1.64/26');
    assert.equal(formatIp(ipAt(b, 0)), '10.65.1.64');
    assert.equal(formatIp(ipAt(b, 63)), '10.65.1.127');
    assert.throws(() => ipAt(b, 64), RangeError);
    assert.equal(ordinalOf(b, parseIp('10.65.1.100')), 36);
    assert.throws(() => ordinalOf(b, parseIp('10.65.1.128')), RangeError);
    const v6 = parseCidr('fd00:1::40/122');
    assert.equal(formatIp(ipAt(v6, 5)), 'fd00:1::45');
    assert.equal(ordinalOf(v6, parseIp('fd00:1::7f')), 63);
  });

  it('carves pools into blocks', () => {
    const pool = parseCidr('10.65.0.0/16');
    assert.equal(blockCount(pool, 26), 1024n);
    assert.equal(formatCidr(nthBlock(pool, 26, 0n)), '10.65.0.0/26');
    assert.equal(formatCidr(nthBlock(pool, 26, 5n)), '10.65.1.64/26');
    assert.equal(formatCidr(nthBlock(pool, 26, 1023n)), '10.65.255.192/26');
    assert.equal(formatCidr(blockFor(parseIp('10.65.3.77'), 26)), '10.65.3.64/26');
    assert.equal(blockCount(parseCidr('fd00::/64'), 122), 1n << 58n);
    assert.equal(formatCidr(nthBlock(parseCidr('fd00::/120'), 122, 3n)), 'fd00::c0/122');
  });

  it('masks or refuses host bits and names keys', () => {
    assert.equal(formatCidr(parseCidr('10.65.1.5/24')), '10.65.1.0/24');
    assert.throws(() => parseCidr('10.65.1.5/24', true), /host bits set/);
    assert.throws(() => parseCidr('10.65.1.0/33'), /prefix must be 0-32/);
    assert.ok(cidrContains(parseCidr('10.0.0.0/8'), parseIp('10.200.1.1')));
    assert.ok(!cidrContains(parseCidr('10.0.0.0/8'), parseIp('fd00::1')));
    assert.equal(cidrKeyName('10.65.0.0/26'), '10-65-0-0-26');
    assert.equal(cidrKeyName('fd00::40/122'), 'fd00--40-122');
  });

  it('splits a pool into equal pools (calicoctl ipam split)', () => {
    assert.deepEqual(splitCidr(parseCidr('10.0.0.0/16'), 4).map(formatCidr), ['10.0.0.0/18', '10.0.64.0/18', '10.0.128.0/18', '10.0.192.0/18']);
    assert.deepEqual(splitCidr(parseCidr('fd00::/120'), 2).map(formatCidr), ['fd00::/121', 'fd00::80/121']);
    assert.throws(() => splitCidr(parseCidr('10.0.0.0/16'), 3), /power of 2/);
    assert.throws(() => splitCidr(parseCidr('10.0.0.0/16'), 1), /power of 2/);
    assert.throws(() => splitCidr(parseCidr('10.0.0.0/31'), 4), /not large enough/);
  });
});
