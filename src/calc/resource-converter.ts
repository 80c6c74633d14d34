/**
 * Turns stored v3 resources into the graph's internal model (Calico's update processors plus
 * Felix's validation step): implicit endpoint labels, composed policy selectors, defaulted
 * `types`. Tolerant of missing optional fields; it never throws on a malformed value, it returns
 * what it can. Does not decide what is active or local: that is the graph's job.
 */
import type {
  EncapMode, EndpointPort, GlobalNetworkPolicySpec, HostEndpointSpec, IPPoolSpec, NetworkSetSpec, NodeSpec, ProfileSpec, Resource, Rule,
  StagedNetworkPolicySpec, TierSpec, WorkloadEndpointSpec,
} from '../api/types.js';
import { convertK8sNetworkPolicy, type K8sNetworkPolicy } from '../api/k8s-conversion.js';
import { DEFAULT_TIER, LABEL_NAMESPACE, LABEL_ORCHESTRATOR, LABEL_SERVICE_ACCOUNT, NAMESPACE_PROFILE_PREFIX } from '../api/types.js';
import { builtinResource } from '../api/builtins.js';
import { formatCidr, formatIp, tryParseCidr, type Cidr } from '../net/cidr.js';
import { protocolByNumber, protocolNumberOf } from '../net/protocols.js';
import type { BackendRule, EndpointModel, NamedPort, NetworkSetModel, PolicyModel, ProfileModel, TierModel } from './model.js';
import { entityRuleSelector, globalPolicySelector, namespacedPolicySelector } from './selector-composition.js';
import type { HostIpUpdate, IpPoolUpdate, PolicyIdentity } from './types.js';

/** A built-in resource (tiers `default`/`kube-admin`/`kube-baseline`, profile `projectcalico-default-allow`) as a model. */
export function builtinTierModel(name: string): TierModel | undefined {
  const r = builtinResource('Tier', name);
  return r ? toTierModel(r) : undefined;
}

export function builtinProfileModel(name: string): ProfileModel | undefined {
  const r = builtinResource('Profile', name);
  return r ? toProfileModel(r) : undefined;
}

export function policyKey(tier: string, name: string, namespace?: string): string {
  return `${tier}/${namespace ?? '_'}/${name}`;
}

function labelsOf(res: Resource): Map<string, string> {
  const out = new Map<string, string>();
  const labels = res.metadata?.labels;
  if (labels && typeof labels === 'object') for (const [k, v] of Object.entries(labels)) out.set(k, String(v));
  return out;
}

function rulesOf(rules: Rule[] | undefined, namespace: string | undefined): BackendRule[] {
  if (!Array.isArray(rules)) return [];
  return rules.map((rule, index) => ({
    rule,
    index,
    // A malformed rule is kept (the rule parser rejects it, so its policy fails closed).
    srcSelector: entityRuleSelector(rule?.source, namespace),
    dstSelector: entityRuleSelector(rule?.destination, namespace),
    notSrcSelector: rule?.source?.notSelector ?? '',
    notDstSelector: rule?.destination?.notSelector ?? '',
  }));
}

/** Policy types as stored, or Calico's defaulting when absent/empty. */
function governs(spec: GlobalNetworkPolicySpec): { ingress: boolean; egress: boolean } {
  let types = spec.types;
  if (!Array.isArray(types) || types.length === 0) {
    const hasIngress = Array.isArray(spec.ingress) && spec.ingress.length > 0;
    const hasEgress = Array.isArray(spec.egress) && spec.egress.length > 0;
    types = !hasEgress ? ['Ingress'] : hasIngress ? ['Ingress', 'Egress'] : ['Egress'];
  }
  return {
    ingress: types.some((t) => String(t).toLowerCase() === 'ingress'),
    egress: types.some((t) => String(t).toLowerCase() === 'egress'),
  };
}

/** Staged policies' keys carry this before the name, so a staged and an enforced policy never collide (Felix's `staged:`). */
export const STAGED_NAME_PREFIX = 'staged:';

/**
 * NetworkPolicy, GlobalNetworkPolicy or a staged kind → PolicyModel. A staged policy is modelled
 * like the policy it stages (StagedKubernetesNetworkPolicy through the Kubernetes conversion) and
 * marked `staged`; only `stagedAction: Set` is modelled (null for Delete/Learn/Ignore, which stage
 * no rules of their own).
 */
export function toPolicyModel(res: Resource): PolicyModel | null {
  if (res.kind.startsWith('Staged')) return toStagedPolicyModel(res);
  return enforcedPolicyModel(res, res.kind as PolicyIdentity['kind'], res.metadata.name);
}

