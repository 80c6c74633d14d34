/**
 * Translates local endpoints into their chains and dispatch-map elements. A workload gets
 * `tw-`/`fw-` chains and one element in each workload map (`"cali…" : goto fw-cali…`); a workload
 * interface with no element is dropped by the dispatch chains (fail closed). A host endpoint gets
 * its seven chains and elements in the host-endpoint maps. Tier group chains (the jumps to a
 * tier's policies) are shared by endpoints with the same policies and reference-counted here. Host endpoints without an interface name
 * (`interfaceName: '*'` or only expectedIPs) are not programmed (reported by `skipped`). No I/O.
 */
import type { EndpointState } from '../../calc/types.js';
import type { NftChain } from '../nftables/model.js';
import { endpointChain, MAPS, type EndpointChainKind } from '../nftables/names.js';
import { renderHostEndpointChains, renderWorkloadChains } from '../nftables/render-endpoint.js';
import type { TableReconciler } from '../nftables/table-reconciler.js';
import type { DataplaneManager } from './manager.js';

const WORKLOAD_MAPS: [string, EndpointChainKind, 'goto'][] = [[MAPS.fromWl, 'fw', 'goto'], [MAPS.toWl, 'tw', 'goto']];
const HOST_MAPS: [string, EndpointChainKind, 'jump'][] = [
  [MAPS.fromHep, 'fh', 'jump'], [MAPS.toHep, 'th', 'jump'], [MAPS.fromHepFwd, 'fhf', 'jump'], [MAPS.toHepFwd, 'thf', 'jump'],
  [MAPS.fromHepPreDnat, 'fhp', 'jump'], [MAPS.fromHepUntracked, 'fhu', 'jump'], [MAPS.toHepUntracked, 'thu', 'jump'],
];

interface Programmed {
  iface: string;
  kind: 'workload' | 'host';
  chains: string[];
  /** Tier group chains it uses (shared, reference-counted). */
  groups: string[];
}

export class EndpointManager implements DataplaneManager {
  readonly name = 'endpoints';
  private readonly desired = new Map<string, EndpointState>();
  private readonly programmed = new Map<string, Programmed>();
  private readonly dirty = new Set<string>();
  /** Tier group chain → number of endpoints using it. */
  private readonly groupUsers = new Map<string, number>();
  readonly skipped = new Set<string>();

  constructor(private readonly table: TableReconciler) {}

  get count(): number {
    return this.desired.size;
  }

  endpoint(id: string): EndpointState | undefined {
    return this.desired.get(id);
  }

  onEndpointUpdate(ep: EndpointState): void {
    this.desired.set(ep.id, ep);
    this.dirty.add(ep.id);
  }

  onEndpointRemoved(id: string): void {
    if (this.desired.delete(id)) this.dirty.add(id);
  }

  completeDeferredWork(): void {
    for (const id of this.dirty) {
      const ep = this.desired.get(id);
      const usable = ep && ep.interfaceName && ep.interfaceName !== '*';
      const old = this.programmed.get(id);
      const chains: NftChain[] = usable ? (ep.kind === 'host' ? renderHostEndpointChains(ep) : renderWorkloadChains(ep)) : [];
      if (old && (!usable || old.iface !== ep.interfaceName || old.kind !== ep.kind)) this.unprogram(id, old);
      if (!usable) {
        if (ep) this.skipped.add(id);
        else this.skipped.delete(id);
        continue;
      }
      this.skipped.delete(id);
      const own = chains.filter((c) => !c.shared);
      const groups = chains.filter((c) => c.shared);
      // Groups first (taken before the old ones are released, so a group kept stays programmed).
      for (const g of groups) {
        const n = this.groupUsers.get(g.name) ?? 0;
        if (n === 0) this.table.setChain(g);
        this.groupUsers.set(g.name, n + 1);
      }
      const prev = this.programmed.get(id);
      if (prev) this.releaseGroups(prev.groups);
      for (const c of own) this.table.setChain(c);
      const iface = ep.interfaceName!;
      for (const [map, kind, verb] of ep.kind === 'host' ? HOST_MAPS : WORKLOAD_MAPS) this.table.addElement(map, `"${iface}"`, `${verb} ${endpointChain(kind, iface)}`);
      this.programmed.set(id, { iface, kind: ep.kind, chains: own.map((c) => c.name), groups: groups.map((g) => g.name) });
    }
    this.dirty.clear();
  }

  private unprogram(id: string, old: Programmed): void {
    for (const [map] of old.kind === 'host' ? HOST_MAPS : WORKLOAD_MAPS) this.table.removeElement(map, `"${old.iface}"`);
    for (const c of old.chains) this.table.deleteChain(c);
    this.releaseGroups(old.groups);
    this.programmed.delete(id);
  }

  private releaseGroups(groups: readonly string[]): void {
    for (const g of groups) {
      const n = (this.groupUsers.get(g) ?? 1) - 1;
      if (n > 0) this.groupUsers.set(g, n);
      else {
        this.groupUsers.delete(g);
        this.table.deleteChain(g);
      }
    }
  }
}
