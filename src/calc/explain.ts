import { parseIp } from '../net/cidr.js';
import { ICMP, ICMPV6 } from '../net/protocols.js';
import { addrOf, CompiledRule, IpSetLookup, protocolHasPorts, protocolLabel, protocolNumber, type Addr, type Packet } from './rule-matcher.js';
import type { ActivePolicy, ActiveProfile, CalcSnapshot, EndpointState, ParsedRule, RuleAction, TierInfo } from './types.js';

/**
 * Answers "would this flow be allowed, and why?" from a CalcSnapshot, with the semantics Felix
 * enforces (calico-study §2.5): egress of the source endpoint, then ingress of the destination
 * endpoint; in each, tiers in order → policies in order → rules in order (allow/deny stop, pass
 * skips to the next tier, log continues), end of tier denies unless the tier's default action is
 * Pass (or every policy there is staged), then profiles when no tier decided. A bare IP peer is not
 * evaluated (only the endpoint side is); nor is traffic from a host to its own workloads, which
 * Felix does not police. Staged policies are never enforced; fail-closed policies and profiles deny
 * everything.
 *
 * One walker serves both the matrix (no trace, fast) and `explain` (with a trace), so the two cannot
 * disagree. It does not read the datastore or compute the snapshot.
 */

export type Verdict = 'allow' | 'deny';
export type Direction = 'ingress' | 'egress';

export interface RuleHit {
  index: number;
  text: string;
  action: RuleAction;
}

export interface PolicyStep {
  key: string;
  kind: string;
  name: string;
  namespace?: string;
  order?: number;
  /** `staged`: skipped, never enforced; `fail-closed`: missing/invalid policy, denies everything. */
  outcome: 'allow' | 'deny' | 'pass' | 'no-match' | 'staged' | 'fail-closed';
  rule?: RuleHit;
  /** Log rules that matched on the way (evaluation continued after each). */
  logged: RuleHit[];
  /** Why each rule did not match, by index (only rules before the deciding one). */
  misses: { index: number; text: string; reason: string }[];
}

export interface TierStep {
  name: string;
  defaultAction: 'Deny' | 'Pass';
  policies: PolicyStep[];
  outcome: 'allow' | 'deny' | 'pass' | 'end-of-tier-deny' | 'end-of-tier-pass';
}

export interface ProfileStep {
  name: string;
  outcome: 'allow' | 'deny' | 'no-match' | 'fail-closed';
  rule?: RuleHit;
  logged: RuleHit[];
}

export interface DirectionTrace {
  direction: Direction;
  evaluated: true;
  endpoint: string;
  node: string;
  ip: string;
  verdict: Verdict;
  tiers: TierStep[];
  profiles: ProfileStep[];
  /** One line: what decided the verdict. */
  decision: string;
  /**
   * Policy that also applies to this host endpoint but is not part of this evaluation (untracked
   * and pre-DNAT tiers run in other netfilter stages, before the normal tiers), named so that a
   * verdict is never silently incomplete.
   */
  notEvaluated?: string[];
}

export interface NotEvaluated {
  direction: Direction;
  evaluated: false;
  reason: string;
}

export interface FlowExplanation {
  verdict: Verdict;
  flow: { from: string; to: string; protocol: string; port?: number; family: 4 | 6; srcIp: string; dstIp: string };
  egress: DirectionTrace | NotEvaluated;
  ingress: DirectionTrace | NotEvaluated;
}

/**
 * A flow end: an endpoint of the snapshot (optionally one of its addresses, else its first of the
 * family), or a bare address outside any endpoint.
 */
export type FlowPeer = { endpoint: EndpointState; ip?: string } | { ip: string };

export interface FlowSpec {
  protocol: string | number;
  port?: number;
  srcPort?: number;
  /** For ICMP flows; defaults to echo request (8, or 128 for ICMPv6). */
  icmpType?: number;
  icmpCode?: number;
}

/** What one direction of one endpoint runs: its tiers and profiles with rules bound to IP sets. */
export interface DirectionProgram {
  tiers: { info: TierInfo; policies: ProgramPolicy[]; passAtEnd: boolean }[];
  profiles: ProgramProfile[];
}
interface ProgramPolicy {
  policy: ActivePolicy;
  staged: boolean;
  rules: CompiledRule[];
}
interface ProgramProfile {
  name: string;
  failClosed: boolean;
  rules: CompiledRule[];
}

/** Display name of an endpoint: `namespace/name` for workloads, the name for host endpoints. */
export function endpointLabel(ep: EndpointState): string {
  return ep.kind === 'workload' ? `${ep.namespace ?? 'default'}/${ep.name}` : ep.name;
}

