import { formatCidr, tryParseCidr } from '../net/cidr.js';
import {
  DEFAULT_TIER,
  K8S_POLICY_PREFIX,
  LABEL_NAME,
  LABEL_ORCHESTRATOR,
  NAMESPACE_LABEL_PREFIX,
  NAMESPACE_PROFILE_PREFIX,
  type EntityRule,
  type NetworkPolicy,
  type Port,
  type Profile,
  type Rule,
} from './types.js';
import { CALICO_API_VERSION } from './kinds.js';

/**
 * Kubernetes → Calico conversion, as Calico's `libcalico-go/lib/backend/k8s/conversion`
 * (`K8sNetworkPolicyToCalico`, `NamespaceToProfile`, `k8sSelectorToCalico`). Pure. It converts
 * what it is given; checking the Kubernetes object is `validateK8sObject`'s job.
 */

export interface K8sLabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface K8sLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: K8sLabelSelectorRequirement[];
}

export interface K8sNetworkPolicyPeer {
  podSelector?: K8sLabelSelector;
  namespaceSelector?: K8sLabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface K8sNetworkPolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

export interface K8sNetworkPolicy {
  apiVersion: string;
  kind: 'NetworkPolicy';
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string; creationTimestamp?: string };
  spec: {
    podSelector?: K8sLabelSelector;
    ingress?: { from?: K8sNetworkPolicyPeer[]; ports?: K8sNetworkPolicyPort[] }[];
    egress?: { to?: K8sNetworkPolicyPeer[]; ports?: K8sNetworkPolicyPort[] }[];
    policyTypes?: ('Ingress' | 'Egress')[];
  };
}

export interface K8sNamespace {
  apiVersion: string;
  kind: 'Namespace';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string; creationTimestamp?: string };
  spec?: unknown;
}

/** Order Calico gives every converted Kubernetes NetworkPolicy. */
export const K8S_POLICY_ORDER = 1000;

/**
 * A Kubernetes LabelSelector as a Calico selector. Pod selectors get
 * `projectcalico.org/orchestrator == 'k8s'` first; an empty (non-nil) namespace selector means
 * every namespace, `all()`; a nil namespace selector is the empty string.
 */
