import { cidrContains, familyBits, formatIp, parseCidr, parseIp, type Cidr, type IpAddr } from '../net/cidr.js';
import { ICMP, ICMPV6, PROTOCOLS, protocolHasPorts as tableHasPorts, protocolLabel as tableLabel, protocolNumberOf } from '../net/protocols.js';
import type { CalcSnapshot, IpSetType, ParsedRule, PortRange, RuleSide, RuleSideName } from './types.js';

/**
 * Decides whether one packet matches one ParsedRule, the way the dataplane's rendered rule would.
 * Holds the IP sets of a CalcSnapshot in lookup-friendly form (host addresses in a hash set, wider
 * CIDRs in a list, named-port members as `addr,proto:port` keys) so a rule check costs a few hash
 * lookups. It does not walk tiers or policies (that is `explain.ts`) and does not know endpoints.
 */

/** A packet address, parsed once: the address and its canonical text (the key of IP set host lookups). */
export interface Addr extends IpAddr {
  text: string;
}

export function addrOf(ip: IpAddr): Addr {
  return { family: ip.family, value: ip.value, text: formatIp(ip) };
}

/** What a rule is matched against. `dstPort`/`srcPort` absent means the protocol has no ports (ICMP). */
export interface Packet {
  family: 4 | 6;
  protocol: number;
  src: Addr;
  dst: Addr;
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  icmpCode?: number;
}

/** `TCP`, `tcp`, `6` → 6 (names in any case, numbers 0-255, from the protocol table). Throws on anything else. */
export function protocolNumber(p: string | number): number {
  const n = protocolNumberOf(p, { anyCase: true, min: 0 });
  if (n !== undefined) return n;
  throw new Error(`unknown protocol "${p}": use ${PROTOCOLS.map((x) => x.name).join(', ')} or a number 0-255`);
}

/** 6 → `TCP`; unknown numbers stay numeric. */
export const protocolLabel = tableLabel;

/** Whether a packet of this protocol has ports a rule can match (the protocol table's `hasPorts`). */
export function protocolHasPorts(n: number): boolean {
  return tableHasPorts(n);
}

/** One IP set, indexed for membership tests. */
export class IpSetIndex {
  private readonly hosts = new Set<string>();
  private readonly nets: Cidr[] = [];
  private readonly ports = new Set<string>();

  constructor(readonly id: string, readonly type: IpSetType, members: Iterable<string>) {
    for (const m of members) {
      if (type === 'ip-and-port') {
        const m2 = /^(.+),([A-Za-z0-9]+):(\d+)$/.exec(m);
        if (!m2) continue;
        this.ports.add(portKey(formatIp(parseIp(m2[1]!)), protocolNumber(m2[2]!), Number(m2[3])));
        continue;
      }
      const c = parseCidr(m, { allowBareIp: true });
      if (c.prefix === familyBits(c.family)) this.hosts.add(formatIp({ family: c.family, value: c.base }));
      else this.nets.push(c);
    }
  }

  has(a: Addr): boolean {
    if (this.hosts.has(a.text)) return true;
    for (const c of this.nets) if (cidrContains(c, a)) return true;
    return false;
  }

  hasPort(a: Addr, protocol: number, port: number): boolean {
    return this.ports.has(portKey(a.text, protocol, port));
  }
}

function portKey(ip: string, protocol: number, port: number): string {
  return `${ip},${protocol}:${port}`;
}

/** Every IP set of a snapshot, indexed lazily on first use. Unknown set IDs match nothing. */
export class IpSetLookup {
  private readonly built = new Map<string, IpSetIndex>();
  constructor(private readonly snapshot: Pick<CalcSnapshot, 'ipSets'>) {}

  get(id: string): IpSetIndex {
    let s = this.built.get(id);
    if (!s) {
      const raw = this.snapshot.ipSets.get(id);
      s = new IpSetIndex(id, raw?.type ?? 'ip', raw?.members ?? []);
      this.built.set(id, s);
    }
    return s;
  }
}

/** One condition of a rule: a fast test, and the words for an explanation when it fails. */
interface Check {
  test(p: Packet): boolean;
  why(p: Packet): string;
}

/**
 * A rule bound to its IP sets, as the list of only the conditions it has. `matches` is the hot path
 * (no allocation); `mismatch` names the first condition that fails, or undefined on a match.
 */
export class CompiledRule {
  private readonly checks: Check[] = [];

