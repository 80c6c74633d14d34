import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { BatchWriteError, ResourceClient } from '../../src/datastore/resource-client.js';
import { ValidationError, isNotFound } from '../../src/errors.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { ipamResourceClient } from '../../src/ipam/ipam-resource-client.js';
import { addNode } from '../ipam/fixtures.js';

/**
 * The batch rules live in the ResourceClient, so a controller calling the library gets what the CLI
 * does: everything checked before the first write, tiers first on apply and last on delete, a tier
 * in use refused, built-ins refused, a deleted pool's blocks given up (with ipamResourceClient).
 */

const V3 = 'projectcalico.org/v3';
const tier = { apiVersion: V3, kind: 'Tier', metadata: { name: 'guard' }, spec: { order: 50 } };
const policy = { apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'guard.block', namespace: 'data' }, spec: { tier: 'guard', selector: 'all()', types: ['Ingress'] } };
const netset = (name: string) => ({ apiVersion: V3, kind: 'GlobalNetworkSet', metadata: { name }, spec: { nets: ['192.0.2.0/24'] } });

describe('ResourceClient batches', () => {
  test('applyBatch writes tiers first, so a policy before its tier in the batch is fine', async () => {
    const ds = new MemoryDatastore();
    const client = new ResourceClient(ds);
    const { written } = await client.applyBatch([{ doc: policy, origin: 'a.yaml[0]' }, { doc: tier, origin: 'a.yaml[1]' }], { mode: 'apply' });
    assert.deepEqual(written.map((r) => r.kind), ['Tier', 'NetworkPolicy']);
    assert.ok(await client.get('NetworkPolicy', 'guard.block', 'data'));
  });

  test('applyBatch checks everything before writing: every problem named by origin, nothing written', async () => {
    const ds = new MemoryDatastore();
    const client = new ResourceClient(ds);
    const bad = { apiVersion: V3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: 'nope' } };
    await assert.rejects(client.applyBatch([{ doc: netset('ok'), origin: 'f[0]' }, { doc: policy, origin: 'f[1]' }, { doc: bad, origin: 'f[2]' }], { mode: 'apply' }), (err: Error) => {
      assert.ok(err instanceof ValidationError);
      assert.match(err.message, /^f\[2\] IPPool p: spec\.cidr: /);
      return true;
    });
    await assert.rejects(client.applyBatch([{ doc: netset('ok'), origin: 'f[0]' }, { doc: policy, origin: 'f[1]' }], { mode: 'apply' }), /: f\[1\] NetworkPolicy data\/guard\.block: spec\.tier: tier "guard" does not exist; create the Tier first$/);
    const marked = { ...netset('m'), metadata: { name: 'm', annotations: { 'brindle.io/preview': 'delete' } } };
    await assert.rejects(client.applyBatch([{ doc: marked, origin: 'g[0]' }], { mode: 'create' }), /g\[0\] GlobalNetworkSet m: .*marked "delete" for policy preview, which create does not carry out/);
    assert.equal((await ds.list('/')).items.length, 0);
  });

  test('create with skipExists skips; a failure after some writes is a BatchWriteError with the count', async () => {
    const ds = new MemoryDatastore();
    const client = new ResourceClient(ds);
    await client.applyBatch([{ doc: netset('a') }], { mode: 'create' });
    const r = await client.applyBatch([{ doc: netset('a') }, { doc: netset('b') }], { mode: 'create', skipExists: true });
    assert.deepEqual([r.written.map((x) => x.metadata.name), r.skipped.map((x) => x.metadata.name)], [['b'], ['a']]);
    await assert.rejects(client.applyBatch([{ doc: netset('a'), origin: 'h[0]' }, { doc: netset('zz'), origin: 'h[1]' }], { mode: 'replace' }), (err: Error) => {
      assert.ok(err instanceof BatchWriteError, err.name);
      assert.equal(err.done, 1);
      assert.equal(err.total, 2);
      assert.ok(isNotFound(err), 'keeps the code of the failure');
      assert.equal(err.message, 'h[1] GlobalNetworkSet zz does not exist');
      return true;
    });
  });

  test('deleteBatch: built-ins and tiers in use are refused before anything is deleted; tiers go last', async () => {
    const ds = new MemoryDatastore();
    const client = new ResourceClient(ds);
    await client.applyBatch([{ doc: tier }, { doc: policy }, { doc: netset('a') }], { mode: 'apply' });
    await assert.rejects(client.deleteBatch([{ kind: 'GlobalNetworkSet', name: 'a' }, { kind: 'Tier', name: 'default', origin: 'd[1]' }]), /: d\[1\] Tier default: built-in resources cannot be deleted$/);
    await assert.rejects(client.deleteBatch([{ kind: 'GlobalNetworkSet', name: 'a' }, { kind: 'Tier', name: 'guard' }]), /: Tier guard: tier is still used by NetworkPolicy data\/guard\.block$/);
    assert.ok(await client.get('GlobalNetworkSet', 'a'), 'nothing deleted');
    const { deleted } = await client.deleteBatch([{ kind: 'tier', name: 'guard' }, { kind: 'networkpolicy', name: 'guard.block', namespace: 'data' }, { kind: 'GlobalNetworkSet', name: 'gone' }], { skipNotExists: true });
    assert.deepEqual(deleted.map((r) => r.kind), ['NetworkPolicy', 'Tier']);
  });

  test('ipamResourceClient: deleting a pool makes its nodes give up its blocks', async () => {
    const ds = new MemoryDatastore();
    await addNode(ds, 'n1');
    const client = ipamResourceClient(ds);
    await client.applyBatch([{ doc: { apiVersion: V3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.70.0.0/24' } } }], { mode: 'apply' });
    const ipam = new IpamClient(ds);
    await ipam.autoAssign({ node: 'n1', handleId: 'h1', num4: 1 });
    assert.equal((await ipam.store.listAffinities('n1')).length, 1);
    await client.deleteBatch([{ kind: 'IPPool', name: 'p' }]);
    assert.equal((await ipam.store.listAffinities('n1')).length, 0);
    // a bare ResourceClient leaves IPAM alone
    await client.applyBatch([{ doc: { apiVersion: V3, kind: 'IPPool', metadata: { name: 'q' }, spec: { cidr: '10.71.0.0/24' } } }], { mode: 'apply' });
    await ipam.autoAssign({ node: 'n1', handleId: 'h2', num4: 1, pools: ['q'] });
    await new ResourceClient(ds).deleteBatch([{ kind: 'IPPool', name: 'q' }]);
    assert.equal((await ipam.store.listAffinities('n1')).length, 1);
  });
});
