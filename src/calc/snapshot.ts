/**
 * SnapshotDataplane: a dataplane that records the calculation output as a `CalcSnapshot` and
 * throws `ContractViolationError` the moment the output breaks the ordering contract in
 * types.ts (a member for an unknown IP set, a set removed while a policy uses it, an endpoint
 * naming an inactive policy, a double add, a removal of something never added…). Used by the
 * policy CLI and by the state tests, so every computed picture is also a checked one.
 *
 * `computeSnapshot` is the one-call form: all resources in, in-sync, the whole picture out.
 */
import { kindInfo, resourceKey } from '../api/kinds.js';
import type { Resource } from '../api/types.js';
import { CalculationGraph } from './graph.js';
import type {
  ActivePolicy, ActiveProfile, CalcSnapshot, DataplaneCallbacks, EndpointState, IpSetType, ParsedRule, PolicyKey, RouteUpdate, TierInfo, VtepUpdate,
} from './types.js';

export class ContractViolationError extends Error {
  constructor(message: string) {
    super(`calculation contract violated: ${message}`);
    this.name = 'ContractViolationError';
  }
}

export function emptySnapshot(): CalcSnapshot {
  return { ipSets: new Map(), policies: new Map(), profiles: new Map(), endpoints: new Map(), routes: new Map(), vteps: new Map(), inSync: false };
}

const SET_FIELDS = ['ipSetIds', 'notIpSetIds', 'namedPortIpSetIds', 'notNamedPortIpSetIds'] as const;

/** Every IP set a rule references, on both sides. */
export function ipSetsOfRule(r: ParsedRule): string[] {
  return [r.src, r.dst].flatMap((side) => (side ? SET_FIELDS.flatMap((f) => side[f] ?? []) : []));
}

function setsOfRules(rules: ParsedRule[]): string[] {
  return rules.flatMap(ipSetsOfRule);
}

function policiesOfTiers(tiers: TierInfo[] | undefined): PolicyKey[] {
  return (tiers ?? []).flatMap((t) => [...t.ingressPolicies, ...t.egressPolicies]);
}

export class SnapshotDataplane implements DataplaneCallbacks {
  readonly snapshot: CalcSnapshot = emptySnapshot();
  /** Every call, in order, for tests that check sequencing (`kind id`). */
  readonly log: string[] = [];

  private fail(msg: string): never {
    throw new ContractViolationError(msg);
  }

  private setUsers(id: string): string[] {
    const users: string[] = [];
    for (const p of this.snapshot.policies.values()) if (setsOfRules([...p.inbound, ...p.outbound]).includes(id)) users.push(`policy ${p.key}`);
    for (const p of this.snapshot.profiles.values()) if (setsOfRules([...p.inbound, ...p.outbound]).includes(id)) users.push(`profile ${p.name}`);
    return users;
  }

  private checkRulesSets(what: string, rules: ParsedRule[]): void {
    for (const id of setsOfRules(rules)) if (!this.snapshot.ipSets.has(id)) this.fail(`${what} references IP set ${id}, which was never added`);
  }

