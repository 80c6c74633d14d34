import { cidrContains, familyBits, formatIp, parseCidr, parseIp, type Cidr, type IpAddr } from '../net/cidr.js';
import type { CalcSnapshot, IpSetType, ParsedRule, PortRange } from './types.js';

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

const PROTOCOL_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, udplite: 136 };
const PROTOCOL_NAMES = new Map(Object.entries(PROTOCOL_NUMBERS).map(([n, v]) => [v, n]));

/** `TCP`, `tcp`, `6` → 6. Throws on anything else. */
export function protocolNumber(p: string | number): number {
  if (typeof p === 'number') return p;
  const named = PROTOCOL_NUMBERS[p.toLowerCase()];
  if (named !== undefined) return named;
  if (/^\d{1,3}$/.test(p) && Number(p) >= 0 && Number(p) <= 255) return Number(p);
  throw new Error(`unknown protocol "${p}": use TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or a number 0-255`);
}

/** 6 → `TCP`; unknown numbers stay numeric. */
export function protocolLabel(n: number): string {
  const name = PROTOCOL_NAMES.get(n);
  if (!name) return String(n);
  return name === 'icmpv6' ? 'ICMPv6' : name === 'udplite' ? 'UDPLite' : name.toUpperCase();
}

export function protocolHasPorts(n: number): boolean {
  return n === 6 || n === 17 || n === 132 || n === 136;
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
    const nets = (list: string[] | undefined, side: 'src' | 'dst', negate: boolean) => {
      if (!list || list.length === 0) return;
      const cidrs = list.map((n) => parseCidr(n, { allowBareIp: true }));
      const word = side === 'src' ? 'source' : 'destination';
      const inAny = (p: Packet) => cidrs.some((c) => cidrContains(c, p[side]));
      // Felix renders a rule per IP version with only that version's CIDRs, and drops the rule for
      // a version none of them has (`filterNets` in rules/policy.go): so notNets that are all IPv4
      // exclude every IPv6 packet instead of matching all of them.
      const hasFamily = { 4: cidrs.some((c) => c.family === 4), 6: cidrs.some((c) => c.family === 6) };
      if (negate) {
        add(
          (p) => hasFamily[p.family] && !inAny(p),
          (p) => (hasFamily[p.family] ? `${word} ${p[side].text} is in an excluded net (${list.join(', ')})` : `rule's ${side === 'src' ? 'source' : 'destination'} notNets have no IPv${p.family} CIDR, so the rule does not apply to IPv${p.family}`),
        );
      } else add(inAny, (p) => `${word} ${p[side].text} not in ${list.join(', ')}`);
    };
    nets(r.srcNets, 'src', false);
    nets(r.notSrcNets, 'src', true);
    nets(r.dstNets, 'dst', false);
    nets(r.notDstNets, 'dst', true);
    const sets = (ids: string[] | undefined) => (ids && ids.length ? ids.map((id) => lookup.get(id)) : undefined);
    const src = sets(r.srcIpSetIds);
    if (src) add((p) => src.every((x) => x.has(p.src)), () => "source does not match the rule's source selector");
    const notSrc = sets(r.notSrcIpSetIds);
    if (notSrc) add((p) => !notSrc.some((x) => x.has(p.src)), () => "source matches the rule's notSelector");
    const dst = sets(r.dstIpSetIds);
    if (dst) add((p) => dst.every((x) => x.has(p.dst)), () => "destination does not match the rule's destination selector");
    const notDst = sets(r.notDstIpSetIds);
    if (notDst) add((p) => !notDst.some((x) => x.has(p.dst)), () => "destination matches the rule's notSelector");
    const dstNamed = sets(r.dstNamedPortIpSetIds);
    if ((r.dstPorts && r.dstPorts.length) || dstNamed) {
      add((p) => portsMatch(r.dstPorts, dstNamed, p.dst, p.protocol, p.dstPort), (p) => (p.dstPort === undefined ? 'rule needs a destination port' : `destination port ${p.dstPort} not in the rule's ports`));
    }
    const notDstNamed = sets(r.notDstNamedPortIpSetIds);
    if ((r.notDstPorts && r.notDstPorts.length) || notDstNamed) {
      add((p) => !portsExcluded(r.notDstPorts, notDstNamed, p.dst, p.protocol, p.dstPort), (p) => `destination port ${p.dstPort} is excluded`);
    }
    const srcNamed = sets(r.srcNamedPortIpSetIds);
    if ((r.srcPorts && r.srcPorts.length) || srcNamed) {
      add((p) => portsMatch(r.srcPorts, srcNamed, p.src, p.protocol, p.srcPort), () => "source port not in the rule's source ports");
    }
    const notSrcNamed = sets(r.notSrcNamedPortIpSetIds);
    if ((r.notSrcPorts && r.notSrcPorts.length) || notSrcNamed) {
      add((p) => !portsExcluded(r.notSrcPorts, notSrcNamed, p.src, p.protocol, p.srcPort), () => 'source port is excluded');
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
  if (p.protocol !== 1 && p.protocol !== 58) return false;
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
