import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Datastore } from '../../src/datastore/datastore.js';
import { newBlock } from '../../src/ipam/block.js';
import { parseCidr } from '../../src/net/cidr.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import type { IpamCheckReport } from '../../src/ipam/ipam-report.js';
import { addNode, addPool, addWorkloadEndpoint, freshStore, removeResource } from './fixtures.js';

/** Problems of one kind in a report, restricted to addresses/handles/nodes of one test. */
function only<T>(items: T[], pick: (t: T) => string, mark: string): T[] {
  return items.filter((i) => pick(i).includes(mark));
}

for (const backend of ['memory', 'sqlite'] as const) {
  describe(`IPAM check and repair on ${backend}`, () => {
    let ds: Datastore;
    let dispose: () => Promise<void>;
    let ipam: IpamClient;
    before(async () => {
      ({ ds, dispose } = await freshStore(backend));
      ipam = new IpamClient(ds);
    });
    after(async () => dispose());

    it('is clean for live workloads, reports and releases leaks all-or-none per handle', async () => {
      await addPool(ds, 'p-leak', '10.110.0.0/24');
      await addNode(ds, 'leak-n');
      const a = await ipam.autoAssign({ node: 'leak-n', handleId: 'leak-a', num4: 1, attrs: { workload: 'wa', namespace: 'ns1', node: 'leak-n' }, pools: ['p-leak'] });
      const b = await ipam.autoAssign({ node: 'leak-n', handleId: 'leak-b', num4: 2, attrs: { workload: 'wb', namespace: 'ns1', node: 'leak-n' }, pools: ['p-leak'] });
      await addWorkloadEndpoint(ds, 'ns1', 'wa', 'leak-n', [`${a.ipv4[0]!.ip}/32`]);
      await addWorkloadEndpoint(ds, 'ns1', 'wb', 'leak-n', b.ipv4.map((x) => `${x.ip}/32`));
      let r = await ipam.check();
      assert.equal(r.summary.problems, 0, JSON.stringify(r));
      // wa is deleted (leak); wb keeps only its first address (the second leaks, but the handle is live)
      await removeResource(ds, 'WorkloadEndpoint', 'wa', 'ns1');
      await addWorkloadEndpoint(ds, 'ns1', 'wb', 'leak-n', [`${b.ipv4[0]!.ip}/32`]);
      r = await ipam.check();
      assert.deepEqual(r.leakedIps.map((l) => [l.ip, l.handleId, l.reason]), [
        [a.ipv4[0]!.ip, 'leak-a', 'workload endpoint ns1/wa does not exist'],
        [b.ipv4[1]!.ip, 'leak-b', 'workload endpoint ns1/wb no longer has this address'],
      ]);
      const s = await ipam.releaseFromReport(r);
      assert.deepEqual(s.releasedIps, [a.ipv4[0]!.ip]);
      assert.deepEqual(s.skippedHandles.map((x) => x.handleId), ['leak-b']);
      assert.match(s.skippedHandles[0]!.reason, /not reported as leaked/);
      assert.deepEqual(await ipam.ipsByHandle('leak-b'), b.ipv4.map((x) => x.ip));
      r = await ipam.check();
      assert.deepEqual(r.leakedIps.map((l) => l.ip), [b.ipv4[1]!.ip]);
      await ipam.releaseIps([{ ip: b.ipv4[1]!.ip }]);
      assert.equal((await ipam.check()).summary.problems, 0);
    });

    it('re-validates with sequence numbers: a report older than a re-assignment releases nothing', async () => {
      await addPool(ds, 'p-stale', '10.111.0.0/30', { blockSize: 30 });
      const x = await ipam.autoAssign({ node: 'stale-n', handleId: 'stale-1', num4: 1, attrs: { node: 'stale-gone' }, pools: ['p-stale'] });
      const report = await ipam.check();
      assert.deepEqual(only(report.leakedIps, (l) => l.ip, '10.111.').map((l) => l.reason), ['node stale-gone does not exist']);
      // the address is released and handed to the same handle name again before the repair runs
      await ipam.releaseByHandle('stale-1');
      const again = await ipam.assignIp({ ip: x.ipv4[0]!.ip, node: 'stale-n', handleId: 'stale-1', attrs: { node: 'stale-gone' } });
      assert.notEqual(again.sequenceNumber, x.ipv4[0]!.sequenceNumber);
      const s = await ipam.releaseFromReport(report);
      assert.deepEqual(s.releasedIps, []);
      assert.match(s.skippedHandles[0]!.reason, /changed since the report/);
      assert.deepEqual(await ipam.ipsByHandle('stale-1'), [x.ipv4[0]!.ip]);
      await ipam.releaseByHandle('stale-1');
    });

    it('repairs what a crash between two writes leaves behind', async () => {
      await addPool(ds, 'p-crash', '10.112.0.0/24');
      await addNode(ds, 'crash-a');
      const base = await ipam.autoAssign({ node: 'crash-a', handleId: 'crash-h', num4: 1, attrs: { node: 'crash-a' }, pools: ['p-crash'] });
      const block = base.ipv4[0]!.block;
      // 1. handle counted, block write never happened
      await ipam.store.adjustHandle('crash-h', block, 1);
      await ipam.store.adjustHandle('crash-orphan', block, 2);
      // 2. a claim interrupted after its pending affinity: for a free block, and for a block another node owns
      await ipam.store.createAffinity({ state: 'pending', node: 'crash-b', type: 'host', cidr: '10.112.0.128/26', deleted: false });
      await ipam.store.createAffinity({ state: 'pending', node: 'crash-b', type: 'host', cidr: block, deleted: false });
      const r = await ipam.check();
      assert.deepEqual(only(r.handleMismatches, (m) => m.handleId, 'crash'), [{ handleId: 'crash-h', block, handleCount: 2, allocated: 1 }]);
      assert.deepEqual(only(r.handlesWithNoIps, (h) => h.handleId, 'crash'), [{ handleId: 'crash-orphan' }]);
      assert.deepEqual(only(r.danglingAffinities, (d) => d.node, 'crash').map((d) => [d.cidr, d.reason]), [
        ['10.112.0.128/26', 'pending claim with no block (interrupted claim)'],
        [block, 'block belongs to host:crash-a'],
      ]);
      const s = await ipam.releaseFromReport(r);
      assert.deepEqual(s.repairedHandles, ['crash-h']);
      assert.deepEqual(s.deletedHandles, ['crash-orphan']);
      assert.equal(s.deletedAffinities.length, 2);
      assert.equal((await ipam.check()).summary.problems, 0);
      assert.deepEqual((await ipam.store.getHandle('crash-h'))?.value.block, { [block]: 1 });
    });

    it('reports blocks whose node holds no affinity, and repairs them', async () => {
      await addPool(ds, 'p-orphan', '10.116.0.0/24');
      const full = await ipam.autoAssign({ node: 'orph', handleId: 'orph-h', num4: 1, attrs: {}, pools: ['p-orphan'] });
      const used = full.ipv4[0]!.block;
      await ipam.store.createBlock(newBlock(parseCidr('10.116.0.192/26'), 'host:orph', new Date()));
      await ipam.store.deleteAffinity((await ipam.store.getAffinity('orph', used))!);
      const r = await ipam.check();
      assert.deepEqual(only(r.blocksWithoutAffinity, (b) => b.cidr, '10.116.'), [
        { cidr: used, node: 'orph', inUse: 1 },
        { cidr: '10.116.0.192/26', node: 'orph', inUse: 0 },
      ].sort((a, b) => (a.cidr < b.cidr ? -1 : 1)));
      const s = await ipam.releaseFromReport(r);
      assert.deepEqual(s.repairedBlocks.sort(), [used, '10.116.0.192/26'].sort());
      assert.equal(await ipam.store.getBlock('10.116.0.192/26'), null, 'the empty one is deleted');
      assert.equal((await ipam.store.getAffinity('orph', used))?.value.state, 'confirmed', 'the used one gets its affinity back');
      assert.equal(only((await ipam.check()).blocksWithoutAffinity, (b) => b.cidr, '10.116.').length, 0);
    });

    it('gives a live block back to its node when its release was interrupted', async () => {
      await addPool(ds, 'p-halfrel', '10.117.0.0/24');
      const got = await ipam.autoAssign({ node: 'halfrel', handleId: 'halfrel-h', num4: 1, pools: ['p-halfrel'] });
      const aff = (await ipam.store.getAffinity('halfrel', got.ipv4[0]!.block))!;
      await ipam.store.setAffinityState(aff, 'pendingDeletion'); // the release stopped right here
      const r = await ipam.check();
      assert.deepEqual(only(r.danglingAffinities, (d) => d.node, 'halfrel').map((d) => d.reason), ['affinity is pendingDeletion']);
      const s = await ipam.releaseFromReport(r);
      assert.deepEqual(s.repairedBlocks, [got.ipv4[0]!.block]);
      assert.equal((await ipam.store.getAffinity('halfrel', got.ipv4[0]!.block))?.value.state, 'confirmed');
      const next = await ipam.autoAssign({ node: 'halfrel', handleId: 'halfrel-h2', num4: 1, pools: ['p-halfrel'] });
      assert.equal(next.ipv4[0]!.block, got.ipv4[0]!.block, 'the node uses its block again');
    });

    it('finishes an interrupted claim on the node\'s next allocation', async () => {
      await addPool(ds, 'p-resume', '10.113.0.0/26', { blockSize: 28 });
      await ipam.store.createAffinity({ state: 'pending', node: 'resume-n', type: 'host', cidr: '10.113.0.32/28', deleted: false });
      const got = await ipam.autoAssign({ node: 'resume-n', handleId: 'resume-h', num4: 1, pools: ['p-resume'] });
      assert.equal(got.ipv4[0]!.block, '10.113.0.32/28', 'the pending claim is completed, not a new block');
      assert.equal((await ipam.store.getAffinity('resume-n', '10.113.0.32/28'))?.value.state, 'confirmed');
      // a confirmed affinity whose block vanished gets its block back
      await ipam.releaseByHandle('resume-h');
      await ipam.store.deleteBlock((await ipam.store.getBlock('10.113.0.32/28'))!);
      const again = await ipam.autoAssign({ node: 'resume-n', handleId: 'resume-h2', num4: 1, pools: ['p-resume'] });
      assert.equal(again.ipv4[0]!.block, '10.113.0.32/28');
    });

    it('reports unallocated addresses in use, several owners, addresses outside pools, deleted nodes', async () => {
      await addPool(ds, 'p-misc', '10.114.0.0/24');
      await addWorkloadEndpoint(ds, 'ns2', 'w1', 'misc-n', ['10.114.0.200/32']);
      await addWorkloadEndpoint(ds, 'ns2', 'w2', 'misc-n', ['10.114.0.200/32']);
      await addNode(ds, 'misc-n');
      await addPool(ds, 'p-temp', '10.115.0.0/24');
      const t = await ipam.autoAssign({ node: 'misc-n', handleId: 'misc-t', num4: 1, attrs: { node: 'misc-n' }, pools: ['p-temp'] });
      await removeResource(ds, 'IPPool', 'p-temp');
      await removeResource(ds, 'Node', 'misc-n');
      const r = await ipam.check();
      assert.deepEqual(only(r.inUseButUnallocated, (u) => u.ip, '10.114.'), [{ ip: '10.114.0.200', owner: 'WorkloadEndpoint ns2/w1, WorkloadEndpoint ns2/w2' }]);
      assert.deepEqual(only(r.multiplyOwnedIps, (u) => u.ip, '10.114.').map((m) => m.owners.length), [2]);
      assert.deepEqual(only(r.ipsOutsidePools, (o) => o.ip, '10.115.').map((o) => o.ip), [t.ipv4[0]!.ip]);
      assert.deepEqual(only(r.leakedIps, (l) => l.ip, '10.115.').map((l) => l.reason), ['node misc-n does not exist']);
      const report: IpamCheckReport = JSON.parse(JSON.stringify(r));
      const s = await ipam.releaseFromReport(report);
      assert.ok(s.releasedIps.includes(t.ipv4[0]!.ip), 'the address of a deleted node is released even though its pool is gone');
      await assert.rejects(ipam.releaseFromReport({ kind: 'Other' } as unknown as IpamCheckReport), /not a Brindle IPAM check report/);
    });
  });
}
