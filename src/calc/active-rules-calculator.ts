/**
 * ActiveRulesCalculator (Felix's `active_rules_calculator.go`): matches policy selectors against
 * this node's endpoints (with labels inherited from profiles) to decide which policies are active
 * here (always, with the `AssumeNeededOnEveryNode` performance hint), and counts profile
 * references to decide which profiles are. A referenced profile that is missing from the
 * datastore (and not built in) is reported active without a model (the scanner makes it drop-all).
 *
 * Policies with the same selector share one entry of the label index (clusters often have many
 * policies selecting e.g. `role == 'db'`), so a label change that flips N such policies costs one
 * selector evaluation, not N; the per-policy match events still fire for each.
 *
 * It does NOT order policies (PolicyResolver) or parse rules (RuleScanner). Policies whose
 * selector does not parse match nothing.
 */
import { LabelIndex } from '../selector/label-index.js';
import { parseSelector, type Selector } from '../selector/index.js';
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
  /** Label-index entries are selectors (by canonical form); each stands for the policies using it. */
  private readonly selectorOfPolicy = new Map<PolicyKey, string>();
  private readonly policiesOfSelector = new Map<string, Set<PolicyKey>>();
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
      onMatchStarted: (selId, itemId) => {
        for (const key of this.policiesOfSelector.get(selId) ?? []) this.matchStarted(key, itemId);
      },
      onMatchStopped: (selId, itemId) => {
        for (const key of this.policiesOfSelector.get(selId) ?? []) this.matchStopped(key, itemId);
      },
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
      this.setSelector(key, undefined);
      this.reconcile(key);
      this.policies.delete(key);
      return;
    }
    this.policies.set(key, policy);
    if (policy.assumeNeededOnEveryNode) this.forced.add(key);
    else this.forced.delete(key);
    this.activatedNow = undefined;
    this.setSelector(key, sel);
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

  /**
   * Moves a policy to the label-index entry of its (new) selector, reporting match changes for the
   * policy alone: endpoints matched by both the old and the new selector see no event, the others
   * a stop (old only, first) or a start (new only).
   */
  private setSelector(key: PolicyKey, sel: Selector | undefined): void {
    const oldId = this.selectorOfPolicy.get(key);
    const newId = sel?.canonical;
    if (oldId === newId) return;
    const before = new Set(oldId === undefined ? [] : this.index.matchingItems(oldId));
    let after = new Set<string>();
    if (sel !== undefined && newId !== undefined) {
      let group = this.policiesOfSelector.get(newId);
      if (!group) {
        // Index the selector before the policy joins it, so indexing reports nothing for the policy.
        this.policiesOfSelector.set(newId, (group = new Set()));
        this.index.updateSelector(newId, sel);
      }
      after = new Set(this.index.matchingItems(newId));
      group.add(key);
      this.selectorOfPolicy.set(key, newId);
    } else {
      this.selectorOfPolicy.delete(key);
    }
    if (oldId !== undefined) {
      const group = this.policiesOfSelector.get(oldId)!;
      group.delete(key);
      if (group.size === 0) {
        this.policiesOfSelector.delete(oldId);
        this.index.deleteSelector(oldId);
      }
    }
    for (const ep of before) if (!after.has(ep)) this.matchStopped(key, ep);
    for (const ep of after) if (!before.has(ep)) this.matchStarted(key, ep);
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