/** First address of the family, without its prefix length; undefined when the endpoint has none. */
export function endpointAddr(ep: EndpointState, family: 4 | 6): Addr | undefined {
  const nets = family === 4 ? ep.ipv4Nets : ep.ipv6Nets;
  const first = nets[0];
  return first === undefined ? undefined : addrOf(parseIp(first.split('/')[0]!));
}

export class FlowEvaluator {
  private readonly lookup: IpSetLookup;
  private readonly compiled = new Map<string, CompiledRule[]>();
  private readonly programs = new Map<string, DirectionProgram>();

  constructor(readonly snapshot: CalcSnapshot) {
    this.lookup = new IpSetLookup(snapshot);
  }

  /** Finds an endpoint by `namespace/name` (workload) or name (host endpoint, or a unique workload name). */
  findEndpoint(ref: string): EndpointState | undefined {
    const byId = this.snapshot.endpoints.get(ref.startsWith('wep:') || ref.startsWith('hep:') ? ref : ref.includes('/') ? `wep:${ref}` : `hep:${ref}`);
    if (byId) return byId;
    const matches = [...this.snapshot.endpoints.values()].filter((e) => e.name === ref);
    return matches.length === 1 ? matches[0] : undefined;
  }

  /**
   * The endpoints that own an address (a /32 or /128 of a workload's ipNetworks or a host
   * endpoint's expectedIPs). A flow to such an address is a flow to that endpoint: its policy
   * applies, so callers must not treat the address as outside the cluster.
   */
  endpointsByIp(ip: string): EndpointState[] {
    const a = addrOf(parseIp(ip));
    const out: EndpointState[] = [];
    for (const ep of this.snapshot.endpoints.values()) {
      for (const net of a.family === 4 ? ep.ipv4Nets : ep.ipv6Nets) {
        const [addr, len] = net.split('/');
        if ((len === undefined || Number(len) === (a.family === 4 ? 32 : 128)) && addrOf(parseIp(addr!)).text === a.text) {
          out.push(ep);
          break;
        }
      }
    }
    return out;
  }

  /** The compiled program of one endpoint and direction (cached). */
  program(ep: EndpointState, direction: Direction): DirectionProgram {
    const cacheKey = `${direction}|${ep.id}`;
    let prog = this.programs.get(cacheKey);
    if (prog) return prog;
    const tiers = ep.tiers.map((info) => {
      const keys = direction === 'ingress' ? info.ingressPolicies : info.egressPolicies;
      const policies = keys.map((key) => this.programPolicy(key, direction));
      const allStaged = policies.length > 0 && policies.every((p) => p.staged);
      return { info, policies, passAtEnd: info.defaultAction === 'Pass' || allStaged };
    }).filter((t) => t.policies.length > 0);
    const profiles = ep.profileIds.map((name) => this.programProfile(name, direction));
    prog = { tiers, profiles };
    this.programs.set(cacheKey, prog);
    return prog;
  }

  private programPolicy(key: string, direction: Direction): ProgramPolicy {
    const policy: ActivePolicy = this.snapshot.policies.get(key) ?? missingPolicy(key);
    const staged = policy.staged === true || policy.identity.kind.startsWith('Staged');
    const rules = policy.failClosed || staged ? [] : this.compile(`p|${direction}|${key}`, direction === 'ingress' ? policy.inbound : policy.outbound);
    return { policy, staged, rules };
  }

  private programProfile(name: string, direction: Direction): ProgramProfile {
    const profile: ActiveProfile | undefined = this.snapshot.profiles.get(name);
    if (!profile || profile.failClosed) return { name, failClosed: true, rules: [] };
    return { name, failClosed: false, rules: this.compile(`r|${direction}|${name}`, direction === 'ingress' ? profile.inbound : profile.outbound) };
  }

  private compile(cacheKey: string, rules: ParsedRule[]): CompiledRule[] {
    let c = this.compiled.get(cacheKey);
    if (!c) {
      c = rules.map((r) => new CompiledRule(r, this.lookup));
      this.compiled.set(cacheKey, c);
    }
    return c;
  }

  /** Builds the packet of a flow between two addresses. */
  packet(src: Addr, dst: Addr, flow: FlowSpec): Packet {
    if (src.family !== dst.family) throw new Error(`cannot mix IPv${src.family} source ${src.text} with IPv${dst.family} destination ${dst.text}`);
    const protocol = protocolNumber(flow.protocol);
    const p: Packet = { family: src.family, protocol, src, dst };
    if (protocolHasPorts(protocol)) {
      if (flow.port !== undefined) p.dstPort = flow.port;
      if (flow.srcPort !== undefined) p.srcPort = flow.srcPort;
    } else if (protocol === ICMP || protocol === ICMPV6) {
      p.icmpType = flow.icmpType ?? (protocol === ICMP ? 8 : 128);
      if (flow.icmpCode !== undefined) p.icmpCode = flow.icmpCode;
    }
    return p;
  }

