import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeSpec } from '../../src/api/types.js';
import { vtepMacFor } from '../../src/calc/route-resolver.js';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { ensureVxlanTunnelAddress, vxlanTunnelHandle } from '../../src/ipam/tunnel-address.js';

const V3 = 'projectcalico.org/v3';

test('a node gets a VXLAN tunnel address from a VXLAN pool, keeps it, and gives it back when no VXLAN pool is left', async () => {
  const ds = new MemoryDatastore();
  const rc = new ResourceClient(ds);
  await rc.create({ apiVersion: V3, kind: 'Node', metadata: { name: 'n1' }, spec: { bgp: { ipv4Address: '10.0.0.1/24' } } });
  await rc.create({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'routed' }, spec: { cidr: '10.64.0.0/16' } });
  assert.deepEqual(await ensureVxlanTunnelAddress(ds, 'n1'), { action: 'none' });
  await rc.create({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'vx' }, spec: { cidr: '10.65.0.0/16', vxlanMode: 'Always' } });
  const first = await ensureVxlanTunnelAddress(ds, 'n1');
  assert.equal(first.action, 'assigned');
  assert.match(first.address!, /^10\.65\./);
  const spec = (await rc.get('Node', 'n1'))!.spec as NodeSpec;
  assert.deepEqual([spec.ipv4VXLANTunnelAddr, spec.vxlanTunnelMACAddr], [first.address, vtepMacFor('n1')]);
  assert.deepEqual(await ensureVxlanTunnelAddress(ds, 'n1'), { action: 'kept', address: first.address });
  const described = await new IpamClient(ds).describeIp(first.address!);
  assert.equal(described?.handleId, vxlanTunnelHandle('n1'));
  await rc.delete('IPPool', 'vx').catch(() => undefined);
  assert.equal((await ensureVxlanTunnelAddress(ds, 'n1')).action, 'released');
  assert.equal(((await rc.get('Node', 'n1'))!.spec as NodeSpec).ipv4VXLANTunnelAddr, undefined);
});
