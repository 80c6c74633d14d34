import type { AdminPolicyPeer, AdminPolicyPort, AdminPolicyProtocol, AdminPolicyRule, DestinationPort, K8sAdminPolicy } from './k8s-admin-policy.js';
import { checkCIDR, checkSubdomainName, isValidPortName, push, type Issues } from './validate-fields.js';
import { checkLabelSelector } from './validate-k8s.js';

/**
 * Checks a ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy as the
 * upstream CRD's schema and CEL rules do, before it is converted (errors name the fields the user
 * wrote). Peer types Brindle cannot enforce (nodes, domainNames) are valid here; the conversion
 * fails them closed. Shapes were already checked. Pure.
 */
export function validateAdminPolicy(p: K8sAdminPolicy, issues: Issues): void {
  const name = p.metadata.name ?? '';
  checkSubdomainName(name, 'metadata.name', issues);
  const spec = p.spec ?? {};
  if (p.kind === 'BaselineAdminNetworkPolicy') {
    if (name !== '' && name !== 'default') push(issues, 'metadata.name', `a BaselineAdminNetworkPolicy must be named "default", got "${name}"`);
  } else {
    if (spec.priority === undefined) push(issues, 'spec.priority', 'priority is required');
    else if (spec.priority < 0 || spec.priority > 1000) push(issues, 'spec.priority', `priority ${spec.priority} is out of range 0-1000`);
  }
  if (p.kind === 'ClusterNetworkPolicy' && spec.tier !== 'Admin' && spec.tier !== 'Baseline') {
    push(issues, 'spec.tier', spec.tier === undefined ? 'tier is required (Admin or Baseline)' : `tier "${spec.tier}" is not Admin or Baseline`);
  }
  const subject = spec.subject;
  const subjectFields = subject ? Object.keys(subject).filter((k) => (subject as Record<string, unknown>)[k] != null) : [];
  if (subjectFields.length !== 1) push(issues, 'spec.subject', 'exactly one of namespaces or pods must be set');
  if (subject?.namespaces) checkLabelSelector(subject.namespaces, 'spec.subject.namespaces', issues);
  if (subject?.pods) {
    checkLabelSelector(subject.pods.namespaceSelector, 'spec.subject.pods.namespaceSelector', issues);
    checkLabelSelector(subject.pods.podSelector, 'spec.subject.pods.podSelector', issues);
  }
  const actions = p.kind === 'ClusterNetworkPolicy' ? ['Accept', 'Deny', 'Pass'] : p.kind === 'AdminNetworkPolicy' ? ['Allow', 'Deny', 'Pass'] : ['Allow', 'Deny'];
  for (const dir of ['ingress', 'egress'] as const) {
    const rules = spec[dir] ?? [];
    if (rules.length > 100) push(issues, `spec.${dir}`, `at most 100 rules, got ${rules.length}`);
    rules.forEach((r, i) => checkRule(r, `spec.${dir}[${i}]`, dir === 'ingress' ? 'from' : 'to', actions, issues));
  }
}

function checkRule(r: AdminPolicyRule, path: string, peersField: 'from' | 'to', actions: string[], issues: Issues): void {
  if (r.name !== undefined && r.name.length > 100) push(issues, `${path}.name`, 'rule name is longer than 100 characters');
  if (!actions.includes(r.action)) push(issues, `${path}.action`, `action "${r.action ?? ''}" is not one of ${actions.join(', ')}`);
  const peers = r[peersField] ?? [];
  if (peers.length === 0) push(issues, `${path}.${peersField}`, `${peersField} must list at least one peer`);
  peers.forEach((peer, j) => checkPeer(peer, `${path}.${peersField}[${j}]`, peersField === 'to', issues));
  if (r.ports && r.protocols) push(issues, path, 'ports and protocols cannot both be set');
  (r.ports ?? []).forEach((p, j) => checkPort(p, `${path}.ports[${j}]`, issues));
  (r.protocols ?? []).forEach((p, j) => checkProtocol(p, `${path}.protocols[${j}]`, issues));
}

