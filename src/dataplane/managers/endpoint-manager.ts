/**
 * Translates local endpoints into their chains and dispatch-map elements. A workload gets
 * `tw-`/`fw-` chains and one element in each workload map (`"cali…" : goto fw-cali…`); a workload
 * interface with no element is dropped by the dispatch chains (fail closed). A host endpoint gets
 * its seven chains and elements in the host-endpoint maps. Tier group chains (the jumps to a
 * tier's policies) are shared by endpoints with the same policies and reference-counted here.
 * A host endpoint with its own interface is also in the `hep-ifaces` set. The all-interfaces host
 * endpoint (`interfaceName: "*"`) gets the same seven chains, entered through the `any-<kind>`
 * chains the static chains jump to for every other non-workload interface except `lo` and the
 * tunnel devices; with more
 * than one on a node, the first by id is programmed. Host endpoints with only expectedIPs are not
 * programmed (reported by `skipped`, as are the extra all-interfaces ones). No I/O.
 */
import type { EndpointState } from '../../calc/types.js';
import { ChainBuilder, type NftChain } from '../nftables/model.js';
import { ALL_INTERFACES, anyHostChain, endpointChain, MAPS, NOT_ANY_HEP_IFACES, SETS, type EndpointChainKind, type HostChainKind } from '../nftables/names.js';
import { renderHostEndpointChains, renderWorkloadChains } from '../nftables/render-endpoint.js';
import type { FlowLogSettings } from '../nftables/render-verdict.js';
import type { TableReconciler } from '../nftables/table-reconciler.js';
import type { DataplaneManager } from './manager.js';

const WORKLOAD_MAPS: [string, EndpointChainKind, 'goto'][] = [[MAPS.fromWl, 'fw', 'goto'], [MAPS.toWl, 'tw', 'goto']];
const HOST_MAPS: [string, HostChainKind, 'jump'][] = [
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
  /** The all-interfaces host endpoint programmed (its id), if any. */
  private anyHep: string | undefined;
  /** Ids of the all-interfaces host endpoints known. */
  private readonly anyIds = new Set<string>();
  private anyChainsDeclared = false;

  /** `flowLogs`: NFLOG before end-of-tier and final drops (flow logging; off when absent). */
  constructor(private readonly table: TableReconciler, private readonly flowLogs?: FlowLogSettings) {}

  get count(): number {
    return this.desired.size;
  }

  endpoint(id: string): EndpointState | undefined {
    return this.desired.get(id);
  }

  onEndpointUpdate(ep: EndpointState): void {
    this.desired.set(ep.id, ep);
    this.dirty.add(ep.id);
    if (ep.kind === 'host' && ep.interfaceName === ALL_INTERFACES) this.anyIds.add(ep.id);
    else this.anyIds.delete(ep.id);
  }

  onEndpointRemoved(id: string): void {
    if (this.desired.delete(id)) this.dirty.add(id);
    this.anyIds.delete(id);
  }

  completeDeferredWork(): void {
    if (!this.anyChainsDeclared) {
      this.anyChainsDeclared = true;
      for (const [, kind] of HOST_MAPS) this.table.setChain(new ChainBuilder(anyHostChain(kind)).build());
      for (const i of NOT_ANY_HEP_IFACES) this.table.addElement(SETS.hepIfaces, `"${i}"`);
    }
    // Which all-interfaces host endpoint is programmed: the first by id (a change re-renders the old and new one).
    const anyWanted = [...this.anyIds].sort()[0];
    if (anyWanted !== this.anyHep) {
      if (this.anyHep) this.dirty.add(this.anyHep);
      if (anyWanted) this.dirty.add(anyWanted);
    }
    const usable = (id: string): EndpointState | undefined => {
      const ep = this.desired.get(id);
      return ep?.interfaceName && (ep.interfaceName !== ALL_INTERFACES || (ep.kind === 'host' && id === anyWanted)) ? ep : undefined;
    };
    // Removals first, then what is (re)programmed.
    for (const id of this.dirty) {
      const ep = usable(id);
      const old = this.programmed.get(id);
      if (old && (!ep || old.iface !== ep.interfaceName || old.kind !== ep.kind)) this.unprogram(id, old);
    }
    for (const id of this.dirty) {
      const ep = usable(id);
      if (!ep) {
        if (this.desired.has(id)) this.skipped.add(id);
        else this.skipped.delete(id);
        continue;
      }
      // An all-interfaces endpoint's chains are named after its id (`*<id>`, hashed): two of them never share a chain.
      const chainIface = ep.interfaceName === ALL_INTERFACES ? `${ALL_INTERFACES}${id}` : ep.interfaceName!;
      const renderAs = chainIface === ep.interfaceName ? ep : { ...ep, interfaceName: chainIface };
      const chains: NftChain[] = ep.kind === 'host' ? renderHostEndpointChains(renderAs, this.flowLogs) : renderWorkloadChains(renderAs, this.flowLogs);
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
      if (iface === ALL_INTERFACES) {
        for (const [, kind] of HOST_MAPS) this.table.setChain(new ChainBuilder(anyHostChain(kind)).add(`jump ${endpointChain(kind, chainIface)}`).build());
      } else {
        for (const [map, kind, verb] of ep.kind === 'host' ? HOST_MAPS : WORKLOAD_MAPS) this.table.addElement(map, `"${iface}"`, `${verb} ${endpointChain(kind, iface)}`);
        if (ep.kind === 'host') this.table.addElement(SETS.hepIfaces, `"${iface}"`);
      }
      this.programmed.set(id, { iface, kind: ep.kind, chains: own.map((c) => c.name), groups: groups.map((g) => g.name) });
    }
    if (this.anyHep && !anyWanted) for (const [, kind] of HOST_MAPS) this.table.setChain(new ChainBuilder(anyHostChain(kind)).build());
    this.anyHep = anyWanted;
    this.dirty.clear();
  }

  private unprogram(id: string, old: Programmed): void {
    // The any-<kind> chains are emptied by completeDeferredWork once no all-interfaces endpoint is left.
    if (old.iface !== ALL_INTERFACES) {
      for (const [map] of old.kind === 'host' ? HOST_MAPS : WORKLOAD_MAPS) this.table.removeElement(map, `"${old.iface}"`);
      if (old.kind === 'host' && !NOT_ANY_HEP_IFACES.includes(old.iface)) this.table.removeElement(SETS.hepIfaces, `"${old.iface}"`);
    }
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