function toStagedPolicyModel(res: Resource): PolicyModel | null {
  const action = (res.spec as StagedNetworkPolicySpec | undefined)?.stagedAction ?? 'Set';
  if (action !== 'Set') return null;
  let base: Resource = res;
  if (res.kind === 'StagedKubernetesNetworkPolicy') {
    const { stagedAction: _a, ...spec } = (res.spec ?? {}) as Record<string, unknown>;
    base = convertK8sNetworkPolicy({ ...res, spec } as unknown as K8sNetworkPolicy);
  }
  const namespaced = res.kind !== 'StagedGlobalNetworkPolicy';
  const model = enforcedPolicyModel({ ...base, kind: namespaced ? 'NetworkPolicy' : 'GlobalNetworkPolicy' }, res.kind as PolicyIdentity['kind'], base.metadata.name);
  model.key = policyKey(model.identity.tier, STAGED_NAME_PREFIX + base.metadata.name, model.identity.namespace);
  model.staged = true;
  return model;
}

function enforcedPolicyModel(res: Resource, kind: PolicyIdentity['kind'], name: string): PolicyModel {
  const spec = (res.spec ?? {}) as GlobalNetworkPolicySpec;
  const namespaced = res.kind === 'NetworkPolicy';
  const namespace = namespaced ? res.metadata.namespace ?? 'default' : undefined;
  const tier = spec.tier || DEFAULT_TIER;
  const identity: PolicyIdentity = { kind, tier, name };
  if (namespace !== undefined) identity.namespace = namespace;
  const selector = namespaced
    ? namespacedPolicySelector(spec.selector, namespace!, spec.serviceAccountSelector)
    : globalPolicySelector(spec.selector, spec.namespaceSelector, spec.serviceAccountSelector);
  const g = governs(spec);
  const model: PolicyModel = {
    key: policyKey(tier, name, namespace),
    identity,
    selector,
    governsIngress: g.ingress,
    governsEgress: g.egress,
    inbound: rulesOf(spec.ingress, namespace),
    outbound: rulesOf(spec.egress, namespace),
    doNotTrack: !namespaced && !!spec.doNotTrack,
    preDNAT: !namespaced && !!spec.preDNAT,
    applyOnForward: !namespaced && !!spec.applyOnForward,
    assumeNeededOnEveryNode: Array.isArray(spec.performanceHints) && spec.performanceHints.includes('AssumeNeededOnEveryNode'),
  };
  if (typeof spec.order === 'number') model.order = spec.order;
  return model;
}

export function toProfileModel(res: Resource): ProfileModel {
  const spec = (res.spec ?? {}) as ProfileSpec;
  const labelsToApply = new Map<string, string>();
  if (spec.labelsToApply && typeof spec.labelsToApply === 'object') {
    for (const [k, v] of Object.entries(spec.labelsToApply)) labelsToApply.set(k, String(v));
  }
  return { name: res.metadata.name, inbound: rulesOf(spec.ingress, undefined), outbound: rulesOf(spec.egress, undefined), labelsToApply };
}

export function toTierModel(res: Resource): TierModel {
  const spec = (res.spec ?? {}) as TierSpec;
  const t: TierModel = { name: res.metadata.name, defaultAction: spec.defaultAction === 'Pass' ? 'Pass' : 'Deny' };
  if (typeof spec.order === 'number') t.order = spec.order;
  return t;
}

/** `10.0.0.1` → `10.0.0.1/32`; CIDRs are masked; unparsable entries are dropped. */
export function toCidr(s: string): { cidr: string; family: 4 | 6 } | undefined {
  const c = tryParseCidr(String(s), { allowBareIp: true });
  if (!c) return undefined;
  return { cidr: formatCidr(c), family: c.family };
}

function namedPortsOf(ports: EndpointPort[] | undefined): NamedPort[] {
  if (!Array.isArray(ports)) return [];
  const out: NamedPort[] = [];
  for (const p of ports) {
    if (!p || !p.name || typeof p.port !== 'number') continue;
    // `TCP`, `tcp` or 6 → `tcp` (the protocol table's lower-case form); an unknown value stays as written, lower-cased.
    const raw = p.protocol ?? 'TCP';
    const known = protocolByNumber(protocolNumberOf(raw as string | number, { anyCase: true }) ?? -1);
    out.push({ name: p.name, protocol: known?.key ?? String(raw).toLowerCase(), port: p.port });
  }
  return out;
}

function splitNets(nets: string[] | undefined, e: { ipv4Nets: string[]; ipv6Nets: string[] }): void {
  for (const n of Array.isArray(nets) ? nets : []) {
    const c = toCidr(n);
    if (!c) continue;
    (c.family === 4 ? e.ipv4Nets : e.ipv6Nets).push(c.cidr);
  }
}

