import type { Resource } from '../../../src/api/types.js';
import { CalculationGraph, IPAM_BLOCK_PREFIX, type Update } from '../../../src/calc/graph.js';
import { keyOf } from '../../../src/calc/snapshot.js';
import { routeCallbacks } from '../../helpers/route-sink.js';
import { VxlanApplier } from '../../../src/dataplane/apply/vxlan-applier.js';
import { VxlanManager } from '../../../src/dataplane/managers/vxlan-manager.js';
import { exec, type NodeNs } from './topology.js';

/**
 * One node's calculation graph feeding a VxlanManager, applied to the node's namespace: the path
 * the agent takes (calc → manager → kernel) without the rest of the agent.
 */
export class VxlanNode {
  readonly manager: VxlanManager;
  readonly applier: VxlanApplier;
  readonly graph: CalculationGraph;

  constructor(readonly node: NodeNs, opts: { programNoEncapRoutes?: boolean } = {}) {
    this.manager = new VxlanManager({ hostname: node.name, ...opts });
    this.applier = new VxlanApplier(exec, node.ns);
    this.graph = new CalculationGraph({ hostname: node.name }, routeCallbacks(this.manager));
  }

  async update(updates: Update[]): Promise<void> {
    this.graph.onUpdates(updates);
    this.graph.onInSync();
    this.manager.completeDeferredWork();
    await this.applier.apply(this.manager.desired());
  }
}

export const res = (r: Resource): Update => ({ key: keyOf(r), value: r });

export function blockUpdate(cidr: string, owner: string): Update {
  return { key: `${IPAM_BLOCK_PREFIX}ipv4/block/${cidr.replace(/[./]/g, '-')}`, value: { cidr, affinity: `host:${owner}` } };
}
