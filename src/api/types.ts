/**
 * TypeScript shapes of the `projectcalico.org/v3` resources Brindle stores, as they appear in YAML
 * (camelCase field names, optional fields optional). Defaults and validation live in their own
 * files; these are plain data, shared by every layer.
 */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Datastore modRevision as a decimal string; set on read, checked on replace. */
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
}

export interface Resource<K extends string = string, S = unknown> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

// ---------------------------------------------------------------- policy

export type Action = 'Allow' | 'Deny' | 'Log' | 'Pass';
export type PolicyType = 'Ingress' | 'Egress';
/** A protocol name (`TCP`, `UDP`, `ICMP`, `ICMPv6`, `SCTP`, `UDPLite`) or number 1–255. */
export type Protocol = string | number;
/** A port: number, `"80"`, `"100:200"` or a named port such as `"http"`. */
export type Port = number | string;

export interface ICMPFields {
  type?: number;
  code?: number;
}

export interface ServiceAccountMatch {
  names?: string[];
  selector?: string;
}

export interface ServiceMatch {
  name: string;
  namespace?: string;
}

export interface EntityRule {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  serviceAccounts?: ServiceAccountMatch;
  services?: ServiceMatch;
  ports?: Port[];
  notPorts?: Port[];
}

export interface HTTPMatch {
  methods?: string[];
  paths?: ({ exact: string } | { prefix: string })[];
}

export interface Rule {
  action: Action;
  ipVersion?: 4 | 6;
  protocol?: Protocol;
  notProtocol?: Protocol;
  icmp?: ICMPFields;
  notICMP?: ICMPFields;
  source?: EntityRule;
  destination?: EntityRule;
  http?: HTTPMatch;
  metadata?: { annotations?: Record<string, string> };
}

export interface NetworkPolicySpec {
  tier?: string;
  order?: number;
  selector?: string;
  types?: PolicyType[];
  ingress?: Rule[];
  egress?: Rule[];
  serviceAccountSelector?: string;
  performanceHints?: string[];
}

export interface GlobalNetworkPolicySpec extends NetworkPolicySpec {
  namespaceSelector?: string;
  doNotTrack?: boolean;
  preDNAT?: boolean;
  applyOnForward?: boolean;
}

export type StagedAction = 'Set' | 'Delete' | 'Learn' | 'Ignore';
export interface StagedNetworkPolicySpec extends NetworkPolicySpec {
  stagedAction?: StagedAction;
}
export interface StagedGlobalNetworkPolicySpec extends GlobalNetworkPolicySpec {
  stagedAction?: StagedAction;
}

export interface TierSpec {
  order?: number;
  defaultAction?: 'Deny' | 'Pass';
}

export interface ProfileSpec {
  ingress?: Rule[];
  egress?: Rule[];
  labelsToApply?: Record<string, string>;
}

export type NetworkPolicy = Resource<'NetworkPolicy', NetworkPolicySpec>;
export type GlobalNetworkPolicy = Resource<'GlobalNetworkPolicy', GlobalNetworkPolicySpec>;
export type StagedNetworkPolicy = Resource<'StagedNetworkPolicy', StagedNetworkPolicySpec>;
export type StagedGlobalNetworkPolicy = Resource<'StagedGlobalNetworkPolicy', StagedGlobalNetworkPolicySpec>;
export type Tier = Resource<'Tier', TierSpec>;
export type Profile = Resource<'Profile', ProfileSpec>;

// ---------------------------------------------------------------- endpoints and sets

export interface EndpointPort {
  name: string;
  protocol: Protocol;
  port: number;
  hostPort?: number;
  hostIP?: string;
}

export interface IPNAT {
  internalIP: string;
  externalIP: string;
}

export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks?: string[];
  ipNATs?: IPNAT[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  interfaceName?: string;
  mac?: string;
  ports?: EndpointPort[];
  allowSpoofedSourcePrefixes?: string[];
}

export interface HostEndpointSpec {
  node?: string;
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: EndpointPort[];
}

export interface NetworkSetSpec {
  nets?: string[];
}

export type WorkloadEndpoint = Resource<'WorkloadEndpoint', WorkloadEndpointSpec>;
export type HostEndpoint = Resource<'HostEndpoint', HostEndpointSpec>;
export type NetworkSet = Resource<'NetworkSet', NetworkSetSpec>;
export type GlobalNetworkSet = Resource<'GlobalNetworkSet', NetworkSetSpec>;

// ---------------------------------------------------------------- nodes, pools, IPAM

export interface NodeBGPSpec {
  asNumber?: number;
  ipv4Address?: string;
  ipv6Address?: string;
  ipv4IPIPTunnelAddr?: string;
  routeReflectorClusterID?: string;
}

