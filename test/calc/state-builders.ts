/**
 * Builders for the calculation state tests: v3 resources (as stored, mostly undefaulted to check
 * the graph is defensive), IP-set IDs computed from selector strings, and a compact, readable
 * normal form of a CalcSnapshot that expectations are written against.
 */
import type { Resource, Rule } from '../../src/api/types.js';
import { makeUniqueId, parseSelector } from '../../src/selector/index.js';
import type { CalcSnapshot, FelixSettings, HostIpUpdate, IpPoolUpdate, ParsedRule, TierInfo } from '../../src/calc/types.js';

const V3 = 'projectcalico.org/v3';

export interface WepOpts {
  node?: string;
  ips?: string[];
  profiles?: string[];
  sa?: string;
  ports?: { name: string; protocol: string; port: number }[];
  iface?: string;
}

export function wep(ns: string, name: string, labels: Record<string, string>, o: WepOpts = {}): Resource {
  const spec: Record<string, unknown> = {
    orchestrator: 'k8s', node: o.node ?? 'node1', ipNetworks: o.ips ?? [], profiles: o.profiles ?? [`kns.${ns}`],
    interfaceName: o.iface ?? `cali-${name}`,
  };
  if (o.sa) spec['serviceAccountName'] = o.sa;
  if (o.ports) spec['ports'] = o.ports;
  return { apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name, namespace: ns, labels }, spec };
}

export function hep(name: string, labels: Record<string, string>, expectedIPs: string[], node = 'node1', profiles: string[] = []): Resource {
  return { apiVersion: V3, kind: 'HostEndpoint', metadata: { name, labels }, spec: { node, interfaceName: 'eth0', expectedIPs, profiles } };
}

export function np(ns: string, name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec };
}

export function gnp(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name }, spec };
}

export function snp(ns: string, name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'StagedNetworkPolicy', metadata: { name, namespace: ns }, spec };
}

export function sgnp(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'StagedGlobalNetworkPolicy', metadata: { name }, spec };
}

/** StagedKubernetesNetworkPolicy: a Kubernetes NetworkPolicy spec plus stagedAction. */
export function sknp(ns: string, name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'StagedKubernetesNetworkPolicy', metadata: { name, namespace: ns }, spec };
}

export function felixConfig(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'FelixConfiguration', metadata: { name }, spec };
}

export function node(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'Node', metadata: { name }, spec };
}

export function pool(name: string, spec: Record<string, unknown>): Resource {
  return { apiVersion: V3, kind: 'IPPool', metadata: { name }, spec };
}

export function tier(name: string, order?: number, defaultAction?: 'Deny' | 'Pass'): Resource {
  const spec: Record<string, unknown> = {};
  if (order !== undefined) spec['order'] = order;
  if (defaultAction) spec['defaultAction'] = defaultAction;
  return { apiVersion: V3, kind: 'Tier', metadata: { name }, spec };
}

export function profile(name: string, labelsToApply: Record<string, string> = {}, ingress: Rule[] = [{ action: 'Allow' }], egress: Rule[] = [{ action: 'Allow' }]): Resource {
  return { apiVersion: V3, kind: 'Profile', metadata: { name }, spec: { ingress, egress, labelsToApply } };
}

export function netset(ns: string, name: string, labels: Record<string, string>, nets: string[]): Resource {
  return { apiVersion: V3, kind: 'NetworkSet', metadata: { name, namespace: ns, labels }, spec: { nets } };
}

export function gnetset(name: string, labels: Record<string, string>, nets: string[]): Resource {
  return { apiVersion: V3, kind: 'GlobalNetworkSet', metadata: { name, labels }, spec: { nets } };
}

/** IP-set ID of a selector (any spelling that canonicalises the same). */
export function sel(s: string): string {
  return parseSelector(s).uniqueId;
}

/** IP-set ID of a named-port set. */
export function named(s: string, proto: string, port: string): string {
  return makeUniqueId('n', `${sel(s)},${proto},${port}`);
}

/** What a state is expected to produce (see `normalise`). */
export interface Expected {
  /** Active policy keys; `!` suffix = fail-closed. */
  policies: string[];
  /** Active profile names; `!` suffix = fail-closed. */
  profiles: string[];
  /** IP-set ID → members (type checked separately: `n:` IDs are ip-and-port, others net). */
  ipSets: Record<string, string[]>;
  /** Endpoint ID → compact tiers (see `tiersText`). */
  endpoints: Record<string, string>;
  /** Optional: exact rules of some policies/profiles (`profile:<name>` for profiles), text omitted. */
  rules?: Record<string, { inbound?: Partial<ParsedRule>[]; outbound?: Partial<ParsedRule>[] }>;
  /** Optional: exact effective labels of some endpoints. */
  labels?: Record<string, Record<string, string>>;
  /** Optional: some of the merged settings. */
  config?: Partial<FelixSettings>;
  /** Optional: exact host IPs and pools sent. */
  hostIps?: Record<string, HostIpUpdate>;
  pools?: Record<string, IpPoolUpdate>;
  /** Optional: the staged policy keys among `policies`. */
  staged?: string[];
}

/** `t1(Deny):i[a,b]e[c] default(Deny):i[x]e[]`. */
export function tiersText(tiers: TierInfo[] | undefined): string {
  return (tiers ?? []).map((t) => `${t.name}(${t.defaultAction}):i[${t.ingressPolicies.join(',')}]e[${t.egressPolicies.join(',')}]`).join(' ');
}

export function normalise(s: CalcSnapshot): Expected {
  const ipSets: Record<string, string[]> = {};
  for (const [id, set] of [...s.ipSets].sort(([a], [b]) => (a < b ? -1 : 1))) {
    ipSets[id] = [...set.members].sort();
    const want = id.startsWith('n:') ? 'ip-and-port' : 'net';
    if (set.type !== want) throw new Error(`IP set ${id} has type ${set.type}, want ${want}`);
  }
  const endpoints: Record<string, string> = {};
  for (const [id, e] of [...s.endpoints].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let text = tiersText(e.tiers);
    if (e.kind === 'host') text += ` | untracked: ${tiersText(e.untrackedTiers)} | preDNAT: ${tiersText(e.preDNATTiers)} | forward: ${tiersText(e.forwardTiers)}`;
    endpoints[id] = text;
  }
  return {
    policies: [...s.policies.values()].map((p) => p.key + (p.failClosed ? '!' : '')).sort(),
    profiles: [...s.profiles.values()].map((p) => p.name + (p.failClosed ? '!' : '')).sort(),
    ipSets,
    endpoints,
  };
}

/** A whole snapshot as plain, order-independent data (for equality of two snapshots). */
export function plain(s: CalcSnapshot): unknown {
  const sortMap = <V>(m: Map<string, V>, f: (v: V) => unknown) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, f(v)]));
  return {
    ipSets: sortMap(s.ipSets, (v) => ({ type: v.type, members: [...v.members].sort() })),
    policies: sortMap(s.policies, (v) => v),
    profiles: sortMap(s.profiles, (v) => v),
    endpoints: sortMap(s.endpoints, (v) => v),
    routes: sortMap(s.routes, (v) => v),
    vteps: sortMap(s.vteps, (v) => v),
    hostIps: sortMap(s.hostIps, (v) => v),
    pools: sortMap(s.pools, (v) => v),
    config: s.config,
    labels: sortMap(s.labels, (v) => v),
  };
}
