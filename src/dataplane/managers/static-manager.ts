/**
 * Owns the table's static skeleton (base chains, dispatch chains, failsafes, pool sets) and
 * re-renders it when the settings it depends on change (FelixConfiguration). Pool sets' elements
 * come from the pools (natOutgoing). No I/O.
 */
import type { FelixSettings, HostIpUpdate, IpPoolUpdate } from '../../calc/types.js';
import { tryParseCidr } from '../../net/cidr.js';
import { nftAddr } from '../nftables/render-rule.js';
import { SETS } from '../nftables/names.js';
import { DEFAULT_STATIC_SETTINGS, renderStaticChains, renderStaticSets, type StaticSettings } from '../nftables/render-static.js';
import type { TableReconciler } from '../nftables/table-reconciler.js';
import type { DataplaneManager } from './manager.js';

export interface PoolInfo {
  cidr: string;
  natOutgoing: boolean;
  disabled?: boolean;
}

export class StaticManager implements DataplaneManager {
  readonly name = 'static';
  private settings: StaticSettings = DEFAULT_STATIC_SETTINGS;
  private rendered: string | undefined;
  private readonly pools = new Map<string, PoolInfo>();
  private poolsDirty = false;
  /** Every node's addresses (the node-addrs sets: tunnel traffic between nodes passes host-endpoint policy). */
  private readonly nodes = new Map<string, HostIpUpdate>();
  private readonly nodesDirty = new Set<string>();

  constructor(private readonly table: TableReconciler) {}

  onConfigUpdate(s: FelixSettings): void {
    this.settings = {
      defaultEndpointToHostAction: s.defaultEndpointToHostAction,
      failsafeInbound: s.failsafeInboundHostPorts,
      failsafeOutbound: s.failsafeOutboundHostPorts,
    };
  }

  onHostIpUpdate(h: HostIpUpdate): void {
    this.nodesDirty.add(h.node);
    const old = this.nodes.get(h.node);
    if (old) this.nodesDirty.add(`-${old.ipv4 ?? ''}|${old.ipv6 ?? ''}`);
    this.nodes.set(h.node, h);
  }

  onHostIpRemoved(node: string): void {
    const old = this.nodes.get(node);
    if (!old) return;
    this.nodes.delete(node);
    this.nodesDirty.add(`-${old.ipv4 ?? ''}|${old.ipv6 ?? ''}`);
  }

  onIpPoolUpdate(p: IpPoolUpdate): void {
    this.pools.set(p.name, { cidr: p.cidr, natOutgoing: p.natOutgoing, disabled: p.disabled });
    this.poolsDirty = true;
  }

  onIpPoolRemoved(name: string): void {
    if (this.pools.delete(name)) this.poolsDirty = true;
  }

  completeDeferredWork(): void {
    const key = JSON.stringify(this.settings);
    if (key !== this.rendered) {
      const first = this.rendered === undefined;
      this.rendered = key;
      for (const s of renderStaticSets(this.settings)) {
        // Maps and pool sets are filled by managers: declare them once, keep their elements.
        if (!first && this.table.hasSet(s.name) && s.elements.size === 0) continue;
        this.table.setSet(s);
      }
      for (const c of renderStaticChains(this.settings)) this.table.setChain(c);
      if (first) this.poolsDirty = true;
    }
    if (this.nodesDirty.size > 0) this.syncNodeSets();
    if (this.poolsDirty) {
      this.poolsDirty = false;
      const want = new Map<string, Set<string>>([[SETS.masqPools4, new Set()], [SETS.allPools4, new Set()], [SETS.masqPools6, new Set()], [SETS.allPools6, new Set()]]);
      for (const p of this.pools.values()) {
        const a = nftAddr(p.cidr);
        if (!a || !tryParseCidr(p.cidr)) continue;
        want.get(a.family === 4 ? SETS.allPools4 : SETS.allPools6)!.add(a.text);
        if (p.natOutgoing && !p.disabled) want.get(a.family === 4 ? SETS.masqPools4 : SETS.masqPools6)!.add(a.text);
      }
      for (const [name, keys] of want) {
        const have = this.table.desired.sets.get(name)!.elements;
        for (const k of [...have.keys()]) if (!keys.has(k)) this.table.removeElement(name, k);
        for (const k of keys) if (!have.has(k)) this.table.addElement(name, k);
      }
    }
  }

  /**
   * Only what changed: addresses a changed or removed node had leave the sets unless another
   * node still has them; the changed nodes' current addresses are added.
   */
  private syncNodeSets(): void {
    const has = (set: string, a: string) => this.table.desired.sets.get(set)?.elements.has(a) ?? false;
    const inUse = (fam: 'ipv4' | 'ipv6', a: string) => [...this.nodes.values()].some((n) => n[fam] === a);
    for (const d of this.nodesDirty) {
      if (d.startsWith('-')) {
        const [v4, v6] = d.slice(1).split('|');
        if (v4 && !inUse('ipv4', v4) && has(SETS.nodes4, v4)) this.table.removeElement(SETS.nodes4, v4);
        if (v6 && !inUse('ipv6', v6) && has(SETS.nodes6, v6)) this.table.removeElement(SETS.nodes6, v6);
        continue;
      }
      const n = this.nodes.get(d);
      if (n?.ipv4 && !has(SETS.nodes4, n.ipv4)) this.table.addElement(SETS.nodes4, n.ipv4);
      if (n?.ipv6 && !has(SETS.nodes6, n.ipv6)) this.table.addElement(SETS.nodes6, n.ipv6);
    }
    this.nodesDirty.clear();
  }
}