export interface NodeSpec {
  bgp?: NodeBGPSpec;
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  addresses?: { address: string; type?: string }[];
  orchRefs?: { nodeName?: string; orchestrator: string }[];
}

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';
export type AllowedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';

export interface IPPoolSpec {
  cidr: string;
  blockSize?: number;
  ipipMode?: EncapMode;
  vxlanMode?: EncapMode;
  natOutgoing?: boolean;
  disabled?: boolean;
  disableBGPExport?: boolean;
  nodeSelector?: string;
  namespaceSelector?: string;
  allowedUses?: AllowedUse[];
  assignmentMode?: 'Automatic' | 'Manual';
}

export interface IPReservationSpec {
  reservedCIDRs: string[];
}

export interface IPAMConfigurationSpec {
  strictAffinity?: boolean;
  autoAllocateBlocks?: boolean;
  maxBlocksPerHost?: number;
  ipCooldownSeconds?: number;
}

export type Node = Resource<'Node', NodeSpec>;
export type IPPool = Resource<'IPPool', IPPoolSpec>;
export type IPReservation = Resource<'IPReservation', IPReservationSpec>;
export type IPAMConfiguration = Resource<'IPAMConfiguration', IPAMConfigurationSpec>;

// ---------------------------------------------------------------- BGP and configuration

export interface BGPConfigurationSpec {
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: number;
  serviceClusterIPs?: { cidr: string }[];
  serviceExternalIPs?: { cidr: string }[];
  serviceLoadBalancerIPs?: { cidr: string }[];
  listenPort?: number;
  bindMode?: 'None' | 'NodeIP';
  communities?: { name: string; value: string }[];
  prefixAdvertisements?: { cidr: string; communities?: string[] }[];
  ignoredInterfaces?: string[];
  [field: string]: unknown;
}

export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  peerIP?: string;
  peerSelector?: string;
  asNumber?: number;
  localASNumber?: number;
  keepOriginalNextHop?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  password?: { secretKeyRef?: { name: string; key: string } };
  sourceAddress?: 'UseNodeIP' | 'None';
  maxRestartTime?: string;
  keepaliveTime?: string;
  numAllowedLocalASNumbers?: number;
  ttlSecurity?: number;
  reachableBy?: string;
  filters?: string[];
  localWorkloadSelector?: string;
  reversePeering?: 'Auto' | 'Manual';
}

export interface BGPFilterRule {
  cidr?: string;
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  interface?: string;
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  action: 'Accept' | 'Reject';
  [field: string]: unknown;
}

export interface BGPFilterSpec {
  exportV4?: BGPFilterRule[];
  importV4?: BGPFilterRule[];
  exportV6?: BGPFilterRule[];
  importV6?: BGPFilterRule[];
}

export interface CalicoNodeStatusSpec {
  node: string;
  classes?: ('Agent' | 'BGP' | 'Routes')[];
  /** How often the node's agent refreshes the status; 0 or absent: once. */
  updatePeriodSeconds?: number;
}

export type CalicoNodeStatus = Resource<'CalicoNodeStatus', CalicoNodeStatusSpec>;
export type BGPConfiguration = Resource<'BGPConfiguration', BGPConfigurationSpec>;
export type BGPPeer = Resource<'BGPPeer', BGPPeerSpec>;
export type BGPFilter = Resource<'BGPFilter', BGPFilterSpec>;
export type FelixConfiguration = Resource<'FelixConfiguration', Record<string, unknown>>;
export type KubeControllersConfiguration = Resource<'KubeControllersConfiguration', Record<string, unknown>>;
export type ClusterInformation = Resource<'ClusterInformation', { clusterGUID?: string; clusterType?: string; calicoVersion?: string; datastoreReady?: boolean }>;

// ---------------------------------------------------------------- well-known names and labels

export const LABEL_NAMESPACE = 'projectcalico.org/namespace';
export const LABEL_SERVICE_ACCOUNT = 'projectcalico.org/serviceaccount';
export const LABEL_ORCHESTRATOR = 'projectcalico.org/orchestrator';
export const LABEL_TIER = 'projectcalico.org/tier';
export const LABEL_NAME = 'projectcalico.org/name';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';
export const NAMESPACE_PROFILE_PREFIX = 'kns.';
export const SERVICE_ACCOUNT_PROFILE_PREFIX = 'ksa.';
export const K8S_POLICY_PREFIX = 'knp.default.';
export const DEFAULT_TIER = 'default';
export const DEFAULT_ALLOW_PROFILE = 'projectcalico-default-allow';
