/**
 * SnapshotDataplane: a dataplane that records the calculation output as a `CalcSnapshot` and
 * throws `ContractViolationError` the moment the output breaks the contract in types.ts (a member
 * for an unknown IP set, a set removed while a policy uses it, an endpoint naming an inactive
 * policy, a double add, a removal of something never added, an update that changes nothing, an
 * empty batch, a first batch without settings, in-sync outside a batch…). Used by the policy CLI
 * and by the state tests, so every computed picture is also a checked one.
 *
 * `computeSnapshot` is the one-call form: all resources in, in-sync, the whole picture out (with
 * endpoint labels read from the graph's model, since they are not part of the output stream).
 */
import { kindInfo, resourceKey } from '../api/kinds.js';
import type { Resource } from '../api/types.js';
import { CalculationGraph } from './graph.js';
import { STAGED_NAME_PREFIX } from './resource-converter.js';
import type {
  ActivePolicy, ActiveProfile, CalcSnapshot, DataplaneCallbacks, EndpointState, FelixSettings, HostIpUpdate, IpPoolUpdate, IpSetType, ParsedRule,
  PolicyKey, RouteUpdate, TierInfo, VtepUpdate,
} from './types.js';

export class ContractViolationError extends Error {
  constructor(message: string) {
    super(`calculation contract violated: ${message}`);
    this.name = 'ContractViolationError';
  }
}

