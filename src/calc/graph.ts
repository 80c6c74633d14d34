/**
 * The calculation graph: datastore updates in, this node's desired policy state out. This file
 * only builds the nodes and connects them (Felix's `calc_graph.go`); each node documents what it
 * does. Updates are `{key, value | null}` (null = absent); output depends only on the current
 * state, never on the order updates arrived in. Nothing is sent until `flush()`; each flush that
 * sends something is one batch ending in `onBatchComplete()` (`onInSync()` flushes and reports
 * in-sync once, inside that batch); a dataplane may receive output before in-sync but must not
 * program the kernel until it sees `onInSync`. See types.ts for the whole output contract.
 *
 *   onUpdates ─► dispatch by key ─┬─ tiers, policies ─────────► PolicySorter (ordering metadata)
 *                                 ├─ policies, profiles ──────► ActiveRulesCalculator
 *                                 ├─ local endpoints ─────────► ActiveRulesCalculator, PolicyResolver
 *                                 └─ all endpoints, net sets,
 *                                    profile labels ──────────► IpSetMemberIndex
 *   ActiveRulesCalculator ─ active policies/profiles ─► RuleScanner ─ rules ─► EventSequencer
 *                         └ policy ⇄ endpoint matches ─► PolicyResolver ─ endpoints ─► EventSequencer
 *   RuleScanner ─ IP set needed/unneeded ─► EventSequencer + IpSetMemberIndex ─ members ─► EventSequencer
 *   nodes, pools, IPAM blocks, workloads ─► RouteResolver ─ routes, VTEPs ─► EventSequencer
 *   nodes (host IPs), pools, FelixConfiguration default + node.<name> ─────────► EventSequencer
 *   EventSequencer ─ flush(), dependency order, batch boundary ─► DataplaneCallbacks
 */
import { IPAM_BLOCK_PREFIX, parseResourceKey } from '../api/keys.js';
import type { Resource } from '../api/types.js';
import { ActiveRulesCalculator } from './active-rules-calculator.js';
import { EventSequencer } from './event-sequencer.js';
import { IpSetMemberIndex } from './ip-set-member-index.js';
import type { EndpointModel, PolicyModel } from './model.js';
import { PolicyResolver } from './policy-resolver.js';
import { policyMeta, PolicySorter, sameMeta } from './policy-sorter.js';
import {
  toHostEndpointModel, toHostIp, toIpPool, toNetworkSetModel, toPolicyModel, toProfileModel, toTierModel, toWorkloadEndpointModel,
} from './resource-converter.js';
import { RouteResolver } from './route-resolver.js';
import { RuleScanner } from './rule-scanner.js';
import { felixSettings, GLOBAL_FELIX_CONFIG, nodeFelixConfigName } from './felix-settings.js';
import type { DataplaneCallbacks, PolicyKey } from './types.js';

/** IPAM allocation blocks (keys under IPAM_BLOCK_PREFIX of api/keys.ts, re-exported here): their values give block routes. */
export { IPAM_BLOCK_PREFIX } from '../api/keys.js';

/** The part of a stored IPAM allocation block the graph reads. */
export interface IpamBlockValue {
  cidr: string;
  /** `host:<node>` or null. */
  affinity: string | null;
  deleted?: boolean;
  [field: string]: unknown;
}

/** A datastore key and its current value (null: absent). Keys under IPAM_BLOCK_PREFIX carry blocks. */
export interface Update {
  key: string;
  value: Resource | IpamBlockValue | null;
}

export interface GraphOptions {
  /** This node's name; `'*'` makes every endpoint local (whole-cluster computation). */
  hostname: string | '*';
}

export class CalculationGraph {
  private readonly sequencer: EventSequencer;
  private readonly sorter = new PolicySorter();
  private readonly activeRules: ActiveRulesCalculator;
  private readonly scanner: RuleScanner;
  private readonly members: IpSetMemberIndex;
  private readonly resolver: PolicyResolver;
  /** None in whole-cluster mode (`hostname '*'`): routes only make sense for one node. */
  private readonly routes: RouteResolver | undefined;
  /** Datastore key → policy key (a policy's key changes when its tier does). */
  private readonly policyKeys = new Map<string, PolicyKey>();
  private readonly localEndpoints = new Set<string>();
  /** FelixConfiguration specs this node reads: `default` and `node.<hostname>`. */
  private readonly felixConfigs = new Map<string, Record<string, unknown>>();