  /** Verdict of one direction, no trace (the matrix's hot path). */
  allows(prog: DirectionProgram, pkt: Packet): boolean {
    return walk(prog, pkt, undefined) === 'allow';
  }

  /** Full explanation of a flow between two peers; the family follows an IP peer, else `family` (default 4). */
  explain(from: FlowPeer, to: FlowPeer, flow: FlowSpec, family: 4 | 6 = familyOf(from, to)): FlowExplanation {
    const src = peerAddr(from, family);
    const dst = peerAddr(to, family);
    const pkt = this.packet(src, dst, flow);
    let egress: DirectionTrace | NotEvaluated;
    let ingress: DirectionTrace | NotEvaluated;
    if ('endpoint' in from && 'endpoint' in to && from.endpoint.kind === 'host' && to.endpoint.kind === 'workload' && from.endpoint.node === to.endpoint.node) {
      // Felix's filter OUTPUT chain returns packets bound for a local workload interface before
      // any host endpoint or workload policy (`filterOutputChain` in felix/rules/static.go).
      const why = `traffic from host ${from.endpoint.node} to its own workload ${endpointLabel(to.endpoint)} is not policed (Felix lets the host reach its local workloads)`;
      egress = notEvaluated('egress', why);
      ingress = notEvaluated('ingress', why);
    } else {
      egress = 'endpoint' in from ? this.trace(from.endpoint, 'egress', pkt, src) : notEvaluated('egress', `the source ${src.text} is not a Brindle endpoint`);
      ingress = 'endpoint' in to ? this.trace(to.endpoint, 'ingress', pkt, dst) : notEvaluated('ingress', `the destination ${dst.text} is not a Brindle endpoint`);
    }
    const verdict = [egress, ingress].every((d) => !d.evaluated || d.verdict === 'allow') ? 'allow' : 'deny';
    return {
      verdict,
      flow: {
        from: 'endpoint' in from ? endpointLabel(from.endpoint) : src.text,
        to: 'endpoint' in to ? endpointLabel(to.endpoint) : dst.text,
        protocol: protocolLabel(pkt.protocol),
        ...(pkt.dstPort !== undefined ? { port: pkt.dstPort } : {}),
        family,
        srcIp: src.text,
        dstIp: dst.text,
      },
      egress,
      ingress,
    };
  }

  private trace(ep: EndpointState, direction: Direction, pkt: Packet, addr: Addr): DirectionTrace {
    const t: Tracer = { tiers: [], profiles: [], decision: '' };
    const verdict = walk(this.program(ep, direction), pkt, t);
    const out: DirectionTrace = { direction, evaluated: true, endpoint: endpointLabel(ep), node: ep.node, ip: addr.text, verdict, tiers: t.tiers, profiles: t.profiles, decision: t.decision };
    const skipped = [
      ...stagePolicies(ep.untrackedTiers, direction, 'untracked (doNotTrack)'),
      ...(direction === 'ingress' ? stagePolicies(ep.preDNATTiers, direction, 'pre-DNAT') : []),
    ];
    if (skipped.length > 0) out.notEvaluated = skipped;
    return out;
  }
}

interface Tracer {
  tiers: TierStep[];
  profiles: ProfileStep[];
  decision: string;
}

function hit(r: CompiledRule): RuleHit {
  return { index: r.rule.index, text: r.rule.text, action: r.rule.action };
}

function policyLabel(p: ActivePolicy): string {
  const id = p.identity;
  return id.namespace ? `${id.namespace}/${id.name}` : id.name;
}

