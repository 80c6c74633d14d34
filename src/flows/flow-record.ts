/**
 * What Brindle records about a flow, and the JSON shape `brindle flows -o json` prints. A record is
 * one 5-tuple, one verdict and one deciding policy, seen on one node in one aggregation interval:
 * packet and byte counts are summed over the interval, `start`/`end` are the first and last packet
 * (epoch milliseconds). An allowed record also counts the connections it stands for: one per
 * conntrack end, more when a 5-tuple was used again within the interval (source ports reused at
 * thousands of connections a second), so aggregating never hides a connection. Pure types and
 * helpers, no I/O.
 */

export type FlowVerdict = 'allowed' | 'denied';
export type FlowDirection = 'ingress' | 'egress';

/** One end of a flow: a workload or host endpoint, a network set, or an address outside them. */
export interface FlowPeer {
  ip: string;
  kind: 'workload' | 'host' | 'networkset' | 'external';
  namespace?: string;
  /** A workload's name (the pod), a host endpoint's or network set's name. */
  name?: string;
  /** A workload's WorkloadEndpoint name (`node1-k8s-frontend-eth0`), when it differs from `name`. */
  endpoint?: string;
  labels?: Record<string, string>;
}

/**
 * What decided: a policy rule (`ruleIndex` set), the end of a tier (`kind: 'end-of-tier'`), a
 * profile rule, or the default deny when nothing allowed the flow (`kind: 'no-policy'`).
 */
export interface PolicyRef {
  kind: 'policy' | 'end-of-tier' | 'profile' | 'no-policy';
  tier?: string;
  namespace?: string;
  name?: string;
  ruleIndex?: number;
}

/** What a staged policy, were it enforced, would have done with the flow. */
export interface StagedVerdict {
  tier: string;
  namespace?: string;
  name: string;
  action: 'allow' | 'deny' | 'pass' | 'no-match';
  ruleIndex?: number;
}

export interface FlowRecord {
  node: string;
  src: FlowPeer;
  dst: FlowPeer;
  protocol: string;
  srcPort?: number;
  dstPort?: number;
  direction: FlowDirection;
  verdict: FlowVerdict;
  policy: PolicyRef;
  staged?: StagedVerdict[];
  packets: number;
  bytes: number;
  /**
   * Connections summed into this record (allowed records: one per conntrack end; several when the
   * 5-tuple was reused within the interval). Absent on denied records (`packets` counts those) and
   * on allowed records stored before it existed (read as 1).
   */
  connections?: number;
  /** Epoch milliseconds of the first and last packet. */
  start: number;
  end: number;
}

/** The JSON object printed for a record (one per line): peers as `{namespace, name}` or `{ip}`. */
export interface FlowJson {
  src: { namespace?: string; name?: string; endpoint?: string; ip: string; kind: FlowPeer['kind']; labels?: Record<string, string> };
  dst: FlowJson['src'];
  protocol: string;
  srcPort?: number;
  dstPort?: number;
  direction: FlowDirection;
  verdict: FlowVerdict;
  policy: PolicyRef;
  staged?: StagedVerdict[];
  packets: number;
  bytes: number;
  connections?: number;
  start: string;
  end: string;
  node: string;
}

export function flowToJson(r: FlowRecord): FlowJson {
  return {
    src: peerJson(r.src),
    dst: peerJson(r.dst),
    protocol: r.protocol,
    ...(r.srcPort !== undefined ? { srcPort: r.srcPort } : {}),
    ...(r.dstPort !== undefined ? { dstPort: r.dstPort } : {}),
    direction: r.direction,
    verdict: r.verdict,
    policy: r.policy,
    ...(r.staged && r.staged.length > 0 ? { staged: r.staged } : {}),
    packets: r.packets,
    bytes: r.bytes,
    ...(r.connections !== undefined ? { connections: r.connections } : {}),
    start: new Date(r.start).toISOString(),
    end: new Date(r.end).toISOString(),
    node: r.node,
  };
}

function peerJson(p: FlowPeer): FlowJson['src'] {
  return {
    ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
    ...(p.name !== undefined ? { name: p.name } : {}),
    ...(p.endpoint !== undefined ? { endpoint: p.endpoint } : {}),
    ip: p.ip,
    kind: p.kind,
    ...(p.labels && Object.keys(p.labels).length > 0 ? { labels: p.labels } : {}),
  };
}

/** `ns/name` of a workload, the name of a host endpoint or network set, else the address. */
export function peerLabel(p: FlowPeer): string {
  if (p.kind === 'workload') return `${p.namespace ?? 'default'}/${p.name ?? p.ip}`;
  if (p.kind === 'networkset' && p.namespace) return `${p.namespace}/${p.name}`;
  return p.name ?? p.ip;
}

/** One line naming what decided: `default/ns/name rule 2`, `end of tier default`, `profile kns.x rule 0`, `no policy`. */
export function policyLabel(p: PolicyRef): string {
  switch (p.kind) {
    case 'policy':
      return `${p.tier}/${p.namespace ? `${p.namespace}/` : ''}${p.name}${p.ruleIndex !== undefined ? ` rule ${p.ruleIndex}` : ''}`;
    case 'end-of-tier':
      return `end of tier ${p.tier}`;
    case 'profile':
      return `profile ${p.name}${p.ruleIndex !== undefined ? ` rule ${p.ruleIndex}` : ''}`;
    case 'no-policy':
      return 'no policy (default deny)';
  }
}

/** The aggregation key: node, 5-tuple, direction, verdict and decider. */
export function flowKey(r: FlowRecord): string {
  const p = r.policy;
  return [r.node, r.src.ip, r.srcPort ?? '', r.dst.ip, r.dstPort ?? '', r.protocol, r.direction, r.verdict, p.kind, p.tier ?? '', p.namespace ?? '', p.name ?? '', p.ruleIndex ?? ''].join('|');
}
