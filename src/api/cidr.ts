/**
 * IP address and CIDR parsing for validation and conversion (pure: no `node:net`). Addresses are
 * held as bigints so IPv4 and IPv6 share one code path. Does not allocate or route anything.
 */

export type IPFamily = 4 | 6;

export interface ParsedIP {
  family: IPFamily;
  value: bigint;
}

export interface ParsedCIDR {
  family: IPFamily;
  /** The address as written (may have host bits set). */
  address: bigint;
  prefixLength: number;
  /** The network address (host bits cleared). */
  network: bigint;
}

const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIPv4(s: string): bigint | undefined {
  const m = V4_RE.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIPv6(s: string): bigint | undefined {
  if (s.length === 0 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let tail4: bigint | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tail4 = parseIPv4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    text = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const groups = [...head, ...Array<string>(8 - total).fill('0'), ...tail];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

/** Parses an IPv4 or IPv6 address (no prefix). */
export function parseIP(s: string): ParsedIP | undefined {
  if (typeof s !== 'string') return undefined;
  const v4 = parseIPv4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIPv6(s);
  if (v6 !== undefined) return { family: 6, value: v6 };
  return undefined;
}

export function familyBits(family: IPFamily): number {
  return family === 4 ? 32 : 128;
}

function maskOf(family: IPFamily, prefix: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : all ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/** Parses `a.b.c.d/n` or `x::y/n`. With `allowBareIP`, a bare address is read as /32 or /128. */
export function parseCIDR(s: string, allowBareIP = false): ParsedCIDR | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) {
    if (!allowBareIP) return undefined;
    const ip = parseIP(s);
    if (!ip) return undefined;
    return { family: ip.family, address: ip.value, prefixLength: familyBits(ip.family), network: ip.value };
  }
  const ip = parseIP(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > familyBits(ip.family)) return undefined;
  return { family: ip.family, address: ip.value, prefixLength, network: ip.value & maskOf(ip.family, prefixLength) };
}

/** True if the CIDR has no host bits set (`10.0.0.0/8`, not `10.0.0.1/8`). */
export function isMasked(c: ParsedCIDR): boolean {
  return c.address === c.network;
}

/** True if the two CIDRs share at least one address. */
export function cidrsOverlap(a: ParsedCIDR, b: ParsedCIDR): boolean {
  if (a.family !== b.family) return false;
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  const mask = maskOf(a.family, shorter);
  return (a.network & mask) === (b.network & mask);
}

/** True if `inner` lies entirely within `outer`. */
export function cidrContains(outer: ParsedCIDR, inner: ParsedCIDR): boolean {
  return outer.family === inner.family && outer.prefixLength <= inner.prefixLength && cidrsOverlap(outer, inner);
}

export function formatIP(family: IPFamily, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (≥2) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical masked form of a CIDR (`10.0.0.1/8` → `10.0.0.0/8`). */
export function formatCIDR(c: ParsedCIDR): string {
  return `${formatIP(c.family, c.network)}/${c.prefixLength}`;
}