/** The one evaluation walk. With a tracer it records every step; without, it only decides. */
function walk(prog: DirectionProgram, pkt: Packet, t: Tracer | undefined): Verdict {
  for (const tier of prog.tiers) {
    const tstep: TierStep | undefined = t && { name: tier.info.name, defaultAction: tier.info.defaultAction, policies: [], outcome: 'end-of-tier-deny' };
    if (t) t.tiers.push(tstep!);
    let tierResult: 'allow' | 'deny' | 'pass' | undefined;
    for (const pp of tier.policies) {
      const p = pp.policy;
      const pstep: PolicyStep | undefined = t && { key: p.key, kind: p.identity.kind, name: p.identity.name, ...(p.identity.namespace ? { namespace: p.identity.namespace } : {}), ...(p.order !== undefined ? { order: p.order } : {}), outcome: 'no-match', logged: [], misses: [] };
      if (t) tstep!.policies.push(pstep!);
      if (pp.staged) {
        if (pstep) pstep.outcome = 'staged';
        continue;
      }
      if (p.failClosed) {
        if (pstep) pstep.outcome = 'fail-closed';
        if (t) t.decision = `policy ${policyLabel(p)} in tier ${tier.info.name} is missing or invalid: fail closed (deny)`;
        tierResult = 'deny';
        break;
      }
      for (const r of pp.rules) {
        if (t) {
          const why = r.mismatch(pkt);
          if (why !== undefined) {
            pstep!.misses.push({ index: r.rule.index, text: r.rule.text, reason: why });
            continue;
          }
        } else if (!r.matches(pkt)) continue;
        const action = r.rule.action;
        if (action === 'log') {
          if (pstep) pstep.logged.push(hit(r));
          continue;
        }
        if (pstep) {
          pstep.outcome = action;
          pstep.rule = hit(r);
        }
        tierResult = action;
        break;
      }
      if (tierResult) {
        if (t && !t.decision) t.decision = `rule ${hit0(pstep)} of policy ${policyLabel(p)} (tier ${tier.info.name}): ${tierResult}`;
        break;
      }
    }
    if (tierResult === 'allow' || tierResult === 'deny') {
      if (tstep) tstep.outcome = tierResult;
      return tierResult;
    }
    if (tierResult === 'pass') {
      if (tstep) tstep.outcome = 'pass';
      if (t) t.decision = '';
      continue;
    }
    if (tier.passAtEnd) {
      if (tstep) tstep.outcome = 'end-of-tier-pass';
      continue;
    }
    if (t) t.decision = `no policy in tier ${tier.info.name} allowed or passed the flow: end of tier (deny)`;
    return 'deny';
  }
  for (const prof of prog.profiles) {
    const step: ProfileStep | undefined = t && { name: prof.name, outcome: 'no-match', logged: [] };
    if (t) t.profiles.push(step!);
    if (prof.failClosed) {
      if (step) step.outcome = 'fail-closed';
      if (t) t.decision = `profile ${prof.name} is missing: fail closed (deny)`;
      return 'deny';
    }
    for (const r of prof.rules) {
      if (!r.matches(pkt)) continue;
      const action = r.rule.action;
      if (action === 'log') {
        if (step) step.logged.push(hit(r));
        continue;
      }
      if (action === 'pass') break;
      if (step) {
        step.outcome = action;
        step.rule = hit(r);
      }
      if (t) t.decision = `rule ${r.rule.index} of profile ${prof.name}: ${action}`;
      return action;
    }
  }
  if (t) {
    const none = prog.tiers.length === 0 ? 'no policy applies' : 'every tier passed';
    t.decision = prog.profiles.length === 0 ? `${none} and the endpoint has no profile: deny` : `${none} and no profile allowed the flow: deny`;
  }
  return 'deny';
}

/** `<what> policy <key>` for each policy of the tiers that governs the direction. */
function stagePolicies(tiers: TierInfo[] | undefined, direction: Direction, what: string): string[] {
  return (tiers ?? []).flatMap((t) => (direction === 'ingress' ? t.ingressPolicies : t.egressPolicies).map((k) => `${what} policy ${k}`));
}

function hit0(p: PolicyStep | undefined): string {
  return p?.rule ? String(p.rule.index) : '?';
}

function missingPolicy(key: string): ActivePolicy {
  const [tier = '', ns, name = key] = key.split('/');
  return { key, identity: { kind: 'NetworkPolicy', tier, name, ...(ns && ns !== '_' ? { namespace: ns } : {}) }, inbound: [], outbound: [], failClosed: true };
}

function notEvaluated(direction: Direction, reason: string): NotEvaluated {
  return { direction, evaluated: false, reason };
}

function familyOf(from: FlowPeer, to: FlowPeer): 4 | 6 {
  for (const p of [from, to]) if (p.ip !== undefined) return parseIp(p.ip).family;
  return 4;
}

function peerAddr(p: FlowPeer, family: 4 | 6): Addr {
  if (!('endpoint' in p)) return addrOf(parseIp(p.ip));
  if (p.ip !== undefined) return addrOf(parseIp(p.ip));
  const a = endpointAddr(p.endpoint, family);
  if (!a) throw new Error(`endpoint ${endpointLabel(p.endpoint)} has no IPv${family} address`);
  return a;
}
