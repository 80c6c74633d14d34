import type { Resource } from '../api/types.js';
import type { FlowPeer, FlowRecord } from './flow-record.js';

/**
 * `brindle policy suggest`: a least-privilege policy set for one namespace, from observed flows.
 * For each workload of the namespace that received (or sent) traffic, one StagedNetworkPolicy
 * admitting exactly the observed peers on the observed protocols and ports, and nothing else once
 * enforced (a policy that selects a workload makes its tier end in deny). Peers are named by their
 * `app` label when they have one (else all their own labels), other namespaces through a
 * namespaceSelector, addresses outside the cluster as /32 (/128) nets. Written staged, so
 * `policy preview --staged` shows what enforcing it would change before anyone does. Pure.
 */

export interface SuggestOptions {
  namespace: string;
  tier?: string;
  /** Also learn from denied flows (they become allowed): off by default, only allowed traffic is kept. */
  includeDenied?: boolean;
}

const SYSTEM_LABEL = /^(projectcalico\.org\/|pcns\.|pcsa\.)/;

function ownLabels(p: FlowPeer): Record<string, string> {
  return Object.fromEntries(Object.entries(p.labels ?? {}).filter(([k]) => !SYSTEM_LABEL.test(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A selector for a workload: its `app` label, else all its own labels, else its name is unselectable (`all()`). */
export function workloadSelector(p: FlowPeer): string {
  const l = ownLabels(p);
  if (l['app'] !== undefined) return `app == ${JSON.stringify(l['app'])}`;
  const parts = Object.entries(l).map(([k, v]) => `${k} == ${JSON.stringify(v)}`);
  return parts.length > 0 ? parts.join(' && ') : 'all()';
}

interface PortSet {
  protocol: string;
  ports: Set<number>;
}

type PeerRule = { peer: Record<string, unknown>; protos: Map<string, PortSet> };

function peerKey(ns: string, p: FlowPeer): { key: string; side: Record<string, unknown> } | undefined {
  if (p.kind === 'workload') {
    const selector = workloadSelector(p);
    if (p.namespace === ns) return { key: `w|${selector}`, side: { selector } };
    return { key: `w|${p.namespace}|${selector}`, side: { selector, namespaceSelector: `kubernetes.io/metadata.name == ${JSON.stringify(p.namespace)}` } };
  }
  return { key: `n|${p.ip}`, side: { nets: [`${p.ip}/${p.ip.includes(':') ? 128 : 32}`] } };
}

function addFlow(rules: Map<string, PeerRule>, side: { key: string; side: Record<string, unknown> }, f: FlowRecord): void {
  let r = rules.get(side.key);
  if (!r) rules.set(side.key, (r = { peer: side.side, protos: new Map() }));
  let ps = r.protos.get(f.protocol);
  if (!ps) r.protos.set(f.protocol, (ps = { protocol: f.protocol, ports: new Set() }));
  if (f.dstPort !== undefined) ps.ports.add(f.dstPort);
}

function renderRules(rules: Map<string, PeerRule>, peerField: 'source' | 'destination'): unknown[] {
  const out: unknown[] = [];
  for (const key of [...rules.keys()].sort()) {
    const r = rules.get(key)!;
    for (const ps of [...r.protos.values()].sort((a, b) => (a.protocol < b.protocol ? -1 : 1))) {
      const ports = [...ps.ports].sort((a, b) => a - b);
      const dst = ports.length > 0 ? { ports } : {};
      out.push({
        action: 'Allow',
        protocol: ps.protocol,
        ...(peerField === 'source' ? { source: r.peer, ...(ports.length > 0 ? { destination: dst } : {}) } : { destination: { ...r.peer, ...dst } }),
      });
    }
  }
  return out;
}

export function suggestPolicies(flows: readonly FlowRecord[], o: SuggestOptions): Resource[] {
  const ns = o.namespace;
  const ingress = new Map<string, { target: FlowPeer; rules: Map<string, PeerRule> }>();
  const egress = new Map<string, { target: FlowPeer; rules: Map<string, PeerRule> }>();
  for (const f of flows) {
    if (f.verdict === 'denied' && !o.includeDenied) continue;
    if (f.dst.kind === 'workload' && f.dst.namespace === ns) {
      const sel = workloadSelector(f.dst);
      const t = ingress.get(sel) ?? { target: f.dst, rules: new Map() };
      ingress.set(sel, t);
      const side = peerKey(ns, f.src);
      if (side) addFlow(t.rules, side, f);
    }
    if (f.src.kind === 'workload' && f.src.namespace === ns) {
      const sel = workloadSelector(f.src);
      const t = egress.get(sel) ?? { target: f.src, rules: new Map() };
      egress.set(sel, t);
      const side = peerKey(ns, f.dst);
      if (side) addFlow(t.rules, side, f);
    }
  }
  const name = (t: FlowPeer, dir: string): string => `suggested-${(ownLabels(t)['app'] ?? t.name ?? 'workload').toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${dir}`;
  const out: Resource[] = [];
  for (const [dir, map, field] of [['ingress', ingress, 'source'], ['egress', egress, 'destination']] as const) {
    for (const sel of [...map.keys()].sort()) {
      const t = map.get(sel)!;
      out.push({
        apiVersion: 'projectcalico.org/v3',
        kind: 'StagedNetworkPolicy',
        metadata: { name: name(t.target, dir), namespace: ns, annotations: { 'brindle.io/suggested-from': `${flows.length} observed flows` } },
        spec: {
          stagedAction: 'Set',
          tier: o.tier ?? 'default',
          order: 1000,
          selector: sel,
          types: [dir === 'ingress' ? 'Ingress' : 'Egress'],
          [dir]: renderRules(t.rules, field),
        },
      });
    }
  }
  return out;
}
