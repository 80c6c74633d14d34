/**
 * What the calculation layer tells a dataplane: the contract between `calc` and its consumers (the
 * node agent's dataplane, `brindle policy explain|matrix|preview`, flow logs, test fakes). Modelled
 * on Felix's `ToDataplane` messages. Selectors in rules are already replaced by IP-set IDs.
 *
 * Batches. Output arrives in batches: every call between two `onBatchComplete()` calls is one
 * batch, and a batch is a consistent picture of the datastore (a dataplane applies it as ONE kernel
 * transaction at `onBatchComplete`). The graph ends a batch after each flush that sent something;
 * an empty flush sends nothing, not even `onBatchComplete`.
 *
 * In-sync. `onInSync()` comes once, inside the batch that first reflects a complete datastore,
 * before that batch's `onBatchComplete()`. A dataplane may record earlier batches but must not
 * program the kernel (nor delete what it does not know) before it has seen in-sync.
 *
 * Ordering contract (the sequencer guarantees it, SnapshotDataplane checks it), within a batch:
 *   up:   config → IP sets added → members added/removed → policies, profiles active
 *         → endpoints updated → host IPs, pools → VTEPs → routes
 *   down: routes removed → VTEPs removed → pools, host IPs removed → endpoints removed
 *         → policies, profiles inactive → IP sets removed
 * so an IP set is added before any policy that references it and removed after the last such
 * policy, a policy/profile is active before any endpoint lists it and inactive only after no
 * endpoint lists it, a VTEP exists while a VXLAN route uses it, and `onConfigUpdate` comes before
 * anything else in the first batch (a dataplane always has settings).
 *
 * Pairs are symmetric: `…Update`/`…Active` carries the whole new object (a repeat replaces it),
 * `…Removed`/`…Inactive` names one that was sent. Nothing is sent that did not change.
 *
 * Staged policies (Staged*NetworkPolicy with stagedAction Set) are sent like others with
 * `staged: true` and appear in endpoint tiers in their evaluation order. They are never enforced:
 * an enforcing dataplane gives them no verdict (flow logs/explain compute "pending" verdicts from
 * them), and a tier whose policies for a direction are all staged passes at its end instead of
 * applying its default action (Felix: `model.KindIsStaged`).
 *
 * Not sent: endpoint labels (they change often and no dataplane reads them; explain/matrix get
 * them from the graph's model, `CalculationGraph.endpointLabels`, see `CalcSnapshot.labels`).
 */

import type { EncapMode } from '../api/types.js';
import type { FelixSettings } from './felix-settings.js';

export type { FelixSettings } from './felix-settings.js';

export type RuleAction = 'allow' | 'deny' | 'log' | 'pass';

/** Inclusive port range; a single port has first === last. */
export interface PortRange {
  first: number;
  last: number;
}

/**
 * One side (source or destination) of a rule: every field is optional and present only when
 * non-empty. The same type serves both sides, so code that handles a side is written once.
 */
export interface RuleSide {
  nets?: string[];
  notNets?: string[];
  ports?: PortRange[];
  notPorts?: PortRange[];
  /** Selector IP sets: the address must be in ALL of them (each stands for one selector); in none of the `not` ones. */
  ipSetIds?: string[];
  notIpSetIds?: string[];
  /** Named ports: `addr,proto:port` sets; the packet must match at least one (ORed with numeric ports). */
  namedPortIpSetIds?: string[];
  notNamedPortIpSetIds?: string[];
}

export type RuleSideName = 'src' | 'dst';

export interface ParsedRule {
  action: RuleAction;
  ipVersion?: 4 | 6;
  /** Lower-case protocol name (`tcp`, `udp`, `sctp`, `icmp`, `icmpv6`, `udplite`) or number as string. */
  protocol?: string;
  notProtocol?: string;
  icmp?: { type: number; code?: number };
  notIcmp?: { type: number; code?: number };

  /** Source and destination conditions, each present only when the rule has one on that side. */
  src?: RuleSide;
  dst?: RuleSide;

  /** Where it came from, for explanations: index in its policy's ingress/egress list and a one-line rendering. */
  index: number;
  text: string;
}

/** `<tier>/<namespace or _>/<name>` for policies; unique and stable. */
export type PolicyKey = string;

export interface PolicyIdentity {
  kind: 'NetworkPolicy' | 'GlobalNetworkPolicy' | 'StagedNetworkPolicy' | 'StagedGlobalNetworkPolicy' | 'StagedKubernetesNetworkPolicy';
  tier: string;
  name: string;
  namespace?: string;
}

export interface ActivePolicy {
  key: PolicyKey;
  identity: PolicyIdentity;
  order?: number;
  inbound: ParsedRule[];
  outbound: ParsedRule[];
  untracked?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
  /** Missing or invalid in the datastore but still referenced: deny everything (fail closed). */
  failClosed?: boolean;
  /** A staged policy (key `<tier>/<ns or _>/staged:<name>`): never enforced, see the contract above. */
  staged?: boolean;
}

export interface ActiveProfile {
  name: string;
  inbound: ParsedRule[];
  outbound: ParsedRule[];
  /** Listed by an endpoint but not in the datastore: deny everything (fail closed). */
  failClosed?: boolean;
}

