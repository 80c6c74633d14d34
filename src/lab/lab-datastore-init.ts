import type { Resource } from '../api/types.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { LAB_AS_NUMBER } from './lab-agents.js';
import type { Routing } from './lab-state.js';

/**
 * The resources a fresh lab datastore starts with: the default IPv4 pool (VXLAN Always for
 * `--routing vxlan`, plain routed for `bgp`; never IPIP, which this kernel lacks) and the default
 * BGPConfiguration (full node-to-node mesh, AS 64512). Applied with the ordinary write path, so a
 * second `lab up` finds them in place. Nodes are created by their agents.
 */

export const LAB_POOL_CIDR = '10.65.0.0/16';

export function labBootstrapResources(routing: Routing): Resource[] {
  return [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPPool',
      metadata: { name: 'default-ipv4-ippool' },
      spec: { cidr: LAB_POOL_CIDR, blockSize: 26, ipipMode: 'Never', vxlanMode: routing === 'vxlan' ? 'Always' : 'Never', natOutgoing: false, nodeSelector: 'all()' },
    },
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPConfiguration',
      metadata: { name: 'default' },
      spec: { nodeToNodeMeshEnabled: true, asNumber: LAB_AS_NUMBER },
    },
  ] as Resource[];
}

export async function bootstrapDatastore(ds: Datastore, routing: Routing): Promise<void> {
  const client = new ResourceClient(ds);
  for (const r of labBootstrapResources(routing)) await client.apply(r);
}
