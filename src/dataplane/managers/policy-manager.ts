/**
 * Translates active policies and profiles into their chains (`pi-`/`po-`, `ri-`/`ro-`). Records
 * them on the callbacks, renders only the dirty ones in `completeDeferredWork()`, and re-renders
 * the policies whose IP sets changed name (see IpSetManager). Keeps, per chain, which policy it
 * belongs to, so kernel counters map back. Staged policies get no chain. No I/O.
 */
import type { ActivePolicy, ActiveProfile, FelixSettings, ParsedRule, PolicyKey } from '../../calc/types.js';
import { policyChain, profileChain } from '../nftables/names.js';
import { renderPolicyChain, renderProfileChain } from '../nftables/render-policy.js';
import type { SetNameResolver } from '../nftables/render-rule.js';
import type { TableReconciler } from '../nftables/table-reconciler.js';
import type { DataplaneManager } from './manager.js';

function setIdsOf(rules: readonly ParsedRule[]): string[] {
  const out: string[] = [];
  for (const r of rules) for (const s of [r.src, r.dst]) if (s) out.push(...(s.ipSetIds ?? []), ...(s.notIpSetIds ?? []));
  return out;
}

export class PolicyManager implements DataplaneManager {
  readonly name = 'policies';
  private readonly policies = new Map<PolicyKey, ActivePolicy>();
  private readonly profiles = new Map<string, ActiveProfile>();
  private readonly dirtyPolicies = new Set<PolicyKey>();
  private readonly dirtyProfiles = new Set<string>();
  /** IP set id → policies/profiles using it (`p:<key>` / `r:<name>`). */
  private readonly users = new Map<string, Set<string>>();
  private logPrefix: string | undefined;

  constructor(private readonly table: TableReconciler, private readonly sets: SetNameResolver) {}

  get policyCount(): number {
    return this.policies.size;
  }

  get profileCount(): number {
    return this.profiles.size;
  }

  /** The log prefix changed: every chain is rendered again (rare). */
  onConfigUpdate(s: FelixSettings): void {
    if (s.logPrefix === this.logPrefix) return;
    this.logPrefix = s.logPrefix;
    for (const k of this.policies.keys()) this.dirtyPolicies.add(k);
    for (const k of this.profiles.keys()) this.dirtyProfiles.add(k);
  }

  onPolicyActive(p: ActivePolicy): void {
    if (p.staged) return; // never enforced: no chain (endpoint chains do not jump to it)
    this.untrack(`p:${p.key}`, this.policies.get(p.key));
    this.policies.set(p.key, p);
    this.track(`p:${p.key}`, p);
    this.dirtyPolicies.add(p.key);
  }

  onPolicyInactive(key: PolicyKey): void {
    this.untrack(`p:${key}`, this.policies.get(key));
    if (this.policies.delete(key)) this.dirtyPolicies.add(key);
  }

  onProfileActive(p: ActiveProfile): void {
    this.untrack(`r:${p.name}`, this.profiles.get(p.name));
    this.profiles.set(p.name, p);
    this.track(`r:${p.name}`, p);
    this.dirtyProfiles.add(p.name);
  }

  onProfileInactive(name: string): void {
    this.untrack(`r:${name}`, this.profiles.get(name));
    if (this.profiles.delete(name)) this.dirtyProfiles.add(name);
  }

  /** An IP set changed its nft name: every rule using it is rendered again. */
  onSetRenamed(id: string): void {
    for (const u of this.users.get(id) ?? []) {
      if (u.startsWith('p:')) this.dirtyPolicies.add(u.slice(2));
      else this.dirtyProfiles.add(u.slice(2));
    }
  }

  private track(user: string, p: { inbound: ParsedRule[]; outbound: ParsedRule[] }): void {
    for (const id of setIdsOf([...p.inbound, ...p.outbound])) {
      let s = this.users.get(id);
      if (!s) this.users.set(id, (s = new Set()));
      s.add(user);
    }
  }

  private untrack(user: string, p: { inbound: ParsedRule[]; outbound: ParsedRule[] } | undefined): void {
    if (!p) return;
    for (const id of setIdsOf([...p.inbound, ...p.outbound])) {
      const s = this.users.get(id);
      s?.delete(user);
      if (s?.size === 0) this.users.delete(id);
    }
  }

  private renderOptions(): { logPrefix?: string } {
    return this.logPrefix !== undefined ? { logPrefix: this.logPrefix } : {};
  }

  completeDeferredWork(): void {
    for (const key of this.dirtyPolicies) {
      const p = this.policies.get(key);
      for (const dir of ['in', 'out'] as const) {
        if (p) this.table.setChain(renderPolicyChain(p, dir, this.sets, this.renderOptions()));
        else this.table.deleteChain(policyChain(key, dir));
      }
    }
    for (const name of this.dirtyProfiles) {
      const p = this.profiles.get(name);
      for (const dir of ['in', 'out'] as const) {
        if (p) this.table.setChain(renderProfileChain(p, dir, this.sets, this.renderOptions()));
        else this.table.deleteChain(profileChain(name, dir));
      }
    }
    this.dirtyPolicies.clear();
    this.dirtyProfiles.clear();
  }
}