export function k8sLabelSelectorToCalico(sel: K8sLabelSelector | undefined | null, opts: { forPods: boolean }): string {
  const parts: string[] = [];
  if (opts.forPods) parts.push(`${LABEL_ORCHESTRATOR} == 'k8s'`);
  if (sel === undefined || sel === null) return parts.join(' && ');
  const labels = sel.matchLabels ?? {};
  const exprs = sel.matchExpressions ?? [];
  if (!opts.forPods && Object.keys(labels).length === 0 && exprs.length === 0) return 'all()';
  for (const k of Object.keys(labels).sort()) parts.push(`${k} == '${labels[k]}'`);
  for (const e of exprs) {
    const values = (e.values ?? []).join("', '");
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in { '${values}' }`);
        break;
      case 'NotIn':
        parts.push(`${e.key} not in { '${values}' }`);
        break;
      case 'Exists':
        parts.push(`has(${e.key})`);
        break;
      case 'DoesNotExist':
        parts.push(`! has(${e.key})`);
        break;
    }
  }
  return parts.join(' && ');
}

/**
 * The policy types of a Kubernetes NetworkPolicy as the Kubernetes API server defaults them
 * (`SetDefaults_NetworkPolicy`): the declared ones, or when none are declared Ingress always plus
 * Egress when the policy has egress rules. Egress alone is never implied.
 */
export function k8sPolicyTypes(spec: { policyTypes?: ('Ingress' | 'Egress')[]; egress?: unknown[] }): ('Ingress' | 'Egress')[] {
  if (spec.policyTypes && spec.policyTypes.length > 0) return [...spec.policyTypes];
  return Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Kubernetes NetworkPolicy → Calico NetworkPolicy `knp.default.<name>` in tier `default`, order 1000. */
export function convertK8sNetworkPolicy(np: K8sNetworkPolicy): NetworkPolicy {
  const ns = np.metadata.namespace ?? 'default';
  const spec = np.spec ?? {};
  const ingress = (spec.ingress ?? []).flatMap((r) => k8sRuleToCalico(r.from, r.ports, true));
  const egress = (spec.egress ?? []).flatMap((r) => k8sRuleToCalico(r.to, r.ports, false));
  const declared = new Set(k8sPolicyTypes(spec));
  const types: ('Ingress' | 'Egress')[] = [];
  if (declared.has('Ingress')) types.push('Ingress');
  if (declared.has('Egress')) types.push('Egress');
  const metadata: NetworkPolicy['metadata'] = { name: K8S_POLICY_PREFIX + np.metadata.name, namespace: ns };
  if (np.metadata.labels) metadata.labels = { ...np.metadata.labels };
  if (np.metadata.annotations) metadata.annotations = { ...np.metadata.annotations };
  if (np.metadata.creationTimestamp) metadata.creationTimestamp = np.metadata.creationTimestamp;
  const out: NetworkPolicy = {
    apiVersion: CALICO_API_VERSION,
    kind: 'NetworkPolicy',
    metadata,
    spec: { tier: DEFAULT_TIER, order: K8S_POLICY_ORDER, selector: k8sLabelSelectorToCalico(spec.podSelector ?? {}, { forPods: true }), types },
  };
  if (ingress.length > 0) out.spec.ingress = ingress;
  if (egress.length > 0) out.spec.egress = egress;
  return out;
}

function k8sRuleToCalico(peers: K8sNetworkPolicyPeer[] | undefined, ports: K8sNetworkPolicyPort[] | undefined, ingress: boolean): Rule[] {
  const peerList: (K8sNetworkPolicyPeer | null)[] = peers && peers.length > 0 ? peers : [null];
  // protocol ('' = any) → ports (null = all ports of that protocol)
  let byProtocol = new Map<string, Port[] | null>();
  for (const p of ports && ports.length > 0 ? ports : [null]) {
    if (p === null) {
      byProtocol = new Map([['', null]]);
      break;
    }
    const protocol = p.protocol ?? 'TCP';
    const portList = k8sPortToCalico(p);
    if (portList === null) byProtocol.set(protocol, null);
    else if (!byProtocol.has(protocol)) byProtocol.set(protocol, portList);
    else {
      const existing = byProtocol.get(protocol);
      if (existing) existing.push(...portList);
    }
  }
  const rules: Rule[] = [];
  for (const protocol of [...byProtocol.keys()].sort()) {
    const portsForRule = simplifyPorts(byProtocol.get(protocol) ?? null);
    for (const peer of peerList) {
      const entity = k8sPeerToEntityRule(peer);
      const rule: Rule = { action: 'Allow' };
      if (protocol !== '') rule.protocol = protocol;
      const dest: EntityRule = ingress ? {} : entity;
      if (portsForRule && portsForRule.length > 0) dest.ports = portsForRule;
      if (ingress && Object.keys(entity).length > 0) rule.source = entity;
      if (Object.keys(dest).length > 0) rule.destination = dest;
      rules.push(rule);
    }
  }
  return rules;
}

function k8sPortToCalico(p: K8sNetworkPolicyPort): Port[] | null {
  if (p.port === undefined || p.port === null) return null;
  if (typeof p.port === 'number') return [p.endPort !== undefined ? `${p.port}:${p.endPort}` : p.port];
  if (/^\d+$/.test(p.port)) return [p.endPort !== undefined ? `${p.port}:${p.endPort}` : Number(p.port)];
  return [p.port];
}

function k8sPeerToEntityRule(peer: K8sNetworkPolicyPeer | null): EntityRule {
  if (peer === null) return {};
  if (peer.ipBlock) {
    const e: EntityRule = { nets: [canonicalCIDR(peer.ipBlock.cidr)] };
    const except = peer.ipBlock.except ?? [];
    if (except.length > 0) e.notNets = except.map(canonicalCIDR);
    return e;
  }
  const e: EntityRule = { selector: k8sLabelSelectorToCalico(peer.podSelector, { forPods: true }) };
  const nsSel = k8sLabelSelectorToCalico(peer.namespaceSelector, { forPods: false });
  if (nsSel !== '') e.namespaceSelector = nsSel;
  return e;
}

function canonicalCIDR(s: string): string {
  const c = tryParseCidr(s, { allowBareIp: true });
  return c ? formatCidr(c) : s;
}

/** Parses a port list entry into a numeric range, or undefined for a named port. */
function numericRange(p: Port): [number, number] | undefined {
  if (typeof p === 'number') return [p, p];
  const m = /^(\d+)(?::(\d+))?$/.exec(p);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

/**
 * Calico's `SimplifyPorts`: the fewest ranges covering the numeric ports, named ports first in
 * their original order. `[80, 81, 82, 9090, "foo"]` → `["foo", "80:82", 9090]`.
 */
export function simplifyPorts(ports: Port[] | null): Port[] | null {
  if (ports === null || ports.length <= 1) return ports;
  const named: Port[] = [];
  const numeric: number[] = [];
  for (const p of ports) {
    const range = numericRange(p);
    if (!range) named.push(p);
    else for (let i = range[0]; i <= range[1] && i <= 65535; i++) numeric.push(i);
  }
  if (numeric.length <= 1) return ports;
  numeric.sort((a, b) => a - b);
  const out = [...named];
  let i = 0;
  while (i < numeric.length) {
    const first = numeric[i]!;
    let last = first;
    i++;
    while (i < numeric.length && numeric[i]! <= last + 1) last = numeric[i++]!;
    out.push(first === last ? first : `${first}:${last}`);
  }
  return out;
}

/** Kubernetes Namespace → Profile `kns.<name>`: allow-all both ways, namespace labels as `pcns.*`. */
export function convertNamespace(ns: K8sNamespace): Profile {
  const labelsToApply: Record<string, string> = {};
  // The Kubernetes API server labels every namespace with its name; Brindle receives namespaces
  // straight from manifests too, so it adds that label the same way (selectors rely on it).
  const labels = { [K8S_NAMESPACE_NAME_LABEL]: ns.metadata.name, ...(ns.metadata.labels ?? {}) };
  for (const [k, v] of Object.entries(labels)) labelsToApply[NAMESPACE_LABEL_PREFIX + k] = v;
  labelsToApply[NAMESPACE_LABEL_PREFIX + LABEL_NAME] = ns.metadata.name;
  const metadata: Profile['metadata'] = { name: NAMESPACE_PROFILE_PREFIX + ns.metadata.name };
  if (ns.metadata.creationTimestamp) metadata.creationTimestamp = ns.metadata.creationTimestamp;
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'Profile',
    metadata,
    spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply },
  };
}

/** The label the Kubernetes API server puts on every namespace (since 1.21). */
export const K8S_NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** True for a Kubernetes (not Calico) NetworkPolicy or Namespace document. */
export function isK8sDocument(doc: { apiVersion?: unknown; kind?: unknown }): boolean {
  return (doc.kind === 'NetworkPolicy' && doc.apiVersion === 'networking.k8s.io/v1') || (doc.kind === 'Namespace' && doc.apiVersion === 'v1');
}
