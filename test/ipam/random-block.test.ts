import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCidr, parseCidr } from '../../src/net/cidr.js';
import { blockOrder, fnv32, startingBlockIndex } from '../../src/ipam/random-block.js';

describe('ipam random block order', () => {
  it('hashes with FNV-1 32 (Go hash/fnv New32 vectors)', () => {
    assert.equal(fnv32(''), 0x811c9dc5);
    assert.equal(fnv32('a'), 0x050c5d7e);
    assert.equal(fnv32('foobar'), 0x31f0b262);
  });

  it('is deterministic per node and visits every block exactly once', () => {
    const pool = parseCidr('10.65.0.0/22');
    const a1 = [...blockOrder(pool, 26, 'node-a')].map(formatCidr);
    const a2 = [...blockOrder(pool, 26, 'node-a')].map(formatCidr);
    assert.deepEqual(a1, a2);
    assert.equal(a1.length, 16);
    assert.equal(new Set(a1).size, 16);
    // walks in address order from the start, wrapping round
    const start = Number(startingBlockIndex('node-a', 16n));
    assert.equal(a1[0], formatCidr({ family: 4, base: parseCidr('10.65.0.0/22').base + BigInt(start * 64), prefix: 26 }));
  });

  it('spreads different nodes over different starting blocks', () => {
    const starts = new Set(Array.from({ length: 50 }, (_, i) => startingBlockIndex(`node-${i}`, 1024n)));
    assert.ok(starts.size >= 45, `only ${starts.size} distinct starting blocks for 50 nodes`);
  });

  it('handles IPv6 pools with astronomically many blocks lazily', () => {
    const it6 = blockOrder(parseCidr('fd00::/48'), 122, 'n1');
    const first = it6.next().value!;
    assert.equal(first.prefix, 122);
    assert.equal(first.family, 6);
  });
});
