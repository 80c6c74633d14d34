import { formatCidr, tryParseCidr } from '../net/cidr.js';
import { CALICO_API_VERSION } from './kinds.js';
import { k8sLabelSelectorToCalico, simplifyPorts, type K8sLabelSelector } from './k8s-conversion.js';
import type { Action, EntityRule, GlobalNetworkPolicy, Port, Rule } from './types.js';

/**
 * The cluster-wide admin policies of the upstream network-policy API, converted to Calico
 * GlobalNetworkPolicies in the built-in `kube-admin` / `kube-baseline` tiers, as Calico 3.31 does
 * (`libcalico-go/lib/backend/k8s/conversion`, `K8sClusterNetworkPolicyToCalico` and the
 * AdminNetworkPolicy/BaselineAdminNetworkPolicy converters before it):
 *
 * - `ClusterNetworkPolicy` (policy.networking.k8s.io/v1alpha2, also v1beta1): `spec.tier`
 *   Admin → kube-admin, Baseline → kube-baseline; order = priority; Accept → Allow.
 * - `AdminNetworkPolicy` (v1alpha1) → kube-admin, order = priority.
 * - `BaselineAdminNetworkPolicy` (v1alpha1, always named `default`) → kube-baseline.
 *
 * The subject becomes the policy's namespaceSelector + selector (pods only:
 * `projectcalico.org/orchestrator == 'k8s'`). One rule per protocol and peer. A rule that cannot be
 * converted (a peer type Brindle cannot enforce, such as nodes or domainNames) fails closed as the
 * API asks: an Accept rule is dropped, a Deny or Pass rule becomes deny-all. Pure.
 */

export const ADMIN_POLICY_API_GROUP = 'policy.networking.k8s.io';
export const ADMIN_TIER = 'kube-admin';
export const BASELINE_TIER = 'kube-baseline';
export const CNP_PREFIX = 'kcnp.';
export const ANP_PREFIX = 'kanp.';
export const BANP_PREFIX = 'kbanp.';
/** Rule annotation carrying the upstream rule's name. */
export const RULE_NAME_ANNOTATION = 'policy.networking.k8s.io/rule-name';
/** Order of the (single) BaselineAdminNetworkPolicy: after every baseline ClusterNetworkPolicy. */
export const BANP_ORDER = 1000;

export type AdminPolicyKind = 'ClusterNetworkPolicy' | 'AdminNetworkPolicy' | 'BaselineAdminNetworkPolicy';

/** apiVersions each kind is accepted with. */
export const ADMIN_POLICY_VERSIONS: Readonly<Record<AdminPolicyKind, readonly string[]>> = {
  ClusterNetworkPolicy: [`${ADMIN_POLICY_API_GROUP}/v1alpha2`, `${ADMIN_POLICY_API_GROUP}/v1beta1`],
  AdminNetworkPolicy: [`${ADMIN_POLICY_API_GROUP}/v1alpha1`],
  BaselineAdminNetworkPolicy: [`${ADMIN_POLICY_API_GROUP}/v1alpha1`],
};

export interface NamespacedPod {
  namespaceSelector?: K8sLabelSelector;
  podSelector?: K8sLabelSelector;
}

export interface AdminPolicyPeer {
  namespaces?: K8sLabelSelector;
  pods?: NamespacedPod;
  nodes?: K8sLabelSelector;
  networks?: string[];
  domainNames?: string[];
}

/** v1alpha1 port (also early v1alpha2): exactly one field. */
export interface AdminPolicyPort {
  portNumber?: { protocol?: string; port: number };
  namedPort?: string;
  portRange?: { protocol?: string; start: number; end: number };
}

/** v1alpha2/v1beta1 protocol match: exactly one field. */
export interface AdminPolicyProtocol {
  tcp?: { destinationPort?: DestinationPort };
  udp?: { destinationPort?: DestinationPort };
  sctp?: { destinationPort?: DestinationPort };
  destinationNamedPort?: string;
}
export interface DestinationPort {
  number?: number;
  range?: { start: number; end: number };
}

export interface AdminPolicyRule {
  name?: string;
  action: string;
  from?: AdminPolicyPeer[];
  to?: AdminPolicyPeer[];
  ports?: AdminPolicyPort[];
  protocols?: AdminPolicyProtocol[];
}

