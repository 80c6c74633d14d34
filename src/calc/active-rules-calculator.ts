/**
 * ActiveRulesCalculator (Felix's `active_rules_calculator.go`): matches policy selectors against
 * this node's endpoints (with labels inherited from profiles) to decide which policies are active
 * here (always, with the `AssumeNeededOnEveryNode` performance hint), and counts profile
 * references to decide which profiles are. A referenced profile that is missing from the
 * datastore (and not built in) is reported active without a model (the scanner makes it drop-all).
 *
 * It does NOT order policies (PolicyResolver) or parse rules (RuleScanner). Policies whose
 * selector does not parse match nothing.
 */
import { LabelIndex } from '../selector/label-index.js';
import { parseSelector } from '../selector/index.js';
import type { EndpointModel, PolicyModel, ProfileModel } from './model.js';
import { builtinProfileModel } from './resource-converter.js';
import type { PolicyKey } from './types.js';

export interface ActiveRulesCallbacks {
  onPolicyActive(policy: PolicyModel): void;
  onPolicyInactive(key: PolicyKey): void;
  onProfileActive(name: string, profile: ProfileModel | undefined): void;
  onProfileInactive(name: string): void;
  onPolicyMatch(key: PolicyKey, endpointId: string): void;
  onPolicyMatchStopped(key: PolicyKey, endpointId: string): void;
}

export class ActiveRulesCalculator {
  private readonly index: LabelIndex;
  private readonly policies = new Map<PolicyKey, PolicyModel>();
  private readonly matchCounts = new Map<PolicyKey, number>();
  /** Policies with the AssumeNeededOnEveryNode hint, and the policies currently reported active. */
  private readonly forced = new Set<PolicyKey>();
  private readonly active = new Set<PolicyKey>();
  private readonly profiles = new Map<string, ProfileModel>();
  private readonly profileRefs = new Map<string, number>();
  private readonly endpointProfiles = new Map<string, string[]>();
  /** Set while a policy update is being indexed, so its activation is not reported twice. */
  private activatedNow: PolicyKey | undefined;

  constructor(private readonly callbacks: ActiveRulesCallbacks) {
    this.index = new LabelIndex({
      onMatchStarted: (selId, itemId) => this.matchStarted(selId, itemId),
      onMatchStopped: (selId, itemId) => this.matchStopped(selId, itemId),
    });
  }

  onPolicyUpdate(key: PolicyKey, policy: PolicyModel | null): void {
    let sel;
    try {
      sel = policy ? parseSelector(policy.selector) : undefined;
    } catch {
      sel = undefined; // an unparsable selector matches nothing
    }
    if (!policy || !sel) {
      this.forced.delete(key);
      this.index.deleteSelector(key);
      this.reconcile(key);
      this.policies.delete(key);
      return;
    }
    this.policies.set(key, policy);
    if (policy.assumeNeededOnEveryNode) this.forced.add(key);
    else this.forced.delete(key);
    this.activatedNow = undefined;
    this.index.updateSelector(key, sel);
    this.reconcile(key);
    // Already active before this update: its rules may have changed.
    if (this.active.has(key) && this.activatedNow !== key) this.callbacks.onPolicyActive(policy);
    this.activatedNow = undefined;
  }

  onProfileUpdate(name: string, profile: ProfileModel | null): void {
    if (profile === null) {
      this.profiles.delete(name);
      this.index.deleteParent(name);
    } else {
      this.profiles.set(name, profile);
      this.index.updateParent(name, profile.labelsToApply);
    }
    if ((this.profileRefs.get(name) ?? 0) > 0) this.callbacks.onProfileActive(name, this.profile(name));
  }

  onLocalEndpointUpdate(id: string, endpoint: EndpointModel | null): void {
    const oldProfiles = this.endpointProfiles.get(id) ?? [];
    const newProfiles = endpoint ? endpoint.profileIds : [];
    // Reference new profiles before the endpoint can match anything through them; release old ones after.
    for (const p of new Set(newProfiles)) if (!oldProfiles.includes(p)) this.refProfile(p, +1);
    if (endpoint) {
      this.endpointProfiles.set(id, [...newProfiles]);
      this.index.updateItem(id, endpoint.labels, endpoint.profileIds);
    } else {
      this.endpointProfiles.delete(id);
      this.index.deleteItem(id);
    }
    for (const p of new Set(oldProfiles)) if (!newProfiles.includes(p)) this.refProfile(p, -1);
  }

  /** A local endpoint's labels including those inherited from its profiles. */
  effectiveLabels(endpointId: string): ReadonlyMap<string, string> | undefined {
    return this.index.effectiveLabels(endpointId);
  }

  /** Stored profile, else a built-in one (`projectcalico-default-allow` always exists). */
  private profile(name: string): ProfileModel | undefined {
    return this.profiles.get(name) ?? builtinProfileModel(name);
  }

  private refProfile(name: string, delta: number): void {
    const n = (this.profileRefs.get(name) ?? 0) + delta;
    if (n > 0) this.profileRefs.set(name, n);
    else this.profileRefs.delete(name);
    if (delta > 0 && n === 1) this.callbacks.onProfileActive(name, this.profile(name));
    if (delta < 0 && n === 0) this.callbacks.onProfileInactive(name);
  }

  /** Active while it matches a local endpoint, or always with the AssumeNeededOnEveryNode hint. */
  private reconcile(key: PolicyKey): void {
    const want = (this.matchCounts.get(key) ?? 0) > 0 || this.forced.has(key);
    if (want && !this.active.has(key)) {
      this.active.add(key);
      this.activatedNow = key;
      this.callbacks.onPolicyActive(this.policies.get(key)!);
    } else if (!want && this.active.delete(key)) {
      this.callbacks.onPolicyInactive(key);
    }
  }

  private matchStarted(key: PolicyKey, endpointId: string): void {
    this.matchCounts.set(key, (this.matchCounts.get(key) ?? 0) + 1);
    this.reconcile(key);
    this.callbacks.onPolicyMatch(key, endpointId);
  }

  private matchStopped(key: PolicyKey, endpointId: string): void {
    this.callbacks.onPolicyMatchStopped(key, endpointId);
    const n = (this.matchCounts.get(key) ?? 0) - 1;
    if (n > 0) this.matchCounts.set(key, n);
    else this.matchCounts.delete(key);
    this.reconcile(key);
  }
}
