/**
 * IpSetMemberIndex (Felix's `labelindex/named_port_index.go`): computes the members of every
 * active IP set from all endpoints and network sets in the cluster (not only local ones):
 * selector sets get endpoint IPs and network-set CIDRs (`10.0.0.1/32`, `192.168.0.0/16`),
 * named-port sets get `addr,proto:port` for each matching endpoint port. A member is reported
 * added when its first contributor appears and removed when its last one goes (de-duplicated).
 *
 * It does NOT decide which sets are active (RuleScanner does) or emit the sets themselves.
 */
import { LabelIndex } from '../selector/label-index.js';
import type { IpSetData, NamedPort } from './model.js';

export interface IpSetMemberCallbacks {
  onMemberAdded(setId: string, member: string): void;
  onMemberRemoved(setId: string, member: string): void;
}

/** What an item (endpoint or network set) can contribute to IP sets. */
export interface MemberSource {
  /** CIDRs (`10.0.0.1/32`, `10.1.0.0/16`). */
  nets: string[];
  /** Named ports (endpoints only). */
  ports: NamedPort[];
}

export class IpSetMemberIndex {
  private readonly index: LabelIndex;
  private readonly setsBySelector = new Map<string, Map<string, IpSetData>>();
  private readonly setsById = new Map<string, IpSetData>();
  private readonly sources = new Map<string, MemberSource>();
  /** item → set → members it contributes now. */
  private readonly contributions = new Map<string, Map<string, string[]>>();
  private readonly memberCounts = new Map<string, Map<string, number>>();

  constructor(private readonly callbacks: IpSetMemberCallbacks) {
    this.index = new LabelIndex({
      onMatchStarted: (selId, itemId) => {
        for (const set of this.setsBySelector.get(selId)?.values() ?? []) this.setContribution(itemId, set);
      },
      onMatchStopped: (selId, itemId) => {
        for (const set of this.setsBySelector.get(selId)?.values() ?? []) this.clearContribution(itemId, set.id);
      },
    });
  }

  onIpSetActive(set: IpSetData): void {
    this.setsById.set(set.id, set);
    let sets = this.setsBySelector.get(set.selectorId);
    if (sets) {
      sets.set(set.id, set);
      for (const itemId of [...this.index.matchingItems(set.selectorId)]) this.setContribution(itemId, set);
      return;
    }
    sets = new Map([[set.id, set]]);
    this.setsBySelector.set(set.selectorId, sets);
    this.index.updateSelector(set.selectorId, set.selector);
  }

  onIpSetInactive(set: IpSetData): void {
    const sets = this.setsBySelector.get(set.selectorId);
    if (!sets?.has(set.id)) return;
    for (const itemId of [...this.index.matchingItems(set.selectorId)]) this.clearContribution(itemId, set.id);
    sets.delete(set.id);
    this.setsById.delete(set.id);
    this.memberCounts.delete(set.id);
    if (sets.size === 0) {
      this.setsBySelector.delete(set.selectorId);
      this.index.deleteSelector(set.selectorId);
    }
  }

  onItemUpdate(id: string, labels: ReadonlyMap<string, string>, parentIds: readonly string[], source: MemberSource): void {
    const old = this.sources.get(id);
    this.sources.set(id, source);
    this.index.updateItem(id, labels, parentIds);
    if (old && !sameSource(old, source)) {
      // Sets still matched keep their membership but with the new addresses/ports.
      for (const setId of [...(this.contributions.get(id)?.keys() ?? [])]) {
        const set = this.findSet(setId);
        if (set) this.setContribution(id, set);
      }
    }
  }

  onItemRemoved(id: string): void {
    this.index.deleteItem(id);
    this.sources.delete(id);
  }

  onParentUpdate(id: string, labels: ReadonlyMap<string, string> | null): void {
    if (labels) this.index.updateParent(id, labels);
    else this.index.deleteParent(id);
  }

  private findSet(setId: string): IpSetData | undefined {
    return this.setsById.get(setId);
  }

  private membersFor(source: MemberSource, set: IpSetData): string[] {
    if (!set.namedPort) return [...new Set(source.nets)];
    const out = new Set<string>();
    for (const p of source.ports) {
      if (p.name !== set.namedPort) continue;
      if (set.namedPortProtocol !== 'any' && p.protocol !== set.namedPortProtocol) continue;
      for (const net of source.nets) {
        const slash = net.indexOf('/');
        const addr = slash < 0 ? net : net.slice(0, slash);
        // Only host addresses can carry a port (network sets have no ports anyway).
        if (slash >= 0 && net.slice(slash + 1) !== (addr.includes(':') ? '128' : '32')) continue;
        out.add(`${addr},${p.protocol}:${p.port}`);
      }
    }
    return [...out];
  }

  private setContribution(itemId: string, set: IpSetData): void {
    const source = this.sources.get(itemId);
    const next = source ? this.membersFor(source, set) : [];
    let bySet = this.contributions.get(itemId);
    const prev = bySet?.get(set.id) ?? [];
    const prevSet = new Set(prev);
    const nextSet = new Set(next);
    for (const m of next) if (!prevSet.has(m)) this.count(set.id, m, +1);
    for (const m of prev) if (!nextSet.has(m)) this.count(set.id, m, -1);
    if (!bySet) {
      bySet = new Map();
      this.contributions.set(itemId, bySet);
    }
    bySet.set(set.id, next);
  }

  private clearContribution(itemId: string, setId: string): void {
    const bySet = this.contributions.get(itemId);
    const prev = bySet?.get(setId);
    if (!bySet || !prev) return;
    for (const m of prev) this.count(setId, m, -1);
    bySet.delete(setId);
    if (bySet.size === 0) this.contributions.delete(itemId);
  }

  private count(setId: string, member: string, delta: number): void {
    let counts = this.memberCounts.get(setId);
    if (!counts) {
      counts = new Map();
      this.memberCounts.set(setId, counts);
    }
    const n = (counts.get(member) ?? 0) + delta;
    if (n > 0) counts.set(member, n);
    else counts.delete(member);
    if (delta > 0 && n === 1) this.callbacks.onMemberAdded(setId, member);
    if (delta < 0 && n === 0) this.callbacks.onMemberRemoved(setId, member);
  }
}

function sameSource(a: MemberSource, b: MemberSource): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