export interface AdminPolicySpec {
  tier?: string;
  priority?: number;
  subject?: { namespaces?: K8sLabelSelector; pods?: NamespacedPod };
  ingress?: AdminPolicyRule[];
  egress?: AdminPolicyRule[];
}

export interface K8sAdminPolicy {
  apiVersion: string;
  kind: AdminPolicyKind;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string; creationTimestamp?: string };
  spec: AdminPolicySpec;
}

export function isAdminPolicyDocument(doc: { apiVersion?: unknown; kind?: unknown }): boolean {
  const versions = ADMIN_POLICY_VERSIONS[doc.kind as AdminPolicyKind] as readonly string[] | undefined;
  return versions !== undefined && versions.includes(doc.apiVersion as string);
}

/** The tier a policy lands in, or undefined for a ClusterNetworkPolicy with an unknown tier. */
export function adminPolicyTier(p: Pick<K8sAdminPolicy, 'kind' | 'spec'>): string | undefined {
  if (p.kind === 'AdminNetworkPolicy') return ADMIN_TIER;
  if (p.kind === 'BaselineAdminNetworkPolicy') return BASELINE_TIER;
  return p.spec?.tier === 'Admin' ? ADMIN_TIER : p.spec?.tier === 'Baseline' ? BASELINE_TIER : undefined;
}

/** The stored GlobalNetworkPolicy name of an admin policy. */
export function adminPolicyStoredName(kind: AdminPolicyKind, name: string): string {
  return (kind === 'ClusterNetworkPolicy' ? CNP_PREFIX : kind === 'AdminNetworkPolicy' ? ANP_PREFIX : BANP_PREFIX) + name;
}

export function convertAdminPolicy(p: K8sAdminPolicy): GlobalNetworkPolicy {
  const spec = p.spec ?? {};
  const accept = p.kind === 'ClusterNetworkPolicy' ? 'Accept' : 'Allow';
  const ingress = (spec.ingress ?? []).flatMap((r) => convertRule(r, r.from, true, accept));
  const egress = (spec.egress ?? []).flatMap((r) => convertRule(r, r.to, false, accept));
  const subject = spec.subject ?? {};
  let namespaceSelector: string;
  let selector: string;
  if (subject.pods) {
    namespaceSelector = k8sLabelSelectorToCalico(subject.pods.namespaceSelector ?? {}, { forPods: false });
    selector = k8sLabelSelectorToCalico(subject.pods.podSelector ?? {}, { forPods: true });
  } else {
    namespaceSelector = k8sLabelSelectorToCalico(subject.namespaces ?? {}, { forPods: false });
    selector = k8sLabelSelectorToCalico(undefined, { forPods: true });
  }
  const types: ('Ingress' | 'Egress')[] = [];
  if (ingress.length > 0) types.push('Ingress');
  if (egress.length > 0) types.push('Egress');
  const metadata: GlobalNetworkPolicy['metadata'] = { name: adminPolicyStoredName(p.kind, p.metadata.name) };
  if (p.metadata.labels) metadata.labels = { ...p.metadata.labels };
  if (p.metadata.annotations) metadata.annotations = { ...p.metadata.annotations };
  if (p.metadata.creationTimestamp) metadata.creationTimestamp = p.metadata.creationTimestamp;
  const order = p.kind === 'BaselineAdminNetworkPolicy' ? BANP_ORDER : spec.priority ?? 0;
  const out: GlobalNetworkPolicy = {
    apiVersion: CALICO_API_VERSION,
    kind: 'GlobalNetworkPolicy',
    metadata,
    spec: { tier: adminPolicyTier(p) ?? ADMIN_TIER, order, namespaceSelector, selector, types },
  };
  // A policy with no rules at all selects its subject and matches nothing: the tier's Pass decides.
  if (types.length === 0) out.spec.types = ['Ingress'];
  if (ingress.length > 0) out.spec.ingress = ingress;
  if (egress.length > 0) out.spec.egress = egress;
  return out;
}

class UnsupportedRule extends Error {}

