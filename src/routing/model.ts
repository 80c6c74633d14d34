/**
 * The resolved BIRD configuration of one node: everything `render.ts` needs, already expanded from
 * Node, BGPConfiguration, BGPPeer, BGPFilter, IPPool and block-affinity resources by
 * `config-builder.ts`. Plain data, no defaults left to apply, in the order it is rendered: the
 * renderer only formats it, so a golden file changes only when this model does.
 */

export type Family = 4 | 6;

export type BirdLogLevel = 'Trace' | 'Debug' | 'Info' | 'Warning' | 'Error' | 'Fatal';

/** One IP pool as BIRD sees it. */
export interface PoolRoute {
  cidr: string;
  /** `disableBGPExport`: never advertised. */
  exportDisabled: boolean;
  /** Cluster routes of this pool are programmed by the agent (VXLAN, IP-in-IP), not by BIRD. */
  agentProgrammed: boolean;
  /** Why, for the comment in the kernel filter (`vxlanMode Always`). */
  encap?: string;
}

/** One IPAM block affine to this node. Only confirmed blocks are advertised. */
export interface BlockRoute {
  cidr: string;
  state: 'confirmed' | 'pending' | 'pendingDeletion';
}

/** A BGP community to attach to routes inside `cidr`. */
export interface CommunityAdvert {
  cidr: string;
  /** `aa:nn` (standard) or `aa:nn:mm` (large), already resolved from community names. */
  communities: string[];
}

export interface FamilyConfig {
  family: Family;
  pools: PoolRoute[];
  blocks: BlockRoute[];
  /** Service CIDRs advertised as blackhole statics (serviceClusterIPs / ExternalIPs / LoadBalancerIPs). */
  serviceCidrs: string[];
  communities: CommunityAdvert[];
}

export type PeerKind = 'mesh' | 'global' | 'node';

export interface BirdPeer {
  /** BIRD protocol name: `Mesh_10_0_0_2`, `Global_…`, `Node_…` (+ `_port_N`). */
  name: string;
  kind: PeerKind;
  family: Family;
  ip: string;
  port?: number;
  asNumber: string;
  localAsNumber: string;
  /** Local address to speak from (`local <ip>`); absent with `sourceAddress: None`. */
  localIp?: string;
  /** This side waits for the other to connect (mesh: the lexically greater address initiates). */
  passive: boolean;
  /** Where the peering came from, for the comment above the protocol. */
  origin: string;
  internal: boolean;
  routeReflectorClient?: string;
  nextHop?: 'self' | 'keep';
  password?: string;
  /** Graceful restart time in seconds. */
  restartTime?: number;
  keepaliveTime?: number;
  ttlSecurityHops?: number;
  allowLocalAs?: number;
  /** BGPFilter names, in the order the peer lists them. */
  filters: string[];
}

export type FilterMatchOperator = 'Equal' | 'NotEqual' | 'In' | 'NotIn';

export interface FilterRule {
  cidr?: string;
  matchOperator?: FilterMatchOperator;
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  interface?: string;
  peerType?: 'eBGP' | 'iBGP';
  action: 'Accept' | 'Reject';
}

export interface BgpFilterModel {
  name: string;
  exportV4: FilterRule[];
  importV4: FilterRule[];
  exportV6: FilterRule[];
  importV6: FilterRule[];
}

export interface BirdConfig {
  node: string;
  routerId: string;
  /** Where the router ID came from (`node IPv4 address`, `hash of the node name`). */
  routerIdSource: string;
  asNumber: string;
  logLevel: BirdLogLevel;
  listenPort?: number;
  /** This node is a route reflector (`routeReflectorClusterID`): it re-advertises learned routes. */
  routeReflectorClusterId?: string;
  /** Interface patterns the direct protocol leaves out (`cali*`, the tunnels, ignoredInterfaces). */
  ignoredInterfaces: string[];
  families: FamilyConfig[];
  filters: BgpFilterModel[];
  peers: BirdPeer[];
}
