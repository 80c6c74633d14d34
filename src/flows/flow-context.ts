import type { Resource } from '../api/types.js';
import { FlowEvaluator, type DirectionTrace, type FlowExplanation } from '../calc/explain.js';
import { addrOf, CompiledRule, IpSetLookup, type Packet } from '../calc/rule-matcher.js';
import { computeSnapshot } from '../calc/snapshot.js';
import type { CalcSnapshot, EndpointState, ParsedRule } from '../calc/types.js';
import { cidrContains, parseCidr, tryParseIp, type Cidr } from '../net/cidr.js';
import type { FlowDirection, FlowPeer, PolicyRef, StagedVerdict } from './flow-record.js';
import { RuleIdIndex } from './rule-id.js';
import { enforceStaged } from './staged-policies.js';
import type { FiveTuple } from './ulogd-event.js';

/**
 * What the flow recorder needs to know about the cluster at one revision: who owns an address
 * (workload or host endpoint, else the narrowest network set, else external), what policy decides a
 * flow that the kernel did not label (the same evaluator as `policy explain`), and what each staged
 * policy would have done. Built from resources; rebuilt when they change. Pure.
 */
export class FlowContext {
  readonly evaluator: FlowEvaluator;
  readonly ruleIds: RuleIdIndex;
  private readonly byIp = new Map<string, EndpointState>();
  private readonly netSets: { cidr: Cidr; prefix: number; peer: Omit<FlowPeer, 'ip'> }[] = [];
  /** `namespace/endpoint name` → the workload (pod) it belongs to. */
  private readonly workloadOf = new Map<string, string>();
  private readonly lookup: IpSetLookup;
  private readonly stagedRules = new Map<string, CompiledRule[]>();
  private srcPortRules: boolean | undefined;

  /**
   * `stagedSnapshot`: the calculation with staged policies enforced (see enforceStaged), and the
   * keys of those policies; without it no staged verdicts are computed.
   */
  constructor(readonly snapshot: CalcSnapshot, resources: readonly Resource[] = [], private readonly staged?: { snapshot: CalcSnapshot; keys: Set<string> }) {
    this.evaluator = new FlowEvaluator(snapshot);
    this.ruleIds = new RuleIdIndex(snapshot);
    this.lookup = new IpSetLookup(staged?.snapshot ?? snapshot);
    for (const ep of snapshot.endpoints.values()) {
      for (const net of [...ep.ipv4Nets, ...ep.ipv6Nets]) {
        const ip = tryParseIp(net.split('/')[0]!);
        if (ip) this.byIp.set(addrOf(ip).text, ep);
      }
    }
    for (const r of resources) {
      if (r.kind === 'WorkloadEndpoint') {
        const spec = (r.spec ?? {}) as { pod?: string; workload?: string };
        const workload = spec.pod || spec.workload;
        if (workload) this.workloadOf.set(`${r.metadata.namespace ?? 'default'}/${r.metadata.name}`, workload);
      }
      if (r.kind !== 'NetworkSet' && r.kind !== 'GlobalNetworkSet') continue;
      const spec = (r.spec ?? {}) as { nets?: string[] };
      for (const n of spec.nets ?? []) {
        let cidr: Cidr;
        try {
          cidr = parseCidr(n, { allowBareIp: true });
        } catch {
          continue;
        }
        this.netSets.push({ cidr, prefix: cidr.prefix, peer: { kind: 'networkset', name: r.metadata.name, ...(r.metadata.namespace ? { namespace: r.metadata.namespace } : {}), ...(r.metadata.labels ? { labels: r.metadata.labels } : {}) } });
      }
    }
    this.netSets.sort((a, b) => b.prefix - a.prefix);
  }

  static fromResources(resources: readonly Resource[]): FlowContext {
    const snapshot = computeSnapshot([...resources], { hostname: '*' });
    const st = enforceStaged(resources);
    const staged = st.stagedKeys.size > 0 ? { snapshot: computeSnapshot(st.resources, { hostname: '*' }), keys: st.stagedKeys } : undefined;
    return new FlowContext(snapshot, resources, staged);
  }

  /**
   * True when some rule matches on source ports: only then can two connections that differ only
   * in their source port be decided differently (see FlowRecorder's decision cache).
   */
  get matchesSourcePorts(): boolean {
    if (this.srcPortRules === undefined) {
      const sides = (rs: readonly ParsedRule[]) => rs.some((r) => !!(r.src && (r.src.ports?.length || r.src.notPorts?.length || r.src.namedPortIpSetIds?.length || r.src.notNamedPortIpSetIds?.length)));
      const all = [this.snapshot, ...(this.staged ? [this.staged.snapshot] : [])];
      this.srcPortRules = all.some((sn) => [...sn.policies.values(), ...sn.profiles.values()].some((p) => sides(p.inbound) || sides(p.outbound)));
    }
    return this.srcPortRules;
  }