export function emptySnapshot(): CalcSnapshot {
  return {
    ipSets: new Map(), policies: new Map(), profiles: new Map(), endpoints: new Map(), routes: new Map(), vteps: new Map(),
    hostIps: new Map(), pools: new Map(), config: undefined, labels: new Map(), inSync: false,
  };
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
  /** Every call except IP-set members, in order, for tests that check sequencing (`kind id`). */
  readonly log: string[] = [];
  /** Completed batches, and calls in the batch being received. */
  batches = 0;
  private inBatch = 0;

  private fail(msg: string): never {
    throw new ContractViolationError(msg);
  }

  /** Every call is part of a batch; the first batch begins with the settings. */
  private call(entry: string | undefined, isConfig = false): void {
    if (entry !== undefined) this.log.push(entry);
    if (this.batches === 0 && this.inBatch === 0 && !isConfig) this.fail(`first batch begins with ${entry ?? 'an IP-set member'}, not with the settings (onConfigUpdate)`);
    this.inBatch++;
  }

  /** An update that repeats what was sent breaks "nothing is sent that did not change". */
  private changed(what: string, before: unknown, after: unknown): void {
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(after)) this.fail(`${what} sent again unchanged`);
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

  onConfigUpdate(settings: FelixSettings): void {
    this.call('config', true);
    this.changed('settings', this.snapshot.config, settings);
    this.snapshot.config = settings;
  }
  onIpSetAdded(id: string, type: IpSetType): void {
    this.call(`ipset+ ${id}`);
    if (this.snapshot.ipSets.has(id)) this.fail(`IP set ${id} added twice`);
    this.snapshot.ipSets.set(id, { type, members: new Set() });
  }
  onIpSetMemberAdded(id: string, member: string): void {
    this.call(undefined);
    const set = this.snapshot.ipSets.get(id) ?? this.fail(`member ${member} added to unknown IP set ${id}`);
    if (set.members.has(member)) this.fail(`member ${member} added twice to IP set ${id}`);
    set.members.add(member);
  }
  onIpSetMemberRemoved(id: string, member: string): void {
    this.call(undefined);
    const set = this.snapshot.ipSets.get(id) ?? this.fail(`member ${member} removed from unknown IP set ${id}`);
    if (!set.members.delete(member)) this.fail(`member ${member} removed from IP set ${id} but was not in it`);
  }
  onIpSetRemoved(id: string): void {
    this.call(`ipset- ${id}`);
    if (!this.snapshot.ipSets.has(id)) this.fail(`unknown IP set ${id} removed`);
    const users = this.setUsers(id);
    if (users.length > 0) this.fail(`IP set ${id} removed while still used by ${users.join(', ')}`);
    this.snapshot.ipSets.delete(id);
  }
  onPolicyActive(policy: ActivePolicy): void {
    this.call(`policy+ ${policy.key}`);
    this.checkRulesSets(`policy ${policy.key}`, [...policy.inbound, ...policy.outbound]);
    const stagedKind = policy.identity.kind.startsWith('Staged');
    if (stagedKind !== (policy.staged === true)) this.fail(`policy ${policy.key} of kind ${policy.identity.kind} is${policy.staged ? '' : ' not'} marked staged`);
    if (stagedKind !== policy.key.split('/').at(-1)!.startsWith(STAGED_NAME_PREFIX)) this.fail(`policy ${policy.key}: staged policies, and only they, have keys named ${STAGED_NAME_PREFIX}<name>`);
    this.changed(`policy ${policy.key}`, this.snapshot.policies.get(policy.key), policy);
    this.snapshot.policies.set(policy.key, policy);
  }
  onPolicyInactive(key: PolicyKey): void {
    this.call(`policy- ${key}`);
    if (!this.snapshot.policies.has(key)) this.fail(`unknown policy ${key} made inactive`);
    for (const e of this.snapshot.endpoints.values()) {
      if ([...policiesOfTiers(e.tiers), ...policiesOfTiers(e.untrackedTiers), ...policiesOfTiers(e.preDNATTiers), ...policiesOfTiers(e.forwardTiers)].includes(key)) {
        this.fail(`policy ${key} made inactive while endpoint ${e.id} still uses it`);
      }
    }
    this.snapshot.policies.delete(key);
  }
  onProfileActive(profile: ActiveProfile): void {
    this.call(`profile+ ${profile.name}`);
    this.checkRulesSets(`profile ${profile.name}`, [...profile.inbound, ...profile.outbound]);
    this.changed(`profile ${profile.name}`, this.snapshot.profiles.get(profile.name), profile);
    this.snapshot.profiles.set(profile.name, profile);
  }
  onProfileInactive(name: string): void {
    this.call(`profile- ${name}`);
    if (!this.snapshot.profiles.has(name)) this.fail(`unknown profile ${name} made inactive`);
    for (const e of this.snapshot.endpoints.values()) {
      if (e.profileIds.includes(name)) this.fail(`profile ${name} made inactive while endpoint ${e.id} still lists it`);
    }
    this.snapshot.profiles.delete(name);
  }
  onEndpointUpdate(endpoint: EndpointState): void {
    this.call(`endpoint ${endpoint.id}`);
    this.changed(`endpoint ${endpoint.id}`, this.snapshot.endpoints.get(endpoint.id), endpoint);
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
    this.call(`endpoint- ${id}`);
    if (!this.snapshot.endpoints.delete(id)) this.fail(`unknown endpoint ${id} removed`);
  }
  onRouteUpdate(route: RouteUpdate): void {
    this.call(`route ${route.dst}`);
    this.changed(`route ${route.dst}`, this.snapshot.routes.get(route.dst), route);
    if (route.vxlan && !this.snapshot.vteps.has(route.node ?? '')) this.fail(`VXLAN route ${route.dst} via node ${route.node}, which has no VTEP`);
    this.snapshot.routes.set(route.dst, route);
  }
  onRouteRemoved(dst: string): void {
    this.call(`route- ${dst}`);
    if (!this.snapshot.routes.delete(dst)) this.fail(`unknown route ${dst} removed`);
  }
  onVtepUpdate(vtep: VtepUpdate): void {
    this.call(`vtep ${vtep.node}`);
    this.changed(`VTEP ${vtep.node}`, this.snapshot.vteps.get(vtep.node), vtep);
    this.snapshot.vteps.set(vtep.node, vtep);
  }
  onVtepRemoved(node: string): void {
    this.call(`vtep- ${node}`);
    if (!this.snapshot.vteps.delete(node)) this.fail(`unknown VTEP ${node} removed`);
    for (const r of this.snapshot.routes.values()) if (r.vxlan && r.node === node) this.fail(`VTEP ${node} removed while VXLAN route ${r.dst} uses it`);
  }
  onHostIpUpdate(host: HostIpUpdate): void {
    this.call(`hostip ${host.node}`);
    if (host.ipv4 === undefined && host.ipv6 === undefined) this.fail(`host IPs of ${host.node} sent without any address`);
    this.changed(`host IPs of ${host.node}`, this.snapshot.hostIps.get(host.node), host);
    this.snapshot.hostIps.set(host.node, host);
  }
  onHostIpRemoved(node: string): void {
    this.call(`hostip- ${node}`);
    if (!this.snapshot.hostIps.delete(node)) this.fail(`unknown host IPs of ${node} removed`);
  }
  onIpPoolUpdate(pool: IpPoolUpdate): void {
    this.call(`pool ${pool.name}`);
    this.changed(`pool ${pool.name}`, this.snapshot.pools.get(pool.name), pool);
    this.snapshot.pools.set(pool.name, pool);
  }
  onIpPoolRemoved(name: string): void {
    this.call(`pool- ${name}`);
    if (!this.snapshot.pools.delete(name)) this.fail(`unknown pool ${name} removed`);
  }
  onInSync(): void {
    this.call('in-sync');
    if (this.snapshot.inSync) this.fail('in-sync reported twice');
    if (!this.snapshot.config) this.fail('in-sync reported before any settings');
    this.snapshot.inSync = true;
  }
  onBatchComplete(): void {
    if (this.inBatch === 0) this.fail('empty batch (onBatchComplete with nothing since the previous one)');
    this.log.push('batch');
    this.inBatch = 0;
    this.batches++;
  }
}

/** Fills `snapshot.labels` for its endpoints from the graph's model. */
export function attachLabels(graph: CalculationGraph, snapshot: CalcSnapshot): CalcSnapshot {
  snapshot.labels.clear();
  for (const id of [...snapshot.endpoints.keys()].sort()) {
    const labels = graph.endpointLabels(id);
    if (labels) snapshot.labels.set(id, labels);
  }
  return snapshot;
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
  return attachLabels(graph, dp.snapshot);
}