  constructor(private readonly opts: GraphOptions, private readonly dataplane: DataplaneCallbacks) {
    // EventSequencer ─► dataplane
    this.sequencer = new EventSequencer(dataplane);

    // IpSetMemberIndex ─ members ─► EventSequencer
    this.members = new IpSetMemberIndex({
      onMemberAdded: (id, m) => this.sequencer.onIpSetMemberAdded(id, m),
      onMemberRemoved: (id, m) => this.sequencer.onIpSetMemberRemoved(id, m),
    });

    // RuleScanner ─ sets ─► EventSequencer (set first) ─► IpSetMemberIndex (members after)
    //             ─ parsed policies/profiles ─► EventSequencer
    this.scanner = new RuleScanner({
      onIpSetActive: (set) => {
        this.sequencer.onIpSetAdded(set.id, set.namedPort ? 'ip-and-port' : 'net');
        this.members.onIpSetActive(set);
      },
      onIpSetInactive: (set) => {
        this.members.onIpSetInactive(set);
        this.sequencer.onIpSetRemoved(set.id);
      },
      onPolicyActive: (p) => this.sequencer.onPolicyActive(p),
      onPolicyInactive: (key) => this.sequencer.onPolicyInactive(key),
      onProfileActive: (p) => this.sequencer.onProfileActive(p),
      onProfileInactive: (name) => this.sequencer.onProfileInactive(name),
    });

    // ActiveRulesCalculator ─ active rules ─► RuleScanner
    //                       ─ matches ─► PolicyResolver
    this.activeRules = new ActiveRulesCalculator({
      onPolicyActive: (p) => this.scanner.onPolicyActive(p),
      onPolicyInactive: (key) => this.scanner.onPolicyInactive(key),
      onProfileActive: (name, p) => this.scanner.onProfileActive(name, p),
      onProfileInactive: (name) => this.scanner.onProfileInactive(name),
      onPolicyMatch: (key, ep) => this.resolver.onPolicyMatch(key, ep),
      onPolicyMatchStopped: (key, ep) => this.resolver.onPolicyMatchStopped(key, ep),
    });

    // PolicyResolver (reads PolicySorter) ─ endpoints ─► EventSequencer
    this.resolver = new PolicyResolver(this.sorter, {
      onEndpointUpdate: (e) => this.sequencer.onEndpointUpdate(e),
      onEndpointRemoved: (id) => this.sequencer.onEndpointRemoved(id),
    });

    // RouteResolver (nodes, pools, IPAM blocks, workloads) ─ routes, VTEPs ─► EventSequencer
    if (opts.hostname !== '*') {
      this.routes = new RouteResolver(opts.hostname, {
        onRouteUpdate: (r) => this.sequencer.onRouteUpdate(r),
        onRouteRemoved: (dst) => this.sequencer.onRouteRemoved(dst),
        onVtepUpdate: (v) => this.sequencer.onVtepUpdate(v),
        onVtepRemoved: (node) => this.sequencer.onVtepRemoved(node),
      });
    }
    // Calico's defaults until a FelixConfiguration says otherwise: a dataplane always has settings.
    this.updateConfig();
  }

  /**
   * Effective labels (own + inherited from profiles) of a local endpoint, from the graph's model.
   * Not part of the dataplane stream (no dataplane reads them); for explain/matrix and display.
   */
  endpointLabels(id: string): Record<string, string> | undefined {
    const eff = this.activeRules.effectiveLabels(id);
    if (!eff) return undefined;
    const out: Record<string, string> = {};
    for (const k of [...eff.keys()].sort()) out[k] = eff.get(k)!;
    return out;
  }

  /** IDs of the endpoints this graph computes (this node's, or all with hostname `*`). */
  localEndpointIds(): string[] {
    return [...this.localEndpoints];
  }

  onUpdates(updates: Update[]): void {
    for (const u of updates) this.onUpdate(u);
  }

  /** The datastore has been read completely: flush, reporting in-sync (once) in this batch. */
  onInSync(): void {
    this.sequencer.markInSync();
    this.flush();
  }

  flush(): void {
    this.resolver.flush();
    this.routes?.flush();
    this.sequencer.flush();
  }

