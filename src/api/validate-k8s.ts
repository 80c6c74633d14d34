import { cidrCovers } from '../net/cidr.js';
import type { K8sLabelSelector, K8sNetworkPolicy, K8sNetworkPolicyPeer, K8sNetworkPolicyPort } from './k8s-conversion.js';
import {
  checkCIDR, checkLabelName, checkLabels, checkQualifiedName, checkSubdomainName, isPortProtocolName, isValidPortName, PORT_PROTOCOL_LIST, push, type Issues,
} from './validate-fields.js';

/**
 * Checks a Kubernetes NetworkPolicy or Namespace the way the Kubernetes API server would, before
 * it is converted (so errors point at the object the user wrote). Shapes were already checked.
 */

export function validateK8sNetworkPolicy(np: K8sNetworkPolicy, issues: Issues): void {
  checkSubdomainName(np.metadata.name ?? '', 'metadata.name', issues);
  const spec = np.spec ?? {};
  checkLabelSelector(spec.podSelector, 'spec.podSelector', issues);
  const seen = new Set<string>();
  (spec.policyTypes ?? []).forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') push(issues, `spec.policyTypes[${i}]`, `policy type "${t}" is not Ingress or Egress`);
    else if (seen.has(t)) push(issues, `spec.policyTypes[${i}]`, `duplicate policy type "${t}"`);
    seen.add(t);
  });
  (spec.ingress ?? []).forEach((r, i) => {
    (r.from ?? []).forEach((p, j) => checkPeer(p, `spec.ingress[${i}].from[${j}]`, issues));
    (r.ports ?? []).forEach((p, j) => checkK8sPort(p, `spec.ingress[${i}].ports[${j}]`, issues));
  });
  (spec.egress ?? []).forEach((r, i) => {
    (r.to ?? []).forEach((p, j) => checkPeer(p, `spec.egress[${i}].to[${j}]`, issues));
    (r.ports ?? []).forEach((p, j) => checkK8sPort(p, `spec.egress[${i}].ports[${j}]`, issues));
  });
}

export function validateK8sNamespace(ns: { metadata: { name?: string } }, issues: Issues): void {
  checkLabelName(ns.metadata.name ?? '', 'metadata.name', issues, 'namespace name');
}

function checkLabelSelector(sel: K8sLabelSelector | undefined, path: string, issues: Issues): void {
  if (!sel) return;
  checkLabels(sel.matchLabels, `${path}.matchLabels`, issues);
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!e.key) push(issues, `${p}.key`, 'key is required');
    else checkQualifiedName(e.key, `${p}.key`, issues);
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) push(issues, `${p}.values`, `values must be non-empty for operator ${e.operator}`);
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) push(issues, `${p}.values`, `values must be empty for operator ${e.operator}`);
    } else {
      push(issues, `${p}.operator`, `operator "${String(e.operator)}" is not one of In, NotIn, Exists, DoesNotExist`);
    }
  });
}

function checkPeer(peer: K8sNetworkPolicyPeer, path: string, issues: Issues): void {
  if (peer.ipBlock) {
    if (peer.podSelector || peer.namespaceSelector) push(issues, `${path}.ipBlock`, 'ipBlock cannot be combined with podSelector or namespaceSelector');
    const cidr = checkCIDR(peer.ipBlock.cidr ?? '', `${path}.ipBlock.cidr`, issues);
    (peer.ipBlock.except ?? []).forEach((x, i) => {
      const ex = checkCIDR(x, `${path}.ipBlock.except[${i}]`, issues);
      if (cidr && ex && !cidrCovers(cidr, ex)) push(issues, `${path}.ipBlock.except[${i}]`, `"${x}" is not within the ipBlock cidr ${peer.ipBlock!.cidr}`);
    });
    return;
  }
  if (!peer.podSelector && !peer.namespaceSelector) push(issues, path, 'a peer needs a podSelector, namespaceSelector or ipBlock');
  checkLabelSelector(peer.podSelector, `${path}.podSelector`, issues);
  checkLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`, issues);
}

function checkK8sPort(p: K8sNetworkPolicyPort, path: string, issues: Issues): void {
  if (p.protocol !== undefined && !isPortProtocolName(p.protocol)) push(issues, `${path}.protocol`, `protocol "${p.protocol}" must be ${PORT_PROTOCOL_LIST}`);
  let numeric: number | undefined;
  if (typeof p.port === 'number') {
    if (p.port < 1 || p.port > 65535) push(issues, `${path}.port`, `port ${p.port} is out of range 1-65535`);
    numeric = p.port;
  } else if (typeof p.port === 'string') {
    if (/^\d+$/.test(p.port)) {
      numeric = Number(p.port);
      if (numeric < 1 || numeric > 65535) push(issues, `${path}.port`, `port ${p.port} is out of range 1-65535`);
    } else if (!isValidPortName(p.port)) {
      push(issues, `${path}.port`, `named port "${p.port}" must be 1-15 characters of [a-z0-9-], contain a letter and not start, end or repeat '-'`);
    }
  }
  if (p.endPort !== undefined) {
    if (numeric === undefined) push(issues, `${path}.endPort`, 'endPort requires a numeric port');
    else if (p.endPort < numeric) push(issues, `${path}.endPort`, `endPort ${p.endPort} is below port ${numeric}`);
    else if (p.endPort > 65535) push(issues, `${path}.endPort`, `endPort ${p.endPort} is out of range 1-65535`);
  }
}