  endpointAt(ip: string): EndpointState | undefined {
    const a = tryParseIp(ip);
    return a ? this.byIp.get(addrOf(a).text) : undefined;
  }

  peer(ip: string): FlowPeer {
    const ep = this.endpointAt(ip);
    if (ep) {
      const labels = this.snapshot.labels.get(ep.id) ?? {};
      if (ep.kind !== 'workload') return { ip, kind: 'host', name: ep.name, labels };
      const namespace = ep.namespace ?? 'default';
      const workload = this.workloadOf.get(`${namespace}/${ep.name}`);
      return workload && workload !== ep.name
        ? { ip, kind: 'workload', namespace, name: workload, endpoint: ep.name, labels }
        : { ip, kind: 'workload', namespace, name: ep.name, labels };
    }
    const a = tryParseIp(ip);
    if (a) for (const s of this.netSets) if (s.cidr.family === a.family && cidrContains(s.cidr, a)) return { ip, ...s.peer };
    return { ip, kind: 'external' };
  }

  /** The explanation of a flow by its tuple (undefined when it mixes families or cannot be evaluated). */
  explain(t: FiveTuple): FlowExplanation | undefined {
    const src = this.endpointAt(t.srcIp);
    const dst = this.endpointAt(t.dstIp);
    try {
      return this.evaluator.explain(src ? { endpoint: src, ip: t.srcIp } : { ip: t.srcIp }, dst ? { endpoint: dst, ip: t.dstIp } : { ip: t.dstIp }, {
        protocol: t.protocol,
        ...(t.dstPort !== undefined ? { port: t.dstPort } : {}),
        ...(t.srcPort !== undefined ? { srcPort: t.srcPort } : {}),
      });
    } catch {
      return undefined;
    }
  }

  /** What staged policies of the endpoint in that direction would have done with the packet. */
  stagedVerdicts(t: FiveTuple, direction: FlowDirection): StagedVerdict[] {
    const st = this.staged;
    const local = this.endpointAt(direction === 'ingress' ? t.dstIp : t.srcIp);
    const ep = st && local && st.snapshot.endpoints.get(local.id);
    if (!st || !ep) return [];
    const src = tryParseIp(t.srcIp);
    const dst = tryParseIp(t.dstIp);
    if (!src || !dst || src.family !== dst.family) return [];
    const pkt: Packet = this.evaluator.packet(addrOf(src), addrOf(dst), { protocol: t.protocol, ...(t.dstPort !== undefined ? { port: t.dstPort } : {}), ...(t.srcPort !== undefined ? { srcPort: t.srcPort } : {}) });
    const out: StagedVerdict[] = [];
    for (const tier of ep.tiers) {
      for (const key of direction === 'ingress' ? tier.ingressPolicies : tier.egressPolicies) {
        const p = st.snapshot.policies.get(key);
        if (!p || !st.keys.has(key)) continue;
        const cacheKey = `${direction}|${key}`;
        let rules = this.stagedRules.get(cacheKey);
        if (!rules) {
          rules = (direction === 'ingress' ? p.inbound : p.outbound).map((r) => new CompiledRule(r, this.lookup));
          this.stagedRules.set(cacheKey, rules);
        }
        const hit = rules.find((r) => r.rule.action !== 'log' && r.matches(pkt));
        out.push({
          tier: p.identity.tier,
          ...(p.identity.namespace ? { namespace: p.identity.namespace } : {}),
          name: p.identity.name,
          action: hit ? (hit.rule.action as StagedVerdict['action']) : 'no-match',
          ...(hit ? { ruleIndex: hit.rule.index } : {}),
        });
      }
    }
    return out;
  }
}

/** The policy that decided one direction of an explanation, in a flow record's terms. */
export function decidingPolicy(d: DirectionTrace): PolicyRef {
  for (const t of d.tiers) {
    if (t.outcome === 'end-of-tier-deny') {
      const failed = t.policies.find((p) => p.outcome === 'fail-closed');
      if (failed) return { kind: 'policy', tier: t.name, ...(failed.namespace ? { namespace: failed.namespace } : {}), name: failed.name };
      return { kind: 'end-of-tier', tier: t.name };
    }
    if (t.outcome === 'allow' || t.outcome === 'deny') {
      const p = t.policies.find((x) => x.outcome === t.outcome || x.outcome === 'fail-closed');
      if (p) return { kind: 'policy', tier: t.name, ...(p.namespace ? { namespace: p.namespace } : {}), name: p.name, ...(p.rule ? { ruleIndex: p.rule.index } : {}) };
    }
  }
  const prof = d.profiles.find((p) => p.outcome !== 'no-match');
  if (prof) return { kind: 'profile', name: prof.name, ...(prof.rule ? { ruleIndex: prof.rule.index } : {}) };
  return { kind: 'no-policy' };
}
