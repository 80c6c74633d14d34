/**
 * Renders one calculation rule (`ParsedRule`, selectors already replaced by IP-set IDs) as nft
 * match expressions, for the `inet` table. Pure.
 *
 * nft 1.0.6 makes per-rule anonymous sets (`th dport { 80, 443 }`) cost O(n²) to load, so ORs are
 * spread over several rules instead: one rule per combination of source/destination alternative
 * (each net, each port range, each named-port set). ANDed conditions (negations, selector sets)
 * stay in one rule. Address matches need a family (`ip saddr` / `ip6 saddr`), so a rule that has
 * any is rendered once per family it can match; a rule with none is rendered once for both.
 */
import type { ParsedRule, PortRange, RuleSide } from '../../calc/types.js';
import { formatIp, tryParseCidr } from '../../net/cidr.js';
import type { Family } from './names.js';

/** Resolves a calc IP-set ID to the nft set that holds its members of one family. */
export interface SetNameResolver {
  setName(id: string, family: Family): string;
  namedPortSetName(id: string, family: Family): string;
}

/** Rendering stops multiplying a rule's alternatives beyond this (a rule that large is a mistake). */
export const MAX_ALTERNATIVES = 1024;

const L4PROTO: Record<string, string> = { icmpv6: 'ipv6-icmp' };
/** Expressions that only match one family (nft adds the family dependency itself). */
const FAMILY_SPECIFIC = /^(ip6? [sd]addr|icmp |icmpv6 )/;

function hasAddressMatch(s: RuleSide | undefined): boolean {
  return !!s && !!(s.nets?.length || s.notNets?.length || s.ipSetIds?.length || s.notIpSetIds?.length || s.namedPortIpSetIds?.length || s.notNamedPortIpSetIds?.length);
}

/** The families a rule is rendered for; `null` = one family-neutral rule. */
export function ruleFamilies(rule: ParsedRule): (Family | null)[] {
  let fams: Family[] = rule.ipVersion ? [rule.ipVersion] : [4, 6];
  if (rule.protocol === 'icmp') fams = fams.filter((f) => f === 4);
  if (rule.protocol === 'icmpv6') fams = fams.filter((f) => f === 6);
  const needsFamily = rule.ipVersion !== undefined || hasAddressMatch(rule.src) || hasAddressMatch(rule.dst) || rule.icmp || rule.notIcmp || rule.protocol === 'icmp' || rule.protocol === 'icmpv6';
  if (!needsFamily) return [null];
  return fams;
}

/** Host CIDRs render as a bare address (`10.0.0.1`), others canonically masked (`10.0.0.0/8`). */
export function nftAddr(cidr: string): { family: Family; text: string } | undefined {
  const c = tryParseCidr(cidr, { allowBareIp: true });
  if (!c) return undefined;
  const addr = formatIp({ family: c.family, value: c.base });
  return { family: c.family, text: c.prefix === (c.family === 4 ? 32 : 128) ? addr : `${addr}/${c.prefix}` };
}

function portText(p: PortRange): string {
  return p.first === p.last ? String(p.first) : `${p.first}-${p.last}`;
}

function protoText(p: string): string {
  return L4PROTO[p] ?? p;
}

/**
 * Match texts for one family (or family-neutral): every alternative is one nft rule's matches.
 * Returns [] when the rule cannot match in this family (e.g. only IPv6 nets for IPv4).
 */
export function renderRuleMatches(rule: ParsedRule, family: Family | null, sets: SetNameResolver): string[] {
  const head: string[] = [];
  if (rule.protocol) head.push(`meta l4proto ${protoText(rule.protocol)}`);
  if (rule.notProtocol) head.push(`meta l4proto != ${protoText(rule.notProtocol)}`);
  const icmpKw = family === 6 ? 'icmpv6' : 'icmp';
  if (rule.icmp && family !== null) {
    head.push(`${icmpKw} type ${rule.icmp.type}`);
    if (rule.icmp.code !== undefined) head.push(`${icmpKw} code ${rule.icmp.code}`);
  }
  if (rule.notIcmp && family !== null) {
    if (rule.notIcmp.code === undefined) head.push(`${icmpKw} type != ${rule.notIcmp.type}`);
    else head.push(`${icmpKw} type . ${icmpKw} code != { ${rule.notIcmp.type} . ${rule.notIcmp.code} }`);
  }
  const src = sideMatches(rule.src, 's', family, sets);
  const dst = sideMatches(rule.dst, 'd', family, sets);
  if (!src || !dst) return [];
  const out: string[] = [];
  for (const a of src) {
    for (const b of dst) {
      if (out.length >= MAX_ALTERNATIVES) return out;
      const parts = [...head, ...a, ...b];
      // A family's rule with nothing family-specific left (e.g. only IPv4 not-nets, in its IPv6
      // rendering) must still match only that family.
      if (family !== null && !parts.some((p) => FAMILY_SPECIFIC.test(p))) parts.unshift(`meta nfproto ipv${family}`);
      out.push(parts.join(' '));
    }
  }
  return out;
}

/** Alternatives (each a list of ANDed matches) for one side; undefined when nothing can match. */
function sideMatches(side: RuleSide | undefined, sd: 's' | 'd', family: Family | null, sets: SetNameResolver): string[][] | undefined {
  if (!side) return [[]];
  const ipKw = family === 6 ? 'ip6' : 'ip';
  const addrField = `${ipKw} ${sd}addr`;
  const portField = `th ${sd}port`;
  // Address alternatives: one of the nets.
  let addrAlts: string[][] = [[]];
  if (side.nets?.length) {
    if (family === null) return undefined;
    const mine = side.nets.map(nftAddr).filter((a) => a?.family === family).map((a) => a!.text);
    if (mine.length === 0) return undefined;
    addrAlts = mine.map((a) => [`${addrField} ${a}`]);
  }
  const conds: string[] = [];
  if (family !== null) {
    for (const n of side.notNets ?? []) {
      const a = nftAddr(n);
      if (a?.family === family) conds.push(`${addrField} != ${a.text}`);
    }
    for (const id of side.ipSetIds ?? []) conds.push(`${addrField} @${sets.setName(id, family)}`);
    for (const id of side.notIpSetIds ?? []) conds.push(`${addrField} != @${sets.setName(id, family)}`);
  }
  // Port alternatives: a numeric range or a named-port set.
  const portAlts: string[][] = [];
  for (const p of side.ports ?? []) portAlts.push([`${portField} ${portText(p)}`]);
  if (family !== null) {
    for (const id of side.namedPortIpSetIds ?? []) portAlts.push([`${addrField} . meta l4proto . ${portField} @${sets.namedPortSetName(id, family)}`]);
  }
  if (portAlts.length === 0) portAlts.push([]);
  const portConds: string[] = [];
  for (const p of side.notPorts ?? []) portConds.push(`${portField} != ${portText(p)}`);
  if (family !== null) {
    for (const id of side.notNamedPortIpSetIds ?? []) portConds.push(`${addrField} . meta l4proto . ${portField} != @${sets.namedPortSetName(id, family)}`);
  }
  const out: string[][] = [];
  for (const a of addrAlts) for (const p of portAlts) out.push([...a, ...conds, ...p, ...portConds]);
  return out;
}
