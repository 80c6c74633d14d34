import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { ValidationError } from '../../src/errors.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { ResourceReader } from '../../src/ipam/resource-reader.js';

/**
 * Pool overlap is checked when a pool is created, as in Calico (libcalico-go ippool.go checks it
 * only when there is no old pool): overlapping pools that exist (an interrupted `ipam split`)
 * can still be updated, e.g. disabled.
 */
const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}): Resource => ({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name }, spec: { cidr, ...extra } });

describe('IPPool overlap and updates', () => {
  test('overlapping stored pools can be updated; a new overlapping pool is still refused', async () => {
    const ds = new MemoryDatastore();
    const c = new ResourceClient(ds);
    await c.create(pool('whole', '10.70.0.0/24'));
    // what an interrupted split leaves: a part overlapping the pool being split
    await new ResourceReader(ds).createReplacementPool(pool('split-whole-0', '10.70.0.0/25') as never);
    const whole = (await c.get('IPPool', 'whole'))!;
    const disabled = await c.update({ ...whole, spec: { ...(whole.spec as object), disabled: true } });
    assert.equal((disabled.spec as { disabled: boolean }).disabled, true);
    const part = await c.apply(pool('split-whole-0', '10.70.0.0/25', { natOutgoing: true }));
    assert.equal((part.spec as { natOutgoing: boolean }).natOutgoing, true);
    assert.deepEqual(await c.checkReferences([pool('whole', '10.70.0.0/24', { disabled: false })]), [], 'an update in a batch (apply -f) is not an overlap');
    await assert.rejects(c.create(pool('another', '10.70.0.128/25')), /overlaps IP pool "whole"/);
    const batch = await c.checkReferences([pool('whole', '10.70.0.0/24'), pool('new', '10.70.0.64/26')]);
    assert.deepEqual(batch.map((b) => b.index), [1], 'a new pool in a batch is checked against the stored ones');
  });

  test('a new pool over blocks of another size left by a deleted pool is refused (they would be handed out twice)', async () => {
    const ds = new MemoryDatastore();
    const c = new ResourceClient(ds);
    await c.create(pool('old', '10.72.0.0/24'));
    const held = await new IpamClient(ds).autoAssign({ node: 'n1', handleId: 'h1', num4: 2 });
    assert.match(held.ipv4[0]!.block, /\/26$/);
    await c.delete('IPPool', 'old');
    await assert.rejects(c.create(pool('smaller', '10.72.0.0/24', { blockSize: 28 })), (e: Error) =>
      e instanceof ValidationError && /spec\.blockSize: blockSize 28 conflicts with allocation block 10\.72\.0\.\d+\/26, which a deleted pool left in this range \(blocks outlive their pool\); use blockSize 26$/.test(e.message));
    assert.deepEqual((await c.checkReferences([pool('smaller', '10.72.0.0/25', { blockSize: 28 })])).map((r) => r.index), [0], 'checked for apply -f batches too');
    await c.create(pool('same-size', '10.72.0.0/24', { blockSize: 26 }));
    await c.create(pool('elsewhere', '10.73.0.0/24', { blockSize: 28 }));
  });
});

