/**
 * The calculation graph's internal model: v3 resources after the update-processor step
 * (`resource-converter.ts`), i.e. with implicit labels added and selectors composed. These are the
 * values that flow between the graph's nodes; nothing here is sent to a dataplane.
 */
import type { Rule } from '../api/types.js';
import type { Selector } from '../selector/index.js';
import type { EndpointIdentity, PolicyIdentity, PolicyKey } from './types.js';

/** A v3 rule plus its composed selectors (§2.4: namespace, service-account and prefix handling). */
export interface BackendRule {
  rule: Rule;
  /** Index in the policy's ingress/egress list. */
  index: number;
  /** Composed selectors; '' when absent. The `not` ones are the raw v3 notSelector. */
  srcSelector: string;
  dstSelector: string;
  notSrcSelector: string;
  notDstSelector: string;
}

export interface PolicyModel {
  key: PolicyKey;
  identity: PolicyIdentity;
  /** Composed selector string (not yet parsed). */
  selector: string;
  order?: number;
  governsIngress: boolean;
  governsEgress: boolean;
  inbound: BackendRule[];
  outbound: BackendRule[];
  doNotTrack: boolean;
  preDNAT: boolean;
  applyOnForward: boolean;
  /** `performanceHints: [AssumeNeededOnEveryNode]`: active on every node, matching or not. */
  assumeNeededOnEveryNode: boolean;
  /** A staged policy: evaluated for flow logs and explain, never enforced. */
  staged?: boolean;
}

export interface ProfileModel {
  name: string;
  inbound: BackendRule[];
  outbound: BackendRule[];
  labelsToApply: Map<string, string>;
}

export interface TierModel {
  name: string;
  order?: number;
  defaultAction: 'Deny' | 'Pass';
}

/** A named port on an endpoint, protocol lower-cased (`tcp`, `udp`, `sctp`). */
export interface NamedPort {
  name: string;
  protocol: string;
  port: number;
}

export interface EndpointModel extends EndpointIdentity {
  /** Own labels including the implicit `projectcalico.org/*` ones. */
  labels: Map<string, string>;
  ports: NamedPort[];
}

/** NetworkSet (`netset:<ns>/<name>`) or GlobalNetworkSet (`gnetset:<name>`). */
export interface NetworkSetModel {
  id: string;
  labels: Map<string, string>;
  /** Profiles whose labels are inherited (`kns.<ns>` for namespaced sets). */
  parentIds: string[];
  /** CIDR strings. */
  nets: string[];
}

/** Where a selector is used and what data it stands for; the ID is what rules reference. */
export interface IpSetData {
  id: string;
  /** The selector (the IP set's members are what it matches) and its unique ID. */
  selectorId: string;
  selector: Selector;
  /** Named-port sets only. */
  namedPort?: string;
  namedPortProtocol?: 'tcp' | 'udp' | 'sctp' | 'any';
}
