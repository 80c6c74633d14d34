/**
 * PolicySorter (Felix's `policy_sorter.go`): knows every tier and the ordering metadata of every
 * policy, and compares them. Tiers: valid (a Tier resource exists, or one of Calico's built-in
 * tiers) before invalid (referenced by a policy but missing), then by order (none = +∞), then
 * name. Policies: by order (none = +∞), then the string `name/namespace/kind`.
 *
 * It does NOT know which policies match which endpoints (PolicyResolver does).
 */
import type { PolicyModel, TierModel } from './model.js';
import { builtinTierModel } from './resource-converter.js';
import type { PolicyKey } from './types.js';

export interface PolicyMeta {
  key: PolicyKey;
  tier: string;
  order: number;
  tieBreak: string;
  ingress: boolean;
  egress: boolean;
  doNotTrack: boolean;
  preDNAT: boolean;
  applyOnForward: boolean;
}

export interface SortedTier {
  name: string;
  valid: boolean;
  order?: number;
  defaultAction: 'Deny' | 'Pass';
}

export function policyMeta(p: PolicyModel): PolicyMeta {
  return {
    key: p.key,
    tier: p.identity.tier,
    order: p.order ?? Infinity,
    tieBreak: `${p.identity.name}/${p.identity.namespace ?? ''}/${p.identity.kind}`,
    ingress: p.governsIngress,
    egress: p.governsEgress,
    doNotTrack: p.doNotTrack,
    preDNAT: p.preDNAT,
    applyOnForward: p.applyOnForward,
  };
}

export function sameMeta(a: PolicyMeta | undefined, b: PolicyMeta | undefined): boolean {
  if (!a || !b) return a === b;
  return (Object.keys(a) as (keyof PolicyMeta)[]).every((k) => a[k] === b[k]);
}

export class PolicySorter {
  private readonly tiers = new Map<string, TierModel>();
  private readonly policies = new Map<PolicyKey, PolicyMeta>();

  /** Returns true if anything that affects ordering changed. */
  onTierUpdate(name: string, tier: TierModel | null): boolean {
    const old = this.tiers.get(name);
    if (tier === null) {
      this.tiers.delete(name);
      return old !== undefined;
    }
    this.tiers.set(name, tier);
    return !old || old.order !== tier.order || old.defaultAction !== tier.defaultAction;
  }

  /** Returns the previous metadata (to decide what became dirty). */
  onPolicyUpdate(key: PolicyKey, meta: PolicyMeta | null): PolicyMeta | undefined {
    const old = this.policies.get(key);
    if (meta === null) this.policies.delete(key);
    else this.policies.set(key, meta);
    return old;
  }

  policy(key: PolicyKey): PolicyMeta | undefined {
    return this.policies.get(key);
  }

  tier(name: string): SortedTier {
    const t = this.tiers.get(name) ?? builtinTierModel(name);
    if (!t) return { name, valid: false, defaultAction: 'Deny' };
    const out: SortedTier = { name, valid: true, defaultAction: t.defaultAction };
    if (t.order !== undefined) out.order = t.order;
    return out;
  }

  static compareTiers(a: SortedTier, b: SortedTier): number {
    if (a.valid !== b.valid) return a.valid ? -1 : 1;
    const ao = a.order ?? Infinity;
    const bo = b.order ?? Infinity;
    if (ao !== bo) return ao < bo ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  }

  static comparePolicies(a: PolicyMeta, b: PolicyMeta): number {
    if (a.order !== b.order) return a.order < b.order ? -1 : 1;
    return a.tieBreak < b.tieBreak ? -1 : a.tieBreak > b.tieBreak ? 1 : 0;
  }
}
