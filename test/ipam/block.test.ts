import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocationAt,
  assignFromBlock,
  assignOrdinal,
  collectCooldown,
  freeCount,
  handleCounts,
  isEmpty,
  newBlock,
  ordinalUnavailable,
  releaseOrdinals,
  structuralProblems,
} from '../../src/ipam/block.js';
import { cidrContains, formatIp, parseCidr, type IpAddr } from '../../src/net/cidr.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const none = () => false;
const ips = (xs: { ip: IpAddr }[]) => xs.map((x) => formatIp(x.ip));

describe('ipam allocation block', () => {
  it('allocates in address order from a new block and shares one attribute per request', () => {
    const b = newBlock(parseCidr('10.65.0.0/26'), 'host:n1', T0);
    assert.equal(b.allocations.length, 64);
    const got = assignFromBlock(b, 3, 'h1', { node: 'n1' }, none);
    assert.deepEqual(ips(got), ['10.65.0.0', '10.65.0.1', '10.65.0.2']);
    assert.equal(b.attributes.length, 1);
    assert.deepEqual(b.allocations.slice(0, 4), [0, 0, 0, null]);
    assert.equal(b.unallocated[0], 3);
    assert.equal(freeCount(b, none), 61);
    assert.deepEqual([...handleCounts(b)], [['h1', 3]]);
    assert.deepEqual(structuralProblems(b), []);
  });

  it('returns fewer than asked when the block fills up', () => {
    const b = newBlock(parseCidr('10.65.0.0/30'), null, T0);
    assert.equal(assignFromBlock(b, 10, 'h', {}, none).length, 4);
    assert.equal(assignFromBlock(b, 1, 'h2', {}, none).length, 0);
    assert.equal(freeCount(b, none), 0);
  });

  it('reuses released addresses FIFO: the one free for longest comes back first', () => {
    const b = newBlock(parseCidr('10.65.0.0/29'), 'host:n1', T0);
    const all = assignFromBlock(b, 8, 'h', {}, none);
    assert.equal(all.length, 8);
    releaseOrdinals(b, [5], T0, 0);
    releaseOrdinals(b, [2], T0, 0);
    releaseOrdinals(b, [7], T0, 0);
    assert.deepEqual(b.unallocated, [5, 2, 7]);
    assert.deepEqual(ips(assignFromBlock(b, 2, 'h2', {}, none)), ['10.65.0.5', '10.65.0.2']);
    assert.deepEqual(structuralProblems(b), []);
  });

  it('skips reserved addresses without moving them', () => {
    const b = newBlock(parseCidr('10.65.0.0/29'), 'host:n1', T0);
    const res = parseCidr('10.65.0.0/31');
    const reserved = (ip: IpAddr) => cidrContains(res, ip) || formatIp(ip) === '10.65.0.4';
    assert.equal(freeCount(b, reserved), 5);
    assert.deepEqual(ips(assignFromBlock(b, 3, 'h', {}, reserved)), ['10.65.0.2', '10.65.0.3', '10.65.0.5']);
    assert.deepEqual(b.unallocated, [0, 1, 4, 6, 7]);
    assert.deepEqual(ips(assignFromBlock(b, 5, 'h', {}, reserved)), ['10.65.0.6', '10.65.0.7']);
  });

  it('records the block sequence number per allocation so a stale release can be detected', () => {
    const b = newBlock(parseCidr('10.65.0.0/29'), 'host:n1', T0);
    const first = assignFromBlock(b, 1, 'h1', {}, none)[0]!;
    assert.equal(first.sequenceNumber, T0.getTime() * 1000);
    b.sequenceNumber++; // what the store does on every write
    releaseOrdinals(b, [first.ordinal], T0, 0);
    b.sequenceNumber++;
    // the same ordinal later goes to another handle with a newer number
    b.unallocated = [first.ordinal, ...b.unallocated.filter((o) => o !== first.ordinal)];
    const second = assignFromBlock(b, 1, 'h2', {}, none)[0]!;
    assert.equal(second.ordinal, first.ordinal);
    assert.notEqual(second.sequenceNumber, first.sequenceNumber);
    assert.equal(allocationAt(b, first.ordinal)!.sequenceNumber, second.sequenceNumber);
  });

  it('keeps released addresses out of use until the cooldown has passed, then reuses them oldest first', () => {
    const b = newBlock(parseCidr('10.65.0.0/30'), 'host:n1', T0);
    assignFromBlock(b, 4, 'h', {}, none);
    releaseOrdinals(b, [3], new Date(T0.getTime() + 1000), 60);
    releaseOrdinals(b, [1], new Date(T0.getTime() + 2000), 60);
    assert.equal(freeCount(b, none), 0);
    assert.match(ordinalUnavailable(b, 3)!, /cooling down/);
    assert.equal(allocationAt(b, 3), undefined);
    assert.equal(collectCooldown(b, new Date(T0.getTime() + 30_000), 60), false);
    assert.equal(collectCooldown(b, new Date(T0.getTime() + 61_500), 60), true);
    assert.deepEqual(b.unallocated, [3]);
    assert.equal(collectCooldown(b, new Date(T0.getTime() + 62_000), 60), true);
    assert.deepEqual(b.unallocated, [3, 1]);
    assert.equal(b.attributes.length, 1); // cooldown attributes pruned
    assert.deepEqual(structuralProblems(b), []);
  });

  it('releases idempotently and reports what each handle lost', () => {
    const b = newBlock(parseCidr('10.65.0.0/29'), null, T0);
    assignFromBlock(b, 2, 'a', {}, none);
    assignFromBlock(b, 1, 'b', {}, none);
    assert.deepEqual([...releaseOrdinals(b, [0, 1, 2], T0, 0)], [['a', 2], ['b', 1]]);
    assert.deepEqual([...releaseOrdinals(b, [0, 1, 2], T0, 0)], []);
    assert.ok(isEmpty(b));
    assert.equal(b.attributes.length, 0);
    assert.deepEqual(structuralProblems(b), []);
  });

  it('assigns a specific ordinal and refuses one in use', () => {
    const b = newBlock(parseCidr('10.65.0.0/29'), null, T0);
    assert.equal(formatIp(assignOrdinal(b, 6, 'x', { workload: 'w' }).ip), '10.65.0.6');
    assert.match(ordinalUnavailable(b, 6)!, /already assigned \(handle x\)/);
    assert.equal(ordinalUnavailable(b, 5), undefined);
    assert.ok(!b.unallocated.includes(6));
    assert.deepEqual(ips(assignFromBlock(b, 7, 'y', {}, none)), ['10.65.0.0', '10.65.0.1', '10.65.0.2', '10.65.0.3', '10.65.0.4', '10.65.0.5', '10.65.0.7']);
  });

  it('detects structural corruption', () => {
    const b = newBlock(parseCidr('10.65.0.0/30'), null, T0);
    b.unallocated = [0, 0, 1];
    b.allocations[1] = 5;
    const p = structuralProblems(b);
    assert.ok(p.some((x) => /listed twice/.test(x)));
    assert.ok(p.some((x) => /both free and allocated/.test(x)));
    assert.ok(p.some((x) => /neither free nor allocated/.test(x)));
    assert.ok(p.some((x) => /missing attribute/.test(x)));
  });
});
