import { UsageError } from '../errors.js';

/**
 * IP address and CIDR arithmetic for IPv4 and IPv6 (pure). Addresses are bigints so both families
 * share one code path; a CIDR is its masked base address, prefix length and family.
 */

export type IpFamily = 4 | 6;

export interface IpAddr {
  family: IpFamily;
  value: bigint;
}

export interface Cidr {
  family: IpFamily;
  /** Base (network) address, always masked. */
  base: bigint;
  prefix: number;
}

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parses a dotted-quad IPv4 or RFC 4291 IPv6 address; UsageError when it is neither. */
export function parseIp(text: string): IpAddr {
  const ip = tryParseIp(text);
  if (!ip) throw new UsageError(`invalid IP address "${text}"`);
  return ip;
}

export function tryParseIp(text: string): IpAddr | undefined {
  const s = text.trim();
  if (s.includes(':')) {
    const v = parseIpv6(s);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseIpv4(s);
  return v === undefined ? undefined : { family: 4, value: v };
}

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p.startsWith('0'))) return undefined;
    v = (v << 8n) | BigInt(Number(p));
  }
  return v;
}

function parseIpv6(s: string): bigint | undefined {
  let text = s;
  // embedded IPv4 in the last 32 bits (::ffff:1.2.3.4): rewrite it as two hex groups
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): bigint[] | undefined => {
    if (h === '') return [];
    const out: bigint[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(BigInt(parseInt(g, 16)));
    }
    return out;
  };
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length;
  let groups: bigint[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    groups = [...head, ...Array<bigint>(8 - given).fill(0n), ...rest];
  } else {
    if (given !== 8) return undefined;
    groups = head;
  }
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(ip: IpAddr): string {
  if (ip.family === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Parses `a.b.c.d/n` or `x::/n`. With `strict`, host bits must be zero; otherwise they are masked off. */
export function parseCidr(text: string, strict = false): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) throw new UsageError(`invalid CIDR "${text}": missing /prefix`);
  const ip = tryParseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip) throw new UsageError(`invalid CIDR "${text}": bad address`);
  const bits = familyBits(ip.family);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) throw new UsageError(`invalid CIDR "${text}": prefix must be 0-${bits}`);
  const prefix = Number(prefixText);
  const base = ip.value & netmask(ip.family, prefix);
  if (strict && base !== ip.value) throw new UsageError(`invalid CIDR "${text}": host bits set (did you mean ${formatCidr({ family: ip.family, base, prefix })}?)`);
  return { family: ip.family, base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}

export function netmask(family: IpFamily, prefix: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/** Number of addresses in the CIDR. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(familyBits(c.family) - c.prefix);
}

export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  return ip.family === c.family && (ip.value & netmask(c.family, c.prefix)) === c.base;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.prefix >= outer.prefix && (inner.base & netmask(outer.family, outer.prefix)) === outer.base;
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrCovers(a, b) || cidrCovers(b, a);
}

export function cidrEquals(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base === b.base && a.prefix === b.prefix;
}

/** The address at `ordinal` inside the CIDR (0 = base). */
export function ipAt(c: Cidr, ordinal: number | bigint): IpAddr {
  const o = BigInt(ordinal);
  if (o < 0n || o >= cidrSize(c)) throw new RangeError(`ordinal ${o} is outside ${formatCidr(c)}`);
  return { family: c.family, value: c.base + o };
}

/** Ordinal of `ip` inside the CIDR; RangeError when outside. */
export function ordinalOf(c: Cidr, ip: IpAddr): number {
  if (!cidrContains(c, ip)) throw new RangeError(`${formatIp(ip)} is outside ${formatCidr(c)}`);
  return Number(ip.value - c.base);
}

/** Number of blocks of prefix `blockSize` in `pool`. */
export function blockCount(pool: Cidr, blockSize: number): bigint {
  return 1n << BigInt(blockSize - pool.prefix);
}

/** The n-th block (0-based) of prefix `blockSize` inside `pool`. */
export function nthBlock(pool: Cidr, blockSize: number, n: bigint): Cidr {
  const size = 1n << BigInt(familyBits(pool.family) - blockSize);
  return { family: pool.family, base: pool.base + n * size, prefix: blockSize };
}

/** The block of prefix `blockSize` that holds `ip`. */
export function blockFor(ip: IpAddr, blockSize: number): Cidr {
  return { family: ip.family, base: ip.value & netmask(ip.family, blockSize), prefix: blockSize };
}

/** Datastore-safe name of a CIDR: `.`, `:` and `/` become `-` (`10.0.0.0/26` → `10-0-0-0-26`). */
export function cidrKeyName(c: Cidr | string): string {
  const text = typeof c === 'string' ? c : formatCidr(c);
  return text.replace(/[.:/]/g, '-');
}