export interface TierInfo {
  name: string;
  order?: number;
  defaultAction: 'Deny' | 'Pass';
  /** Policy keys in evaluation order, only those whose `types` include the direction. */
  ingressPolicies: PolicyKey[];
  egressPolicies: PolicyKey[];
}

export type EndpointKind = 'workload' | 'host';

/** What identifies an endpoint and where it is: shared by the calculation's model and its output. */
export interface EndpointIdentity {
  /** `wep:<namespace>/<name>` or `hep:<name>`. */
  id: string;
  kind: EndpointKind;
  name: string;
  namespace?: string;
  node: string;
  interfaceName?: string;
  mac?: string;
  /** CIDR strings (`10.0.0.1/32`). */
  ipv4Nets: string[];
  ipv6Nets: string[];
  profileIds: string[];
}

export interface EndpointState extends EndpointIdentity {
  /** Ordered tiers that apply to this endpoint (normal policies). */
  tiers: TierInfo[];
  /** Host endpoints only. */
  untrackedTiers?: TierInfo[];
  preDNATTiers?: TierInfo[];
  forwardTiers?: TierInfo[];
}

/** A node's own addresses (Node `spec.bgp.ipv4Address`/`ipv6Address`, else its first IPv4 `addresses`). */
export interface HostIpUpdate {
  node: string;
  ipv4?: string;
  ipv6?: string;
}

/** An IP pool as the dataplane needs it (NAT-outgoing sets, encapsulation). Disabled pools are sent too. */
export interface IpPoolUpdate {
  name: string;
  /** Masked CIDR string. */
  cidr: string;
  family: 4 | 6;
  natOutgoing: boolean;
  vxlanMode: EncapMode;
  ipipMode: EncapMode;
  disabled: boolean;
}

export type IpSetType = 'ip' | 'ip-and-port' | 'net';

export type RouteType = 'local-workload' | 'remote-workload' | 'local-host' | 'remote-host' | 'remote-block' | 'local-block' | 'tunnel';

export interface RouteUpdate {
  dst: string;
  type: RouteType;
  /** Node owning the destination, if any. */
  node?: string;
  /** Underlay address of that node (next hop for no-encap routes). */
  nodeIP?: string;
  natOutgoing?: boolean;
  vxlan?: boolean;
  /** The pool of a block or workload route encapsulates (vxlanMode / ipipMode not Never): the agent, not BIRD, programs its cluster routes. */
  encap?: 'vxlan' | 'ipip';
  /** Sent through the IP-in-IP tunnel (`via nodeIP dev tunl0 onlink`). */
  ipip?: boolean;
  /** Local workload interface for local routes. */
  interfaceName?: string;
}

export interface VtepUpdate {
  node: string;
  nodeIP: string;
  tunnelIP: string;
  mac: string;
}

/** The callbacks a dataplane implements; calls arrive in batches and in the order described above. */
export interface DataplaneCallbacks {
  /** Merged FelixConfiguration (`default` + `node.<name>` + Calico defaults); whole settings each time. */
  onConfigUpdate(settings: FelixSettings): void;
  onIpSetAdded(id: string, type: IpSetType): void;
  onIpSetMemberAdded(id: string, member: string): void;
  onIpSetMemberRemoved(id: string, member: string): void;
  onIpSetRemoved(id: string): void;
  onPolicyActive(policy: ActivePolicy): void;
  onPolicyInactive(key: PolicyKey): void;
  onProfileActive(profile: ActiveProfile): void;
  onProfileInactive(name: string): void;
  onEndpointUpdate(endpoint: EndpointState): void;
  onEndpointRemoved(id: string): void;
  onHostIpUpdate(host: HostIpUpdate): void;
  onHostIpRemoved(node: string): void;
  onIpPoolUpdate(pool: IpPoolUpdate): void;
  onIpPoolRemoved(name: string): void;
  onRouteUpdate(route: RouteUpdate): void;
  onRouteRemoved(dst: string): void;
  onVtepUpdate(vtep: VtepUpdate): void;
  onVtepRemoved(node: string): void;
  /** Once: the batch being delivered is the first complete picture (comes before its onBatchComplete). */
  onInSync(): void;
  /** End of a batch: apply everything received since the previous one as one transaction. */
  onBatchComplete(): void;
}

/** A full picture of calculation output at one instant (what a fake dataplane accumulates). */
export interface CalcSnapshot {
  ipSets: Map<string, { type: IpSetType; members: Set<string> }>;
  policies: Map<PolicyKey, ActivePolicy>;
  profiles: Map<string, ActiveProfile>;
  endpoints: Map<string, EndpointState>;
  routes: Map<string, RouteUpdate>;
  vteps: Map<string, VtepUpdate>;
  hostIps: Map<string, HostIpUpdate>;
  pools: Map<string, IpPoolUpdate>;
  config: FelixSettings | undefined;
  /** Effective labels (own + inherited) of endpoints, from the graph's model (not from the output stream). */
  labels: Map<string, Record<string, string>>;
  inSync: boolean;
}
