/**
 * What the calculation layer tells a dataplane (the contract between `calc` and its consumers: the
 * node agent's dataplane, `brindle policy explain|matrix|preview`, and test fakes). Modelled on
 * Felix's `ToDataplane` messages. Selectors in rules are already replaced by IP-set IDs.
 *
 * Ordering contract (the sequencer guarantees it): an IP set is added before any policy that
 * references it and removed after the last such policy; a policy/profile is active before any
 * endpoint that lists it and inactive only after no endpoint lists it.
 */

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
  kind: 'NetworkPolicy' | 'GlobalNetworkPolicy' | 'StagedNetworkPolicy' | 'StagedGlobalNetworkPolicy';
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
  /** Effective labels (own + inherited), for display. */
  labels: Record<string, string>;
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

/** The callbacks a dataplane implements; calls arrive in the order described above. */
export interface DataplaneCallbacks {
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
  onRouteUpdate(route: RouteUpdate): void;
  onRouteRemoved(dst: string): void;
  onVtepUpdate(vtep: VtepUpdate): void;
  onVtepRemoved(node: string): void;
  onInSync(): void;
}

/** A full picture of calculation output at one instant (what a fake dataplane accumulates). */
export interface CalcSnapshot {
  ipSets: Map<string, { type: IpSetType; members: Set<string> }>;
  policies: Map<PolicyKey, ActivePolicy>;
  profiles: Map<string, ActiveProfile>;
  endpoints: Map<string, EndpointState>;
  routes: Map<string, RouteUpdate>;
  vteps: Map<string, VtepUpdate>;
  inSync: boolean;
}