  private onUpdate(u: Update): void {
    if (u.key.startsWith(IPAM_BLOCK_PREFIX)) return this.routes?.onBlockUpdate(u.key, u.value);
    const parsed = parseResourceKey(u.key);
    if (!parsed) return; // Other IPAM keys (affinities, handles) and unknown keys.
    const v = u.value as Resource | null;
    switch (parsed.plural) {
      case 'nodes': {
        const h = valid(v, toHostIp);
        if (h) this.sequencer.onHostIpUpdate(h);
        else this.sequencer.onHostIpRemoved(parsed.name);
        return this.routes?.onNodeUpdate(parsed.name, v);
      }
      case 'ippools': {
        const pool = valid(v, toIpPool);
        if (pool) this.sequencer.onIpPoolUpdate(pool);
        else this.sequencer.onIpPoolRemoved(parsed.name);
        return this.routes?.onPoolUpdate(parsed.name, v);
      }
      case 'felixconfigurations':
        return this.onFelixConfiguration(parsed.name, v);
      case 'tiers':
        if (this.sorter.onTierUpdate(parsed.name, valid(v, toTierModel))) this.resolver.onTierChanged(parsed.name);
        return;
      case 'networkpolicies':
      case 'globalnetworkpolicies':
      case 'stagednetworkpolicies':
      case 'stagedglobalnetworkpolicies':
      case 'stagedkubernetesnetworkpolicies':
        this.onPolicy(u.key, valid(v, toPolicyModel));
        return;
      case 'profiles': {
        const p = valid(v, toProfileModel);
        this.members.onParentUpdate(parsed.name, p ? p.labelsToApply : null);
        this.activeRules.onProfileUpdate(parsed.name, p);
        return;
      }
      case 'workloadendpoints':
        this.onEndpoint(`wep:${parsed.namespace ?? 'default'}/${parsed.name}`, valid(v, toWorkloadEndpointModel));
        return;
      case 'hostendpoints':
        this.onEndpoint(`hep:${parsed.name}`, valid(v, toHostEndpointModel));
        return;
      case 'networksets':
      case 'globalnetworksets': {
        const id = parsed.plural === 'networksets' ? `netset:${parsed.namespace ?? 'default'}/${parsed.name}` : `gnetset:${parsed.name}`;
        const ns = valid(v, toNetworkSetModel);
        if (!ns) return this.members.onItemRemoved(id);
        this.members.onItemUpdate(id, ns.labels, ns.parentIds, { nets: ns.nets, ports: [] });
        return;
      }
      default:
        return; // Other kinds do not affect this node's dataplane.
    }
  }

  private onFelixConfiguration(name: string, v: Resource | null): void {
    const wanted = name === GLOBAL_FELIX_CONFIG || (this.opts.hostname !== '*' && name === nodeFelixConfigName(this.opts.hostname));
    if (!wanted) return;
    const spec = v && typeof v.spec === 'object' && v.spec !== null ? (v.spec as Record<string, unknown>) : undefined;
    if (spec) this.felixConfigs.set(name, spec);
    else this.felixConfigs.delete(name);
    this.updateConfig();
  }

  private updateConfig(): void {
    const perNode = this.opts.hostname === '*' ? undefined : this.felixConfigs.get(nodeFelixConfigName(this.opts.hostname));
    this.sequencer.onConfigUpdate(felixSettings(this.felixConfigs.get(GLOBAL_FELIX_CONFIG), perNode));
  }

  private onPolicy(resourceKey: string, policy: PolicyModel | null): void {
    const oldKey = this.policyKeys.get(resourceKey);
    if (oldKey !== undefined && oldKey !== policy?.key) {
      this.sorter.onPolicyUpdate(oldKey, null);
      this.activeRules.onPolicyUpdate(oldKey, null);
      this.policyKeys.delete(resourceKey);
    }
    if (!policy) return;
    this.policyKeys.set(resourceKey, policy.key);
    // Sorter first, so endpoints that start matching are resolved with the new ordering.
    const meta = policyMeta(policy);
    const old = this.sorter.onPolicyUpdate(policy.key, meta);
    if (!sameMeta(old, meta)) this.resolver.onPolicyOrderingChanged(policy.key);
    this.activeRules.onPolicyUpdate(policy.key, policy);
  }

  private onEndpoint(id: string, model: EndpointModel | null): void {
    const ep = model && model.id !== id ? { ...model, id } : model; // the key is authoritative
    if (ep?.kind !== 'host') {
      const nets = ep ? [...ep.ipv4Nets, ...ep.ipv6Nets] : [];
      this.routes?.onWorkloadUpdate(id, ep ? { node: ep.node, nets, ...(ep.interfaceName ? { interfaceName: ep.interfaceName } : {}) } : null);
    }
    if (ep) this.members.onItemUpdate(id, ep.labels, ep.profileIds, { nets: [...ep.ipv4Nets, ...ep.ipv6Nets], ports: ep.ports });
    else this.members.onItemRemoved(id);
    const local = ep !== null && (this.opts.hostname === '*' || ep.node === this.opts.hostname);
    if (local) {
      this.localEndpoints.add(id);
      this.activeRules.onLocalEndpointUpdate(id, ep);
      this.resolver.onEndpointUpdate(id, ep);
    } else if (this.localEndpoints.delete(id)) {
      this.activeRules.onLocalEndpointUpdate(id, null);
      this.resolver.onEndpointUpdate(id, null);
    }
  }
}

/** Felix's ValidationFilter: a value that cannot be read is treated as absent. */
function valid<T>(v: Resource | null, convert: (r: Resource) => T | null): T | null {
  if (v === null || typeof v !== 'object' || typeof v.metadata?.name !== 'string') return null;
  try {
    return convert(v);
  } catch {
    return null;
  }
}
