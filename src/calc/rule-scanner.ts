/**
 * RuleScanner (Felix's `rule_scanner.go`): turns the rules of active policies and profiles into
 * `ParsedRule`s (selectors replaced by IP-set IDs) and ref-counts the IP sets they use, reporting
 * when a set becomes needed (first user) or unneeded (last user gone).
 *
 * It does NOT decide which policies are active (ActiveRulesCalculator does) nor compute IP-set
 * members (IpSetMemberIndex does). A policy or profile whose rules cannot be parsed is reported
 * fail-closed (no rules, `failClosed: true`), never dropped or allowed.
 */
import type { IpSetData, PolicyModel, ProfileModel } from './model.js';
import { parseRule, SelectorCache } from './rule-parser.js';
import type { ActivePolicy, ActiveProfile, ParsedRule, PolicyKey } from './types.js';

export interface RuleScannerCallbacks {
  onIpSetActive(set: IpSetData): void;
  onIpSetInactive(set: IpSetData): void;
  onPolicyActive(policy: ActivePolicy): void;
  onPolicyInactive(key: PolicyKey): void;
  onProfileActive(profile: ActiveProfile): void;
  onProfileInactive(name: string): void;
}

interface Scanned {
  inbound: ParsedRule[];
  outbound: ParsedRule[];
  sets: Map<string, IpSetData>;
  failed: boolean;
}

export class RuleScanner {
  private readonly selectors = new SelectorCache();
  /** Owner (`pol:<key>` / `prof:<name>`) → IP-set IDs it uses. */
  private readonly setsByOwner = new Map<string, Set<string>>();
  /** IP-set ID → owners using it, and its data. */
  private readonly ownersBySet = new Map<string, Set<string>>();
  private readonly setData = new Map<string, IpSetData>();

  constructor(private readonly callbacks: RuleScannerCallbacks) {}

  onPolicyActive(policy: PolicyModel): void {
    const s = this.scan(policy.inbound, policy.outbound);
    this.updateOwner(`pol:${policy.key}`, s.sets, () => {
      const out: ActivePolicy = { key: policy.key, identity: policy.identity, inbound: s.inbound, outbound: s.outbound };
      if (policy.order !== undefined) out.order = policy.order;
      if (policy.doNotTrack) out.untracked = true;
      if (policy.preDNAT) out.preDNAT = true;
      if (policy.applyOnForward) out.applyOnForward = true;
      if (s.failed) out.failClosed = true;
      if (policy.staged) out.staged = true;
      this.callbacks.onPolicyActive(out);
    });
  }

  onPolicyInactive(key: PolicyKey): void {
    this.updateOwner(`pol:${key}`, new Map(), () => this.callbacks.onPolicyInactive(key));
  }

  /** `profile` undefined: referenced but missing, so it is sent fail-closed. */
  onProfileActive(name: string, profile: ProfileModel | undefined): void {
    const s = profile ? this.scan(profile.inbound, profile.outbound) : { inbound: [], outbound: [], sets: new Map(), failed: true };
    this.updateOwner(`prof:${name}`, s.sets, () => {
      const out: ActiveProfile = { name, inbound: s.inbound, outbound: s.outbound };
      if (s.failed) out.failClosed = true;
      this.callbacks.onProfileActive(out);
    });
  }

  onProfileInactive(name: string): void {
    this.updateOwner(`prof:${name}`, new Map(), () => this.callbacks.onProfileInactive(name));
  }

  private scan(inboundRules: PolicyModel['inbound'], outboundRules: PolicyModel['outbound']): Scanned {
    const sets = new Map<string, IpSetData>();
    try {
      const convert = (rules: PolicyModel['inbound']): ParsedRule[] =>
        rules.map((br) => {
          const res = parseRule(br, this.selectors);
          for (const set of res.ipSets) sets.set(set.id, set);
          return res.rule;
        });
      return { inbound: convert(inboundRules), outbound: convert(outboundRules), sets, failed: false };
    } catch {
      // RuleParseError, or a value of the wrong type that only a write bypassing validation could
      // store: either way the rules cannot be enforced as written, so they deny (never crash the graph).
      return { inbound: [], outbound: [], sets: new Map(), failed: true };
    }
  }

  /** New sets become active before `emit`, unused ones inactive after it (dependency order). */
  private updateOwner(owner: string, current: Map<string, IpSetData>, emit: () => void): void {
    const previous = this.setsByOwner.get(owner) ?? new Set<string>();
    for (const [id, data] of current) {
      if (previous.has(id)) continue;
      let owners = this.ownersBySet.get(id);
      if (!owners) {
        owners = new Set();
        this.ownersBySet.set(id, owners);
        this.setData.set(id, data);
        this.callbacks.onIpSetActive(data);
      }
      owners.add(owner);
    }
    if (current.size > 0) this.setsByOwner.set(owner, new Set(current.keys()));
    else this.setsByOwner.delete(owner);
    emit();
    for (const id of previous) {
      if (current.has(id)) continue;
      const owners = this.ownersBySet.get(id)!;
      owners.delete(owner);
      if (owners.size === 0) {
        this.ownersBySet.delete(id);
        const data = this.setData.get(id)!;
        this.setData.delete(id);
        this.callbacks.onIpSetInactive(data);
      }
    }
  }
}