function checkPeer(peer: AdminPolicyPeer, path: string, egress: boolean, issues: Issues): void {
  const set = Object.keys(peer).filter((k) => (peer as Record<string, unknown>)[k] != null);
  if (set.length !== 1) push(issues, path, `exactly one peer field must be set, got ${set.length === 0 ? 'none' : set.join(', ')}`);
  if (!egress && (peer.networks || peer.nodes || peer.domainNames)) push(issues, path, 'ingress peers can only be namespaces or pods');
  if (peer.namespaces) checkLabelSelector(peer.namespaces, `${path}.namespaces`, issues);
  if (peer.pods) {
    checkLabelSelector(peer.pods.namespaceSelector, `${path}.pods.namespaceSelector`, issues);
    checkLabelSelector(peer.pods.podSelector, `${path}.pods.podSelector`, issues);
  }
  if (peer.nodes) checkLabelSelector(peer.nodes, `${path}.nodes`, issues);
  (peer.networks ?? []).forEach((n, k) => checkCIDR(n, `${path}.networks[${k}]`, issues));
}

function checkPortNumber(n: number, path: string, issues: Issues): void {
  if (n < 1 || n > 65535) push(issues, path, `port ${n} is out of range 1-65535`);
}

function checkRange(start: number, end: number, path: string, issues: Issues): void {
  checkPortNumber(start, `${path}.start`, issues);
  checkPortNumber(end, `${path}.end`, issues);
  if (end < start) push(issues, `${path}.end`, `end ${end} is below start ${start}`);
}

function checkL4Protocol(p: string | undefined, path: string, issues: Issues): void {
  if (p !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p)) push(issues, path, `protocol "${p}" must be TCP, UDP or SCTP`);
}

function checkPort(p: AdminPolicyPort, path: string, issues: Issues): void {
  const set = Object.keys(p).filter((k) => (p as Record<string, unknown>)[k] != null);
  if (set.length !== 1) push(issues, path, 'exactly one of portNumber, namedPort or portRange must be set');
  if (p.portNumber) {
    checkL4Protocol(p.portNumber.protocol, `${path}.portNumber.protocol`, issues);
    checkPortNumber(p.portNumber.port, `${path}.portNumber.port`, issues);
  }
  if (p.portRange) {
    checkL4Protocol(p.portRange.protocol, `${path}.portRange.protocol`, issues);
    checkRange(p.portRange.start, p.portRange.end, `${path}.portRange`, issues);
  }
  if (p.namedPort !== undefined && !isValidPortName(p.namedPort)) push(issues, `${path}.namedPort`, `named port "${p.namedPort}" is not a valid port name`);
}

function checkProtocol(p: AdminPolicyProtocol, path: string, issues: Issues): void {
  const set = Object.keys(p).filter((k) => (p as Record<string, unknown>)[k] != null);
  if (set.length !== 1) push(issues, path, 'exactly one of tcp, udp, sctp or destinationNamedPort must be set');
  for (const f of ['tcp', 'udp', 'sctp'] as const) {
    const d: DestinationPort | undefined = p[f]?.destinationPort;
    if (!d) continue;
    const dp = `${path}.${f}.destinationPort`;
    if ((d.number !== undefined) === (d.range !== undefined)) push(issues, dp, 'exactly one of number or range must be set');
    if (d.number !== undefined) checkPortNumber(d.number, `${dp}.number`, issues);
    if (d.range) checkRange(d.range.start, d.range.end, `${dp}.range`, issues);
  }
  if (p.destinationNamedPort !== undefined && !isValidPortName(p.destinationNamedPort)) {
    push(issues, `${path}.destinationNamedPort`, `named port "${p.destinationNamedPort}" is not a valid port name`);
  }
}
