import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Datastore } from '../../src/datastore/datastore.js';
import { ConflictError, ExhaustedError, NotFoundError } from '../../src/errors.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { IPAM_ROOT } from '../../src/api/keys.js';
import { ResourceReader } from '../../src/ipam/resource-reader.js';
import { addNode, addPool, addReservation, freshStore, ManualClock, removeResource } from './fixtures.js';

/** Every IPAM key and value, to prove that a refused request changed nothing. */
async function ipamState(ds: Datastore): Promise<string> {
  return JSON.stringify((await ds.list(IPAM_ROOT)).items.map((kv) => [kv.key, kv.value]));
}

/** The same without block sequence numbers (an assignment undone still bumps them, by design). */
async function ipamAllocations(ds: Datastore): Promise<string> {
  return JSON.stringify((await ds.list(IPAM_ROOT)).items.map((kv) => [kv.key, kv.value.replace(/"sequenceNumber":\d+,/, '')]));
}

for (const backend of ['memory', 'sqlite'] as const) {
  describe(`IpamClient on ${backend}`, () => {
    let ds: Datastore;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ ds, dispose } = await freshStore(backend));
    });
    after(async () => dispose());

    // Each test uses its own pools (disjoint CIDRs) and nodes; pools are requested by name.

    it('allocates from a claimed affine block, counts the handle, dual-stack', async () => {
      await addPool(ds, 'p-basic4', '10.10.0.0/24');
      await addPool(ds, 'p-basic6', 'fd10::/120');
      await addNode(ds, 'basic');
      const ipam = new IpamClient(ds);
      const r = await ipam.autoAssign({ node: 'basic', handleId: 'h-basic', num4: 2, num6: 1, attrs: { node: 'basic' }, pools: ['p-basic4', 'p-basic6'] });
      assert.equal(r.ipv4.length, 2);
      assert.equal(r.ipv6.length, 1);
      const block4 = r.ipv4[0]!.block;
      assert.match(block4, /^10\.10\.0\.\d+\/26$/);
      assert.equal(r.ipv4[0]!.cidr, `${r.ipv4[0]!.ip}/26`);
      assert.equal(r.ipv4[1]!.block, block4);
      assert.match(r.ipv6[0]!.cidr, /^fd10::[0-9a-f]*\/122$/);
      const aff = await ipam.store.getAffinity('basic', block4);
      assert.equal(aff?.value.state, 'confirmed');
      const h = await ipam.store.getHandle('h-basic');
      assert.deepEqual(h?.value.block, { [block4]: 2, [r.ipv6[0]!.block]: 1 });
      assert.deepEqual((await ipam.ipsByHandle('h-basic')).sort(), [...r.ipv4.map((a) => a.ip), r.ipv6[0]!.ip].sort());
      // a second request on the same node uses the same block, next addresses in order
      const r2 = await ipam.autoAssign({ node: 'basic', handleId: 'h-basic2', num4: 1, pools: ['p-basic4'] });
      assert.equal(r2.ipv4[0]!.block, block4);
      assert.equal(await ipam.releaseByHandle('h-basic').then((x) => x.length), 3);
      assert.deepEqual(await ipam.releaseByHandle('h-basic'), []); // idempotent
      assert.equal(await ipam.store.getHandle('h-basic'), null);
      await assert.rejects(ipam.ipsByHandle('h-basic'), NotFoundError);
    });

    it('borrows from another node when the pool has no free block, and refuses when exhausted without changing anything', async () => {
      // 10.20.0.0/28 in /30 blocks: four blocks of four addresses
      await addPool(ds, 'p-borrow', '10.20.0.0/28', { blockSize: 30 });
      const ipam = new IpamClient(ds);
      const a = await ipam.autoAssign({ node: 'borrow-a', handleId: 'ba', num4: 3, attrs: { node: 'borrow-a' }, pools: ['p-borrow'] });
      const b = await ipam.autoAssign({ node: 'borrow-b', handleId: 'bb', num4: 12, attrs: { node: 'borrow-b' }, pools: ['p-borrow'] });
      assert.equal(new Set([...a.ipv4, ...b.ipv4].map((x) => x.block)).size, 4);
      const borrowed = await ipam.autoAssign({ node: 'borrow-b', handleId: 'bb2', num4: 1, attrs: { node: 'borrow-b' }, pools: ['p-borrow'] });
      assert.equal(borrowed.ipv4[0]!.block, a.ipv4[0]!.block, 'the last free address is in node a\'s block');
      const blk = await ipam.store.getBlock(a.ipv4[0]!.block);
      assert.equal(blk?.value.affinity, 'host:borrow-a', 'borrowing does not move the block');
      assert.deepEqual((await ipam.borrowedIps()).map((x) => x.ip), [borrowed.ipv4[0]!.ip]);
      const before = await ipamState(ds);
      await assert.rejects(ipam.autoAssign({ node: 'borrow-c', handleId: 'bc', num4: 1, pools: ['p-borrow'] }), (e: Error) => e instanceof ExhaustedError && /exhausted/.test(e.message));
      assert.equal(await ipamState(ds), before);
      // all-or-nothing: asking for 2 when 1 is free leaves nothing behind
      await ipam.releaseIps([{ ip: a.ipv4[0]!.ip }]);
      const before2 = await ipamAllocations(ds);
      await assert.rejects(ipam.autoAssign({ node: 'borrow-c', handleId: 'bc', num4: 2, pools: ['p-borrow'] }), ExhaustedError);
      assert.equal(await ipamAllocations(ds), before2);
    });

    it('refuses to borrow under strict affinity', async () => {
      await addPool(ds, 'p-strict', '10.30.0.0/29', { blockSize: 30 });
      const ipam = new IpamClient(ds);
      await ipam.autoAssign({ node: 'strict-a', handleId: 'sa', num4: 1, pools: ['p-strict'] });
      await ipam.autoAssign({ node: 'strict-b', handleId: 'sb', num4: 4, pools: ['p-strict'] });
      await ipam.configure({ strictAffinity: true });
      try {
        await assert.rejects(ipam.autoAssign({ node: 'strict-b', handleId: 'sb2', num4: 1, pools: ['p-strict'] }), (e: Error) => e instanceof ExhaustedError && /strictAffinity/.test(e.message));
        // specific IP in another node's block is refused too
        const aBlock = (await ipam.store.listAffinities('strict-a'))[0]!.value.cidr;
        const freeInA = aBlock.replace(/\d+\/30$/, (m) => String(Number(m.split('/')[0]) + 3));
        await assert.rejects(ipam.assignIp({ ip: freeInA, node: 'strict-b', handleId: 'sb3' }), /strictAffinity is on/);
        await ipam.configure({ strictAffinity: false });
        const ok = await ipam.autoAssign({ node: 'strict-b', handleId: 'sb2', num4: 1, pools: ['p-strict'] });
        assert.equal(ok.ipv4[0]!.block, aBlock);
      } finally {
        await ipam.configure({ strictAffinity: false });
      }
    });

    it('takes over another node\'s empty block once its claim is a minute old', async () => {
      await addPool(ds, 'p-reclaim', '10.45.0.0/29', { blockSize: 30 });
      const clock = new ManualClock(Date.now());
      const ipam = new IpamClient(ds, { clock });
      const a = await ipam.autoAssign({ node: 'rc-a', handleId: 'rca', num4: 8, pools: ['p-reclaim'] });
      assert.equal(new Set(a.ipv4.map((x) => x.block)).size, 2);
      await ipam.releaseByHandle('rca');
      await ipam.configure({ strictAffinity: true });
      try {
        await assert.rejects(ipam.autoAssign({ node: 'rc-b', handleId: 'rcb', num4: 1, pools: ['p-reclaim'] }), ExhaustedError);
        clock.advance(61);
        const b = await ipam.autoAssign({ node: 'rc-b', handleId: 'rcb', num4: 1, pools: ['p-reclaim'] });
        const blk = await ipam.store.getBlock(b.ipv4[0]!.block);
        assert.equal(blk?.value.affinity, 'host:rc-b');
        assert.equal(await ipam.store.getAffinity('rc-a', b.ipv4[0]!.block), null);
        assert.equal((await ipam.store.listAffinities('rc-a')).length, 1, 'only one block was taken over');
      } finally {
        await ipam.configure({ strictAffinity: false });
      }
    });

    it('honours maxBlocksPerHost', async () => {
      await addPool(ds, 'p-max', '10.40.0.0/28', { blockSize: 30 });
      const ipam = new IpamClient(ds);
      await assert.rejects(
        ipam.autoAssign({ node: 'max-a', handleId: 'ma', num4: 5, pools: ['p-max'], maxBlocksPerHost: 1 }),
        (e: Error) => e instanceof ExhaustedError && /maxBlocksPerHost is 1/.test(e.message),
      );
      assert.equal(await ipam.store.getHandle('ma'), null, 'the partial allocation was undone');
      const ok = await ipam.autoAssign({ node: 'max-a', handleId: 'ma', num4: 5, pools: ['p-max'], maxBlocksPerHost: 2 });
      assert.equal(new Set(ok.ipv4.map((x) => x.block)).size, 2);
    });

    it('reuses released addresses only after the cooldown, oldest release first, and refuses stale releases', async () => {
      await addPool(ds, 'p-cool', '10.50.0.0/29', { blockSize: 29 });
      const clock = new ManualClock();
      const ipam = new IpamClient(ds, { clock });
      await ipam.configure({ ipCooldownSeconds: 60 });
      try {
        const all = (await ipam.autoAssign({ node: 'cool', handleId: 'c1', num4: 8, pools: ['p-cool'] })).ipv4;
        assert.deepEqual(all.map((a) => a.ip), ['10.50.0.0', '10.50.0.1', '10.50.0.2', '10.50.0.3', '10.50.0.4', '10.50.0.5', '10.50.0.6', '10.50.0.7']);
        const x3 = all[3]!;
        const x1 = all[1]!;
        await assert.rejects(ipam.releaseIps([{ ip: x3.ip, sequenceNumber: x3.sequenceNumber + 1 }]), (e: Error) => e instanceof ConflictError && /re-assigned/.test(e.message));
        await assert.rejects(ipam.releaseIps([{ ip: x3.ip, handleId: 'other' }]), /belongs to handle c1/);
        assert.deepEqual((await ipam.releaseIps([{ ip: x3.ip, handleId: 'c1', sequenceNumber: x3.sequenceNumber }])).released, [x3.ip]);
        clock.advance(1);
        await ipam.releaseIps([{ ip: x1.ip }]);
        assert.deepEqual((await ipam.releaseIps([{ ip: x1.ip }])).notAllocated, [x1.ip], 'a second release is not an error');
        await assert.rejects(ipam.autoAssign({ node: 'cool', handleId: 'c2', num4: 1, pools: ['p-cool'] }), ExhaustedError);
        await assert.rejects(ipam.assignIp({ ip: x3.ip, node: 'cool', handleId: 'c2' }), /cooling down/);
        clock.advance(59.5);
        const first = await ipam.autoAssign({ node: 'cool', handleId: 'c2', num4: 1, pools: ['p-cool'] });
        assert.equal(first.ipv4[0]!.ip, x3.ip);
        await assert.rejects(ipam.autoAssign({ node: 'cool', handleId: 'c3', num4: 1, pools: ['p-cool'] }), ExhaustedError);
        clock.advance(1);
        const second = await ipam.autoAssign({ node: 'cool', handleId: 'c3', num4: 1, pools: ['p-cool'] });
        assert.equal(second.ipv4[0]!.ip, x1.ip);
        // the old proof of x3 no longer frees the address its new owner holds
        await assert.rejects(ipam.releaseIps([{ ip: x3.ip, sequenceNumber: x3.sequenceNumber }]), /re-assigned since/);
        assert.deepEqual(await ipam.ipsByHandle('c2'), [x3.ip]);
      } finally {
        await ipam.configure({ ipCooldownSeconds: 0 });
      }
    });

    it('selects pools by node labels, use and disabled', async () => {
      await addPool(ds, 'p-rack-a', '10.60.0.0/24', { nodeSelector: 'rack == "a"' });
      await addPool(ds, 'p-off', '10.61.0.0/24', { disabled: true });
      await addPool(ds, 'p-tunnel', '10.62.0.0/24', { allowedUses: ['Tunnel'] });
      await addNode(ds, 'sel-a', { rack: 'a' });
      await addNode(ds, 'sel-b', { rack: 'b' });
      const ipam = new IpamClient(ds);
      const ok = await ipam.autoAssign({ node: 'sel-a', handleId: 'sel1', num4: 1, pools: ['p-rack-a'] });
      assert.match(ok.ipv4[0]!.ip, /^10\.60\./);
      await assert.rejects(ipam.autoAssign({ node: 'sel-b', handleId: 'sel2', num4: 1, pools: ['p-rack-a'] }), (e: Error) => e instanceof ExhaustedError && /no enabled IPv4 pool/.test(e.message));
      await assert.rejects(ipam.autoAssign({ node: 'sel-a', handleId: 'sel3', num4: 1, pools: ['p-off'] }), /no enabled IPv4 pool/);
      await assert.rejects(ipam.autoAssign({ node: 'sel-a', handleId: 'sel4', num4: 1, pools: ['p-tunnel'] }), /no enabled IPv4 pool allows Workload/);
      const t = await ipam.autoAssign({ node: 'sel-a', handleId: 'sel4', num4: 1, pools: ['10.62.0.0/24'], use: 'Tunnel' });
      assert.match(t.ipv4[0]!.ip, /^10\.62\./);
      await assert.rejects(ipam.autoAssign({ node: 'sel-a', handleId: 'sel5', num4: 1, pools: ['nope'] }), /IP pool "nope" does not exist/);
    });

    it('never hands out reserved addresses', async () => {
      await addPool(ds, 'p-res', '10.70.0.0/29', { blockSize: 29 });
      await addReservation(ds, 'r1', ['10.70.0.0/30', '10.70.0.5']);
      const ipam = new IpamClient(ds);
      const got = await ipam.autoAssign({ node: 'res', handleId: 'res1', num4: 3, pools: ['p-res'] });
      assert.deepEqual(got.ipv4.map((a) => a.ip), ['10.70.0.4', '10.70.0.6', '10.70.0.7']);
      await assert.rejects(ipam.autoAssign({ node: 'res', handleId: 'res2', num4: 1, pools: ['p-res'] }), ExhaustedError);
      await assert.rejects(ipam.assignIp({ ip: '10.70.0.1', node: 'res', handleId: 'res3' }), /reserved by an IPReservation/);
      // `ipam show`: nothing is free in the pool, as in its only block
      const use = (await ipam.getUtilization()).find((p) => p.name === 'p-res')!;
      assert.deepEqual([use.capacity, use.inUse, use.available], [8n, 3, 0n]);
      assert.deepEqual(use.blocks.map((b) => [b.inUse, b.available]), [[3, 0]]);
    });

    it('never carves a new block over a block of another size (left by a deleted pool)', async () => {
      const ipam = new IpamClient(ds);
      // a /26 block holding addresses, whose pool was replaced by one with /28 blocks, bypassing
      // the pool check (data written before it existed)
      await addPool(ds, 'p-resize', '10.74.0.0/26', { blockSize: 26 });
      const old = await ipam.autoAssign({ node: 'rs-a', handleId: 'rs-old', num4: 3, pools: ['p-resize'] });
      await removeResource(ds, 'IPPool', 'p-resize');
      await new ResourceReader(ds).createReplacementPool({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p-resize28' }, spec: { cidr: '10.74.0.0/26', blockSize: 28 } });
      await ipam.configure({ strictAffinity: true });
      try {
        await assert.rejects(ipam.autoAssign({ node: 'rs-b', handleId: 'rs-new', num4: 1, pools: ['p-resize28'] }), ExhaustedError);
      } finally {
        await ipam.configure({ strictAffinity: false });
      }
      // without strict affinity the free addresses of the old block may be borrowed: each once
      const got = await ipam.autoAssign({ node: 'rs-b', handleId: 'rs-new', num4: 61, pools: ['p-resize28'] });
      const all = [...old.ipv4, ...got.ipv4].map((a) => a.ip);
      assert.equal(new Set(all).size, 64);
      assert.deepEqual(new Set(got.ipv4.map((a) => a.block)), new Set([old.ipv4[0]!.block]));
      assert.deepEqual((await ipam.check()).invalidBlocks, []);
      await ipam.releaseByHandle('rs-new');
      await ipam.releaseByHandle('rs-old');
    });

    it('counts reserved and cooling-down addresses as not free in the pool total', async () => {
      // 10.71.0.0/27 in /29 blocks; reservations overlap each other and reach outside the pool
      await addPool(ds, 'p-util', '10.71.0.0/27', { blockSize: 29 });
      await addReservation(ds, 'r-util', ['10.71.0.16/29', '10.71.0.20/30', '10.71.0.30', '10.71.0.24/28']);
      const clock = new ManualClock();
      const ipam = new IpamClient(ds, { clock });
      await ipam.configure({ ipCooldownSeconds: 60 });
      try {
        const a = await ipam.assignIp({ ip: '10.71.0.1', node: 'util', handleId: 'u1' });
        await ipam.assignIp({ ip: '10.71.0.2', node: 'util', handleId: 'u2' });
        await ipam.releaseIps([{ ip: a.ip }]);
        const use = (await ipam.getUtilization()).find((p) => p.name === 'p-util')!;
        // 32 addresses: 16 reserved (.16-.31), 1 in use, 1 cooling down
        assert.deepEqual([use.capacity, use.inUse, use.available], [32n, 1, 14n]);
        assert.deepEqual(use.blocks.map((b) => [b.cidr, b.inUse, b.coolingDown, b.available]), [['10.71.0.0/29', 1, 1, 6]]);
      } finally {
        await ipam.configure({ ipCooldownSeconds: 0 });
      }
    });

    it('assigns specific addresses and refuses ones in use or outside every pool', async () => {
      await addPool(ds, 'p-spec', '10.80.0.0/24');
      const ipam = new IpamClient(ds);
      const a = await ipam.assignIp({ ip: '10.80.0.77', node: 'spec', handleId: 'sp1', attrs: { workload: 'w' } });
      assert.equal(a.cidr, '10.80.0.77/26');
      assert.equal((await ipam.store.getBlock('10.80.0.64/26'))?.value.affinity, 'host:spec');
      await assert.rejects(ipam.assignIp({ ip: '10.80.0.77', node: 'spec', handleId: 'sp2' }), (e: Error) => e instanceof ConflictError && /already assigned \(handle sp1\)/.test(e.message));
      await assert.rejects(ipam.assignIp({ ip: '192.0.2.1', node: 'spec', handleId: 'sp3' }), (e: Error) => e instanceof NotFoundError && /not in any enabled IP pool/.test(e.message));
      await assert.rejects(ipam.releaseIps([{ ip: '192.0.2.1' }]), /not in any IP pool or allocation block/);
      // autoAssign on the same node skips the taken address
      const next = await ipam.autoAssign({ node: 'spec', handleId: 'sp4', num4: 14, pools: ['p-spec'] });
      assert.ok(!next.ipv4.some((x) => x.ip === '10.80.0.77'));
      const d = await ipam.describeIp('10.80.0.77');
      assert.equal(d?.handleId, 'sp1');
      assert.equal(await ipam.describeIp('10.80.0.200'), undefined);
    });

    it('gives a node\'s blocks up', async () => {
      await addPool(ds, 'p-gone', '10.90.0.0/24');
      const ipam = new IpamClient(ds);
      const r = await ipam.autoAssign({ node: 'gone', handleId: 'g1', num4: 1, pools: ['p-gone'] });
      await ipam.autoAssign({ node: 'gone', handleId: 'g2', num4: 70, pools: ['p-gone'] });
      await ipam.releaseByHandle('g2');
      const released = await ipam.releaseHostAffinities('gone');
      assert.equal(released.length, 2);
      assert.deepEqual(await ipam.store.listAffinities('gone'), []);
      const kept = await ipam.store.getBlock(r.ipv4[0]!.block);
      assert.equal(kept?.value.affinity, null, 'the non-empty block stays, ownerless');
      const blocks = (await ipam.store.listBlocks(4)).filter((b) => b.value.cidr.startsWith('10.90.'));
      assert.equal(blocks.length, 1, 'the empty block was deleted');
    });
  });
}
