/**
 * PolicyResolver (Felix's `policy_resolver.go` + the tier split of `event_sequencer.go`): for
 * each local endpoint, the ordered tiers and, in each, the ordered policies that match it, split
 * by direction (`types`) and, for host endpoints, into untracked / pre-DNAT / forward / normal
 * tiers. Endpoints are marked dirty on change and recomputed in `flush()`.
 *
 * It does NOT decide which policies match (ActiveRulesCalculator tells it) or send policies.
 */
import type { EndpointModel } from './model.js';
import type { PolicyMeta, SortedTier } from './policy-sorter.js';
import { PolicySorter } from './policy-sorter.js';
import type { EndpointState, PolicyKey, TierInfo } from './types.js';

export interface PolicyResolverCallbacks {
  onEndpointUpdate(endpoint: EndpointState): void;
  onEndpointRemoved(id: string): void;
}

type Category = 'normal' | 'untracked' | 'preDNAT' | 'forward';

export class PolicyResolver {
  private readonly endpoints = new Map<string, EndpointModel>();
  private readonly policiesOfEndpoint = new Map<string, Set<PolicyKey>>();
  private readonly endpointsOfPolicy = new Map<PolicyKey, Set<string>>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly sorter: PolicySorter,
    private readonly callbacks: PolicyResolverCallbacks,
  ) {}

  onEndpointUpdate(id: string, endpoint: EndpointModel | null): void {
    if (endpoint) {
      this.endpoints.set(id, endpoint);
    } else {
      this.endpoints.delete(id);
    }
    this.dirty.add(id);
  }

  onPolicyMatch(key: PolicyKey, endpointId: string): void {
    link(this.policiesOfEndpoint, endpointId, key);
    link(this.endpointsOfPolicy, key, endpointId);
    this.dirty.add(endpointId);
  }

  onPolicyMatchStopped(key: PolicyKey, endpointId: string): void {
    unlink(this.policiesOfEndpoint, endpointId, key);
    unlink(this.endpointsOfPolicy, key, endpointId);
    this.dirty.add(endpointId);
  }

  /** Ordering metadata of a policy changed: its endpoints need new tiers. */
  onPolicyOrderingChanged(key: PolicyKey): void {
    for (const id of this.endpointsOfPolicy.get(key) ?? []) this.dirty.add(id);
  }

  /** A tier's order or default action changed: recompute endpoints with a policy in it. */
  onTierChanged(name: string): void {
    for (const [id, keys] of this.policiesOfEndpoint) {
      for (const k of keys) {
        if (this.sorter.policy(k)?.tier === name) {
          this.dirty.add(id);
          break;
        }
      }
    }
  }

  flush(): void {
    for (const id of this.dirty) {
      const ep = this.endpoints.get(id);
      if (ep) this.callbacks.onEndpointUpdate(this.endpointState(ep));
      else this.callbacks.onEndpointRemoved(id);
    }
    this.dirty.clear();
  }

  private endpointState(ep: EndpointModel): EndpointState {
    const tiers = this.resolveTiers(ep.id);
    const out: EndpointState = {
      id: ep.id,
      kind: ep.kind,
      name: ep.name,
      node: ep.node,
      ipv4Nets: ep.ipv4Nets,
      ipv6Nets: ep.ipv6Nets,
      profileIds: ep.profileIds,
      tiers: tiers.normal,
    };
    if (ep.namespace !== undefined) out.namespace = ep.namespace;
    if (ep.interfaceName !== undefined) out.interfaceName = ep.interfaceName;
    if (ep.mac !== undefined) out.mac = ep.mac;
    if (ep.kind === 'host') {
      out.untrackedTiers = tiers.untracked;
      out.preDNATTiers = tiers.preDNAT;
      out.forwardTiers = tiers.forward;
    }
    return out;
  }

  private resolveTiers(endpointId: string): Record<Category, TierInfo[]> {
    const byTier = new Map<string, PolicyMeta[]>();
    for (const key of this.policiesOfEndpoint.get(endpointId) ?? []) {
      const meta = this.sorter.policy(key);
      if (!meta) continue;
      let list = byTier.get(meta.tier);
      if (!list) byTier.set(meta.tier, (list = []));
      list.push(meta);
    }
    const tiers = [...byTier.keys()].map((n) => this.sorter.tier(n)).sort(PolicySorter.compareTiers);
    const out: Record<Category, TierInfo[]> = { normal: [], untracked: [], preDNAT: [], forward: [] };
    for (const tier of tiers) {
      const policies = byTier.get(tier.name)!.sort(PolicySorter.comparePolicies);
      const lists: Record<Category, { ingress: PolicyKey[]; egress: PolicyKey[] }> = {
        normal: { ingress: [], egress: [] }, untracked: { ingress: [], egress: [] }, preDNAT: { ingress: [], egress: [] }, forward: { ingress: [], egress: [] },
      };
      for (const p of policies) {
        const cats: Category[] = p.doNotTrack ? ['untracked'] : p.preDNAT ? ['preDNAT'] : p.applyOnForward ? ['forward', 'normal'] : ['normal'];
        for (const c of cats) {
          if (p.ingress) lists[c].ingress.push(p.key);
          if (p.egress && c !== 'preDNAT') lists[c].egress.push(p.key);
        }
      }
      for (const c of Object.keys(lists) as Category[]) {
        const l = lists[c];
        if (l.ingress.length > 0 || l.egress.length > 0) out[c].push(tierInfo(tier, l.ingress, l.egress));
      }
    }
    return out;
  }
}

function tierInfo(t: SortedTier, ingress: PolicyKey[], egress: PolicyKey[]): TierInfo {
  const info: TierInfo = { name: t.name, defaultAction: t.defaultAction, ingressPolicies: ingress, egressPolicies: egress };
  if (t.order !== undefined) info.order = t.order;
  return info;
}

function link<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function unlink<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}
