import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../src/errors.js';
import {
  blockCount, blockFor, cidrContains, cidrCovers, cidrKeyName, cidrOverlaps, formatCidr, formatIp, ipAt, isMasked, nthBlock, ordinalOf, parseCidr, parseIp, tryParseCidr,
  tryParseIp, type Cidr,
} from '../../src/net/cidr.js';

describe('IP addresses', () => {
  it('parses and formats addresses canonically (RFC 5952 for IPv6)', () => {
    const cases: [string, string][] = [
      ['10.65.0.5', '10.65.0.5'],
      ['0.0.0.0', '0.0.0.0'],
      ['255.255.255.255', '255.255.255.255'],
      ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
      ['FD00::', 'fd00::'],
      ['FD00::1', 'fd00::1'],
      ['::', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['fd00:0:0:1:0:0:0:1', 'fd00:0:0:1::1'],
      ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
      ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ];
    for (const [input, canonical] of cases) assert.equal(formatIp(parseIp(input)), canonical, input);
  });

  it('tells the family', () => {
    const good: [string, 4 | 6][] = [['10.0.0.1', 4], ['0.0.0.0', 4], ['255.255.255.255', 4], ['::', 6], ['::1', 6], ['fe80::1', 6], ['2001:db8::8:800:200c:417a', 6], ['::ffff:10.1.2.3', 6], ['1:2:3:4:5:6:7:8', 6]];
    for (const [s, fam] of good) assert.equal(tryParseIp(s)?.family, fam, s);
  });

  it('rejects what Go net.ParseIP rejects: short, out of range, leading zeros, whitespace, bad groups', () => {
    const bad = [
      '', 'x', '10.0.0', '10.0.0.256', '01.2.3.4', '010.1.2.3', '1.2.3.4.5', '10.0.0.1 ', ' 10.0.0.1', ':::', 'fd00:::1', '1::2::3', 'fd00::g', 'g::1',
      '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8:9', '::ffff:10.0.0.256', '::1.2.3', '12345::',
    ];
    for (const s of bad) assert.equal(tryParseIp(s), undefined, s);
    assert.throws(() => parseIp('10.1'), (e: unknown) => e instanceof UsageError && e.message === 'invalid IP address "10.1"');
  });

  it('property: format(parse(x)) round-trips for any address', () => {
    fc.assert(fc.property(fc.ipV4(), (s) => formatIp(parseIp(s)) === s));
    fc.assert(fc.property(fc.ipV6(), (s) => {
      const ip = parseIp(s);
      return ip.family === 6 && parseIp(formatIp(ip)).value === ip.value;
    }));
  });
});

describe('CIDRs', () => {
  it('masks host bits (keeping the address as written) or refuses them when strict', () => {
    const c = parseCidr('10.65.1.5/24');
    assert.equal(formatCidr(c), '10.65.1.0/24');
    assert.equal(formatIp({ family: 4, value: c.address }), '10.65.1.5');
    assert.equal(isMasked(c), false);
    assert.equal(isMasked(parseCidr('10.65.1.0/24')), true);
    assert.equal(formatCidr(parseCidr('2001:DB8:0:0:1::1/64')), '2001:db8::/64');
    assert.equal(formatCidr(parseCidr('0.0.0.0/0')), '0.0.0.0/0');
    assert.equal(formatCidr(parseCidr('::/0')), '::/0');
    assert.throws(() => parseCidr('10.65.1.5/24', { strict: true }), /^UsageError: invalid CIDR "10\.65\.1\.5\/24": host bits set \(did you mean 10\.65\.1\.0\/24\?\)$/);
    assert.equal(tryParseCidr('10.65.1.5/24', { strict: true }), undefined);
    assert.equal(tryParseCidr('10.65.1.0/24', { strict: true })?.prefix, 24);
  });

  it('bounds the prefix and names what is wrong', () => {
    assert.equal(tryParseCidr('10.0.0.0/33'), undefined);
    assert.equal(tryParseCidr('fd00::/129'), undefined);
    assert.equal(tryParseCidr('10.0.0.0/'), undefined);
    assert.equal(tryParseCidr('10.0.0.0/-1'), undefined);
    assert.equal(tryParseCidr('10.0.0.0/8/8'), undefined);
    assert.equal(tryParseCidr('fd00::/128')?.prefix, 128);
    assert.throws(() => parseCidr('10.65.1.0/33'), /^UsageError: invalid CIDR "10\.65\.1\.0\/33": prefix must be 0-32$/);
    assert.throws(() => parseCidr('fd00::/200'), /prefix must be 0-128/);
    assert.throws(() => parseCidr('10.0.0.1'), /^UsageError: invalid CIDR "10\.0\.0\.1": missing \/prefix$/);
    assert.throws(() => parseCidr('10.0.0.300/8'), /^UsageError: invalid CIDR "10\.0\.0\.300\/8": bad address$/);
  });

  it('reads a bare address as a host CIDR only when asked', () => {
    assert.equal(tryParseCidr('10.0.0.1'), undefined);
    assert.equal(tryParseCidr('10.0.0.1', { allowBareIp: true })?.prefix, 32);
    assert.equal(formatCidr(parseCidr('FD00::1', { allowBareIp: true })), 'fd00::1/128');
    assert.equal(tryParseCidr('10.0.0', { allowBareIp: true }), undefined);
    assert.throws(() => parseCidr('nope', { allowBareIp: true }), /invalid CIDR "nope": bad address/);
  });

  const containment: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.0/8', '10.200.1.1', true],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['10.0.1.2/31', '10.0.1.3', true],
    ['10.0.1.2/31', '10.0.1.4', false],
    ['10.0.1.2', '10.0.1.2', true],
    ['10.0.1.2', '10.0.1.3', false],
    ['0.0.0.0/4', '10.0.1.1', true],
    ['0.0.0.0/4', '16.0.0.1', false],
    ['255.255.255.255/32', '255.255.255.255', true],
    ['fd00::/64', 'fd00::1:2', true],
    ['fd00::/64', 'fd00:0:0:1::1', false],
    ['::/0', '2001:db8::1', true],
    ['::ffff:10.0.0.0/104', '::ffff:10.1.2.3', true],
    ['10.0.0.0/8', 'fd00::1', false],
    ['::/0', '10.0.0.1', false],
  ];
  for (const [cidr, ip, want] of containment) {
    it(`${cidr} ${want ? 'contains' : 'does not contain'} ${ip}`, () => {
      assert.equal(cidrContains(parseCidr(cidr, { allowBareIp: true }), parseIp(ip)), want);
    });
  }

  it('covers and overlaps across prefixes, never across families', () => {
    const c = (s: string) => parseCidr(s);
    assert.ok(cidrCovers(c('10.0.0.0/8'), c('10.1.0.0/16')));
    assert.ok(!cidrCovers(c('10.1.0.0/16'), c('10.0.0.0/8')));
    assert.ok(cidrOverlaps(c('10.1.0.0/16'), c('10.0.0.0/8')));
    assert.ok(!cidrOverlaps(c('10.1.0.0/16'), c('10.2.0.0/16')));
    assert.ok(!cidrOverlaps(c('0.0.0.0/0'), c('::/0')));
    assert.ok(cidrOverlaps(parseCidr('169.254.0.0/16'), parseCidr('169.254.3.0/24')));
  });

  it('property: overlap is symmetric and agrees with containment', () => {
    const cidr = fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 })).map(([a, p]) => parseCidr(`${formatIp({ family: 4, value: BigInt(a) })}/${p}`));
    fc.assert(fc.property(cidr, cidr, (a, b) => {
      const o = cidrOverlaps(a, b);
      assert.equal(o, cidrOverlaps(b, a));
      // Two CIDRs overlap exactly when one covers the other.
      assert.equal(o, cidrCovers(a, b) || cidrCovers(b, a));
      // The network address of the longer one lies in both when they overlap.
      const inner: Cidr = a.prefix >= b.prefix ? a : b;
      const point = { family: inner.family, value: inner.base };
      if (o) assert.ok(cidrContains(a, point) && cidrContains(b, point));
      else assert.ok(!cidrContains(a, { family: b.family, value: b.base }) && !cidrContains(b, { family: a.family, value: a.base }));
    }));
  });

  it('property: containment agrees with masking the address text', () => {
    fc.assert(fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (net, addr, p) => {
      const c = parseCidr(`${net}/${p}`);
      return cidrContains(c, parseIp(addr)) === (formatCidr(parseCidr(`${addr}/${p}`)) === formatCidr(c));
    }));
  });
});

describe('CIDR arithmetic for IPAM', () => {
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

  it('names datastore keys', () => {
    assert.equal(cidrKeyName('10.65.0.0/26'), '10-65-0-0-26');
    assert.equal(cidrKeyName('fd00::40/122'), 'fd00--40-122');
    assert.equal(cidrKeyName(parseCidr('fd00::40/122')), 'fd00--40-122');
  });
});
