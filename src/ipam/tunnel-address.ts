/**
 * The VXLAN tunnel address of a node (Calico's tunnel IP allocator in calico-node): when some IP
 * pool has `vxlanMode` Always or CrossSubnet, the node needs a VTEP address from one of those
 * pools (an IPAM allocation with use `Tunnel`, handle `vxlan-tunnel-addr-<node>`) and a stable
 * MAC; both are written into its Node (`ipv4VXLANTunnelAddr`, `vxlanTunnelMACAddr`). When no
 * VXLAN pool is left the address is released and the fields are cleared. Idempotent.
 */
import type { IPPoolSpec, NodeSpec, Resource } from '../api/types.js';
import { vtepMacFor } from '../calc/route-resolver.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { cidrContains, parseIp, tryParseCidr } from '../net/cidr.js';
import { isConflict, NotFoundError } from '../errors.js';
import { IpamClient } from './ipam-client.js';

export const vxlanTunnelHandle = (node: string): string => `vxlan-tunnel-addr-${node}`;

export type TunnelAddressResult = { action: 'assigned' | 'kept' | 'released' | 'none'; address?: string };

export async function ensureVxlanTunnelAddress(ds: Datastore, node: string): Promise<TunnelAddressResult> {
  const rc = new ResourceClient(ds);
  const pools = (await rc.list('IPPool')).items.filter((p) => {
    const s = p.spec as IPPoolSpec;
    return (s.vxlanMode ?? 'Never') !== 'Never' && !s.disabled && tryParseCidr(s.cidr)?.family === 4;
  });
  const ipam = new IpamClient(ds);
  let assigned: string | undefined; // kept across a lost Node write, so a retry never allocates twice
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await rc.get('Node', node);
    if (!res) throw new NotFoundError(`node ${node} does not exist: cannot give it a VXLAN tunnel address`);
    const spec = { ...(res.spec as NodeSpec) };
    const current = spec.ipv4VXLANTunnelAddr;
    const inPool = current && pools.some((p) => cidrContains(tryParseCidr((p.spec as IPPoolSpec).cidr)!, parseIp(current)));
    if (pools.length > 0 && inPool && spec.vxlanTunnelMACAddr) return { action: 'kept', address: current };
    let action: TunnelAddressResult['action'];
    if (pools.length === 0) {
      if (!current) return { action: 'none' };
      await ipam.releaseByHandle(vxlanTunnelHandle(node));
      delete spec.ipv4VXLANTunnelAddr;
      delete spec.vxlanTunnelMACAddr;
      action = 'released';
    } else {
      if (assigned) spec.ipv4VXLANTunnelAddr = assigned;
      else if (!inPool) {
        if (current) await ipam.releaseByHandle(vxlanTunnelHandle(node));
        const got = await ipam.autoAssign({ node, handleId: vxlanTunnelHandle(node), num4: 1, use: 'Tunnel', pools: pools.map((p) => p.metadata.name), attrs: { type: 'vxlanTunnelAddress', node } });
        spec.ipv4VXLANTunnelAddr = assigned = got.ipv4[0]!.ip;
      }
      spec.vxlanTunnelMACAddr = spec.vxlanTunnelMACAddr ?? vtepMacFor(node);
      action = 'assigned';
    }
    try {
      await rc.update({ ...res, spec } as Resource);
      return spec.ipv4VXLANTunnelAddr ? { action, address: spec.ipv4VXLANTunnelAddr } : { action };
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  throw new Error(`could not write the VXLAN tunnel address of node ${node}: too many concurrent changes`);
}