  constructor(readonly rule: ParsedRule, lookup: IpSetLookup) {
    const r = rule;
    const add = (test: Check['test'], why: Check['why']) => this.checks.push({ test, why });
    if (r.ipVersion !== undefined) add((p) => p.family === r.ipVersion, () => `rule is IPv${r.ipVersion} only`);
    if (r.protocol !== undefined) {
      const n = protocolNumber(r.protocol);
      add((p) => p.protocol === n, () => `protocol is not ${protocolLabel(n)}`);
    }
    if (r.notProtocol !== undefined) {
      const n = protocolNumber(r.notProtocol);
      add((p) => p.protocol !== n, () => `protocol is ${protocolLabel(n)}`);
    }
    if (r.icmp) add((p) => icmpMatches(r.icmp!, p), () => 'ICMP type/code differs');
    if (r.notIcmp) add((p) => !icmpMatches(r.notIcmp!, p), () => 'ICMP type/code is excluded');
    for (const side of ['src', 'dst'] as const) this.addSide(side, r[side], lookup);
  }

  /** The conditions of one side: nets, selectors and ports, in the order the dataplane renders them. */
  private addSide(side: RuleSideName, s: RuleSide | undefined, lookup: IpSetLookup): void {
    if (!s) return;
    const add = (test: Check['test'], why: Check['why']) => this.checks.push({ test, why });
    const word = side === 'src' ? 'source' : 'destination';
    const nets = (list: string[] | undefined, negate: boolean) => {
      if (!list || list.length === 0) return;
      const cidrs = list.map((n) => parseCidr(n, { allowBareIp: true }));
      const inAny = (p: Packet) => cidrs.some((c) => cidrContains(c, p[side]));
      // Felix renders a rule per IP version with only that version's CIDRs, and drops the rule for
      // a version none of them has (`filterNets` in rules/policy.go): so notNets that are all IPv4
      // exclude every IPv6 packet instead of matching all of them.
      const hasFamily = { 4: cidrs.some((c) => c.family === 4), 6: cidrs.some((c) => c.family === 6) };
      if (negate) {
        add(
          (p) => hasFamily[p.family] && !inAny(p),
          (p) => (hasFamily[p.family] ? `${word} ${p[side].text} is in an excluded net (${list.join(', ')})` : `rule's ${word} notNets have no IPv${p.family} CIDR, so the rule does not apply to IPv${p.family}`),
        );
      } else add(inAny, (p) => `${word} ${p[side].text} not in ${list.join(', ')}`);
    };
    nets(s.nets, false);
    nets(s.notNets, true);
    const sets = (ids: string[] | undefined) => (ids && ids.length ? ids.map((id) => lookup.get(id)) : undefined);
    const pos = sets(s.ipSetIds);
    if (pos) add((p) => pos.every((x) => x.has(p[side])), () => `${word} does not match the rule's ${word} selector`);
    const neg = sets(s.notIpSetIds);
    if (neg) add((p) => !neg.some((x) => x.has(p[side])), () => `${word} matches the rule's notSelector`);
    const port = (p: Packet) => (side === 'src' ? p.srcPort : p.dstPort);
    const named = sets(s.namedPortIpSetIds);
    if ((s.ports && s.ports.length) || named) {
      add(
        (p) => portsMatch(s.ports, named, p[side], p.protocol, port(p)),
        (p) => (side === 'src' ? "source port not in the rule's source ports" : p.dstPort === undefined ? 'rule needs a destination port' : `destination port ${p.dstPort} not in the rule's ports`),
      );
    }
    const notNamed = sets(s.notNamedPortIpSetIds);
    if ((s.notPorts && s.notPorts.length) || notNamed) {
      add((p) => !portsExcluded(s.notPorts, notNamed, p[side], p.protocol, port(p)), (p) => (side === 'src' ? 'source port is excluded' : `destination port ${p.dstPort} is excluded`));
    }
  }

  matches(p: Packet): boolean {
    for (const c of this.checks) if (!c.test(p)) return false;
    return true;
  }

  mismatch(p: Packet): string | undefined {
    for (const c of this.checks) if (!c.test(p)) return c.why(p);
    return undefined;
  }
}

function icmpMatches(m: { type: number; code?: number }, p: Packet): boolean {
  if (p.protocol !== ICMP && p.protocol !== ICMPV6) return false;
  return p.icmpType === m.type && (m.code === undefined || p.icmpCode === m.code);
}

function inRanges(ranges: PortRange[], port: number): boolean {
  for (const r of ranges) if (port >= r.first && port <= r.last) return true;
  return false;
}

/** Numeric ports and named-port sets are ORed; with neither present any port matches. */
function portsMatch(ranges: PortRange[] | undefined, named: IpSetIndex[] | undefined, a: Addr, protocol: number, port: number | undefined): boolean {
  const hasRanges = !!ranges && ranges.length > 0;
  if (!hasRanges && !named) return true;
  if (port === undefined) return false;
  if (hasRanges && inRanges(ranges!, port)) return true;
  return !!named && named.some((s) => s.hasPort(a, protocol, port));
}

function portsExcluded(ranges: PortRange[] | undefined, named: IpSetIndex[] | undefined, a: Addr, protocol: number, port: number | undefined): boolean {
  if (port === undefined) return false;
  if (ranges && inRanges(ranges, port)) return true;
  return !!named && named.some((s) => s.hasPort(a, protocol, port));
}