  onIpSetAdded(id: string, type: IpSetType): void {
    this.log.push(`ipset+ ${id}`);
    if (this.snapshot.ipSets.has(id)) this.fail(`IP set ${id} added twice`);
    this.snapshot.ipSets.set(id, { type, members: new Set() });
  }
  onIpSetMemberAdded(id: string, member: string): void {
    const set = this.snapshot.ipSets.get(id) ?? this.fail(`member ${member} added to unknown IP set ${id}`);
    if (set.members.has(member)) this.fail(`member ${member} added twice to IP set ${id}`);
    set.members.add(member);
  }
  onIpSetMemberRemoved(id: string, member: string): void {
    const set = this.snapshot.ipSets.get(id) ?? this.fail(`member ${member} removed from unknown IP set ${id}`);
    if (!set.members.delete(member)) this.fail(`member ${member} removed from IP set ${id} but was not in it`);
  }
  onIpSetRemoved(id: string): void {
    this.log.push(`ipset- ${id}`);
    if (!this.snapshot.ipSets.has(id)) this.fail(`unknown IP set ${id} removed`);
    const users = this.setUsers(id);
    if (users.length > 0) this.fail(`IP set ${id} removed while still used by ${users.join(', ')}`);
    this.snapshot.ipSets.delete(id);
  }
  onPolicyActive(policy: ActivePolicy): void {
    this.log.push(`policy+ ${policy.key}`);
    this.checkRulesSets(`policy ${policy.key}`, [...policy.inbound, ...policy.outbound]);
    this.snapshot.policies.set(policy.key, policy);
  }
  onPolicyInactive(key: PolicyKey): void {
    this.log.push(`policy- ${key}`);
    if (!this.snapshot.policies.has(key)) this.fail(`unknown policy ${key} made inactive`);
    for (const e of this.snapshot.endpoints.values()) {
      if ([...policiesOfTiers(e.tiers), ...policiesOfTiers(e.untrackedTiers), ...policiesOfTiers(e.preDNATTiers), ...policiesOfTiers(e.forwardTiers)].includes(key)) {
        this.fail(`policy ${key} made inactive while endpoint ${e.id} still uses it`);
      }
    }
    this.snapshot.policies.delete(key);
  }
  onProfileActive(profile: ActiveProfile): void {
    this.log.push(`profile+ ${profile.name}`);
    this.checkRulesSets(`profile ${profile.name}`, [...profile.inbound, ...profile.outbound]);
    this.snapshot.profiles.set(profile.name, profile);
  }
  onProfileInactive(name: string): void {
    this.log.push(`profile- ${name}`);
    if (!this.snapshot.profiles.has(name)) this.fail(`unknown profile ${name} made inactive`);
    for (const e of this.snapshot.endpoints.values()) {
      if (e.profileIds.includes(name)) this.fail(`profile ${name} made inactive while endpoint ${e.id} still lists it`);
    }
    this.snapshot.profiles.delete(name);
  }
  onEndpointUpdate(endpoint: EndpointState): void {
    this.log.push(`endpoint ${endpoint.id}`);
    const all = [endpoint.tiers, endpoint.untrackedTiers, endpoint.preDNATTiers, endpoint.forwardTiers];
    for (const key of all.flatMap(policiesOfTiers)) {
      if (!this.snapshot.policies.has(key)) this.fail(`endpoint ${endpoint.id} uses policy ${key}, which is not active`);
    }
    for (const name of endpoint.profileIds) {
      if (!this.snapshot.profiles.has(name)) this.fail(`endpoint ${endpoint.id} lists profile ${name}, which is not active`);
    }
    this.snapshot.endpoints.set(endpoint.id, endpoint);
  }
  onEndpointRemoved(id: string): void {
    this.log.push(`endpoint- ${id}`);
    if (!this.snapshot.endpoints.delete(id)) this.fail(`unknown endpoint ${id} removed`);
  }
  onRouteUpdate(route: RouteUpdate): void {
    this.log.push(`route ${route.dst}`);
    if (route.vxlan && !this.snapshot.vteps.has(route.node ?? '')) this.fail(`VXLAN route ${route.dst} via node ${route.node}, which has no VTEP`);
    this.snapshot.routes.set(route.dst, route);
  }
  onRouteRemoved(dst: string): void {
    this.log.push(`route- ${dst}`);
    if (!this.snapshot.routes.delete(dst)) this.fail(`unknown route ${dst} removed`);
  }
  onVtepUpdate(vtep: VtepUpdate): void {
    this.log.push(`vtep ${vtep.node}`);
    this.snapshot.vteps.set(vtep.node, vtep);
  }
  onVtepRemoved(node: string): void {
    this.log.push(`vtep- ${node}`);
    if (!this.snapshot.vteps.delete(node)) this.fail(`unknown VTEP ${node} removed`);
    for (const r of this.snapshot.routes.values()) if (r.vxlan && r.node === node) this.fail(`VTEP ${node} removed while VXLAN route ${r.dst} uses it`);
  }
  onInSync(): void {
    if (this.snapshot.inSync) this.fail('in-sync reported twice');
    this.snapshot.inSync = true;
  }
}

/** The datastore key of a resource (its kind's plural, namespace and name). */
export function keyOf(res: Resource): string {
  const info = kindInfo(res.kind);
  if (!info) throw new Error(`Cannot compute a datastore key for kind ${JSON.stringify(res.kind)}: unknown kind`);
  return resourceKey(info, res.metadata.name, res.metadata.namespace);
}

/** Builds a graph, feeds every resource, reports in-sync and returns the checked picture. */
export function computeSnapshot(resources: Resource[], opts: { hostname: string | '*' }): CalcSnapshot {
  const dp = new SnapshotDataplane();
  const graph = new CalculationGraph(opts, dp);
  graph.onUpdates(resources.filter((r) => kindInfo(r.kind)).map((r) => ({ key: keyOf(r), value: r })));
  graph.onInSync();
  return dp.snapshot;
}

