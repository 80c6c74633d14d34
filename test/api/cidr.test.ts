import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cidrContains, cidrsOverlap, formatCIDR, formatIP, isMasked, parseCIDR, parseIP } from '../../src/api/cidr.js';

describe('cidr', () => {
  test('parses and rejects addresses', () => {
    const good: [string, 4 | 6][] = [['10.0.0.1', 4], ['0.0.0.0', 4], ['255.255.255.255', 4], ['::', 6], ['::1', 6], ['fe80::1', 6], ['2001:db8::8:800:200c:417a', 6], ['::ffff:10.1.2.3', 6], ['1:2:3:4:5:6:7:8', 6]];
    for (const [s, fam] of good) assert.equal(parseIP(s)?.family, fam, s);
    for (const s of ['', '10.0.0', '10.0.0.256', '01.2.3.4', '1.2.3.4.5', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', 'g::1', '10.0.0.1 ', '1:2:3:4:5:6:7::8:9']) {
      assert.equal(parseIP(s), undefined, s);
    }
  });

  test('CIDRs: prefix bounds, masking, bare addresses', () => {
    assert.equal(parseCIDR('10.0.0.0/33'), undefined);
    assert.equal(parseCIDR('fd00::/129'), undefined);
    assert.equal(parseCIDR('10.0.0.1'), undefined);
    assert.equal(parseCIDR('10.0.0.1', true)?.prefixLength, 32);
    assert.equal(isMasked(parseCIDR('10.0.0.1/8')!), false);
    assert.equal(formatCIDR(parseCIDR('10.1.2.3/8')!), '10.0.0.0/8');
    assert.equal(formatCIDR(parseCIDR('2001:DB8:0:0:1::1/64')!), '2001:db8::/64');
    assert.equal(formatCIDR(parseCIDR('0.0.0.0/0')!), '0.0.0.0/0');
  });

  test('RFC 5952 text: longest zero run compressed, single zero group kept', () => {
    assert.equal(formatIP(6, parseIP('2001:db8:0:1:1:1:1:1')!.value), '2001:db8:0:1:1:1:1:1');
    assert.equal(formatIP(6, parseIP('2001:0:0:1:0:0:0:1')!.value), '2001:0:0:1::1');
    assert.equal(formatIP(6, parseIP('::')!.value), '::');
  });

  test('property: format(parse(x)) round-trips for any address', () => {
    fc.assert(fc.property(fc.ipV4(), (s) => formatIP(4, parseIP(s)!.value) === s));
    fc.assert(fc.property(fc.ipV6(), (s) => {
      const ip = parseIP(s)!;
      return ip.family === 6 && parseIP(formatIP(6, ip.value))!.value === ip.value;
    }));
  });

  test('property: overlap is symmetric and agrees with containment', () => {
    const cidr = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(([a, p]) => parseCIDR(`${formatIP(4, BigInt(a))}/${p}`)!);
    fc.assert(fc.property(cidr, cidr, (a, b) => {
      const o = cidrsOverlap(a, b);
      assert.equal(o, cidrsOverlap(b, a));
      // Two CIDRs overlap exactly when one contains the other.
      assert.equal(o, cidrContains(a, b) || cidrContains(b, a));
      // The network address of the longer one lies in both when they overlap.
      const inner = a.prefixLength >= b.prefixLength ? a : b;
      const point = parseCIDR(`${formatIP(4, inner.network)}/32`)!;
      if (o) assert.ok(cidrContains(a, point) && cidrContains(b, point));
    }));
  });
});