function convertRule(r: AdminPolicyRule, peers: AdminPolicyPeer[] | undefined, ingress: boolean, accept: string): Rule[] {
  const action: Action | undefined = r.action === accept ? 'Allow' : r.action === 'Deny' ? 'Deny' : r.action === 'Pass' ? 'Pass' : undefined;
  try {
    if (!action) throw new UnsupportedRule(`action ${r.action}`);
    const byProtocol = protocolPorts(r);
    const rules: Rule[] = [];
    for (const protocol of [...byProtocol.keys()].sort()) {
      const ports = simplifyPorts(byProtocol.get(protocol) ?? null);
      for (const peer of peers ?? []) {
        const entity = peerToEntity(peer, ingress);
        const rule: Rule = { action };
        if (r.name) rule.metadata = { annotations: { [RULE_NAME_ANNOTATION]: r.name } };
        if (protocol !== '') rule.protocol = protocol;
        const dest: EntityRule = ingress ? {} : entity;
        if (ports && ports.length > 0) dest.ports = ports;
        if (ingress) rule.source = entity;
        if (Object.keys(dest).length > 0) rule.destination = dest;
        rules.push(rule);
      }
    }
    return rules;
  } catch (err) {
    if (!(err instanceof UnsupportedRule)) throw err;
    // Fail closed: an Accept that cannot be enforced accepts nothing; a Deny or Pass denies everything.
    return action === 'Allow' ? [] : [{ action: 'Deny', ...(r.name ? { metadata: { annotations: { [RULE_NAME_ANNOTATION]: r.name } } } : {}) }];
  }
}

function peerToEntity(peer: AdminPolicyPeer, ingress: boolean): EntityRule {
  if (peer.namespaces) return { namespaceSelector: k8sLabelSelectorToCalico(peer.namespaces, { forPods: false }) };
  if (peer.pods) {
    return {
      selector: k8sLabelSelectorToCalico(peer.pods.podSelector ?? {}, { forPods: true }),
      namespaceSelector: k8sLabelSelectorToCalico(peer.pods.namespaceSelector ?? {}, { forPods: false }),
    };
  }
  if (!ingress && peer.networks && peer.networks.length > 0) {
    return {
      nets: peer.networks.map((n) => {
        const c = tryParseCidr(n, { allowBareIp: true });
        if (!c) throw new UnsupportedRule(`network ${n}`);
        return formatCidr(c);
      }),
    };
  }
  throw new UnsupportedRule('peer type not supported (nodes, domainNames)');
}

/** protocol ('' = any) → ports (null = every port of it), as Calico's `unpackCNPProtocols`. */
function protocolPorts(r: AdminPolicyRule): Map<string, Port[] | null> {
  const entries: { protocol: string | null; port: Port | null }[] = [];
  for (const p of r.protocols ?? []) {
    if (p.destinationNamedPort) for (const proto of ['TCP', 'UDP', 'SCTP']) entries.push({ protocol: proto, port: p.destinationNamedPort });
    for (const [field, proto] of [['tcp', 'TCP'], ['udp', 'UDP'], ['sctp', 'SCTP']] as const) {
      const m = p[field];
      if (m) entries.push({ protocol: proto, port: destinationPort(m.destinationPort) });
    }
  }
  for (const p of r.ports ?? []) {
    if (p.portNumber) entries.push({ protocol: p.portNumber.protocol ?? 'TCP', port: p.portNumber.port });
    else if (p.portRange) entries.push({ protocol: p.portRange.protocol ?? 'TCP', port: `${p.portRange.start}:${p.portRange.end}` });
    else if (p.namedPort) for (const proto of ['TCP', 'UDP', 'SCTP']) entries.push({ protocol: proto, port: p.namedPort });
  }
  const out = new Map<string, Port[] | null>();
  if (entries.length === 0) return new Map([['', null]]);
  for (const e of entries) {
    const protocol = e.protocol!;
    if (e.port === null) out.set(protocol, null);
    else if (!out.has(protocol)) out.set(protocol, [e.port]);
    else out.get(protocol)?.push(e.port);
  }
  return out;
}

function destinationPort(d: DestinationPort | undefined): Port | null {
  if (!d) return null;
  if (d.number !== undefined) return d.number;
  if (d.range) return d.range.start === d.range.end ? d.range.start : `${d.range.start}:${d.range.end}`;
  return null;
}