export function toWorkloadEndpointModel(res: Resource): EndpointModel {
  const spec = (res.spec ?? {}) as WorkloadEndpointSpec;
  const namespace = res.metadata.namespace ?? 'default';
  const labels = labelsOf(res);
  labels.set(LABEL_NAMESPACE, namespace);
  labels.set(LABEL_ORCHESTRATOR, spec.orchestrator ?? '');
  if (spec.serviceAccountName) labels.set(LABEL_SERVICE_ACCOUNT, spec.serviceAccountName);
  const e: EndpointModel = {
    id: `wep:${namespace}/${res.metadata.name}`,
    kind: 'workload',
    name: res.metadata.name,
    namespace,
    node: spec.node ?? '',
    ipv4Nets: [],
    ipv6Nets: [],
    profileIds: Array.isArray(spec.profiles) ? [...spec.profiles] : [],
    labels,
    ports: namedPortsOf(spec.ports),
  };
  if (spec.interfaceName) e.interfaceName = spec.interfaceName;
  if (spec.mac) e.mac = spec.mac;
  splitNets(spec.ipNetworks, e);
  return e;
}

export function toHostEndpointModel(res: Resource): EndpointModel {
  const spec = (res.spec ?? {}) as HostEndpointSpec;
  const e: EndpointModel = {
    id: `hep:${res.metadata.name}`,
    kind: 'host',
    name: res.metadata.name,
    node: spec.node ?? '',
    ipv4Nets: [],
    ipv6Nets: [],
    profileIds: Array.isArray(spec.profiles) ? [...spec.profiles] : [],
    labels: labelsOf(res),
    ports: namedPortsOf(spec.ports),
  };
  if (spec.interfaceName) e.interfaceName = spec.interfaceName;
  splitNets(spec.expectedIPs, e);
  return e;
}

/** NetworkSet (namespaced: namespace label + `kns.<ns>` parent) or GlobalNetworkSet. */
export function toNetworkSetModel(res: Resource): NetworkSetModel {
  const spec = (res.spec ?? {}) as NetworkSetSpec;
  const labels = labelsOf(res);
  const nets: string[] = [];
  for (const n of Array.isArray(spec.nets) ? spec.nets : []) {
    const c = toCidr(n);
    if (c) nets.push(c.cidr);
  }
  if (res.kind === 'NetworkSet') {
    const ns = res.metadata.namespace ?? 'default';
    labels.set(LABEL_NAMESPACE, ns);
    return { id: `netset:${ns}/${res.metadata.name}`, labels, parentIds: [NAMESPACE_PROFILE_PREFIX + ns], nets };
  }
  return { id: `gnetset:${res.metadata.name}`, labels, parentIds: [], nets };
}

/** A node's underlay addresses: BGP addresses first (with the subnet CrossSubnet needs), else the first IPv4 of `addresses`. */
export function nodeAddresses(spec: NodeSpec | undefined): { ipv4?: string; ipv4Subnet?: Cidr; ipv6?: string } {
  const out: { ipv4?: string; ipv4Subnet?: Cidr; ipv6?: string } = {};
  const bgp4 = spec?.bgp?.ipv4Address ? tryParseCidr(spec.bgp.ipv4Address, { allowBareIp: true }) : undefined;
  if (bgp4 && bgp4.family === 4) {
    out.ipv4 = formatIp({ family: 4, value: bgp4.address });
    out.ipv4Subnet = bgp4;
  } else {
    const addrs = Array.isArray(spec?.addresses) ? spec.addresses : [];
    const addr = addrs.map((a) => tryParseCidr(String(a?.address), { allowBareIp: true })).find((c) => c?.family === 4);
    if (addr) out.ipv4 = formatIp({ family: 4, value: addr.address });
  }
  const bgp6 = spec?.bgp?.ipv6Address ? tryParseCidr(spec.bgp.ipv6Address, { allowBareIp: true }) : undefined;
  if (bgp6 && bgp6.family === 6) out.ipv6 = formatIp({ family: 6, value: bgp6.address });
  return out;
}

/** Node → host IPs, or null when it has none. */
export function toHostIp(res: Resource): HostIpUpdate | null {
  const a = nodeAddresses(res.spec as NodeSpec | undefined);
  if (a.ipv4 === undefined && a.ipv6 === undefined) return null;
  const h: HostIpUpdate = { node: res.metadata.name };
  if (a.ipv4 !== undefined) h.ipv4 = a.ipv4;
  if (a.ipv6 !== undefined) h.ipv6 = a.ipv6;
  return h;
}

const ENCAP_MODES: readonly EncapMode[] = ['Never', 'Always', 'CrossSubnet'];

/** IPPool → what the dataplane needs; null when its CIDR cannot be read. */
export function toIpPool(res: Resource): IpPoolUpdate | null {
  const spec = (res.spec ?? {}) as IPPoolSpec;
  const c = typeof spec.cidr === 'string' ? tryParseCidr(spec.cidr) : undefined;
  if (!c) return null;
  const mode = (m: unknown): EncapMode => ENCAP_MODES.find((x) => x === m) ?? 'Never';
  return {
    name: res.metadata.name, cidr: formatCidr(c), family: c.family,
    natOutgoing: spec.natOutgoing === true, vxlanMode: mode(spec.vxlanMode), ipipMode: mode(spec.ipipMode), disabled: spec.disabled === true,
  };
}
