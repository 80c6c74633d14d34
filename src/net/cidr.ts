import { UsageError } from '../errors.js';

/**
 * IP address and CIDR parsing, formatting and arithmetic for IPv4 and IPv6: the one implementation
 * the whole project uses (validation, conversion, calculation, IPAM, CLI). Pure: no `node:net`, no
 * I/O. Addresses are bigints so both families share one code path; a CIDR is its masked base
 * address, prefix length and family. Parsing is as strict as Go's `net.ParseIP`/`net.ParseCIDR`
 * (which Calico uses): no surrounding whitespace, no leading zeros in IPv4 octets.
 *
 * `try…` parsers return undefined on bad input (validation turns that into its own messages);
 * `parseIp`/`parseCidr` throw a UsageError naming the text and the reason (CLI and IPAM input).
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

/** A CIDR as parsed from text: `address` keeps the host bits as written (`10.0.0.5/24` → 10.0.0.5). */
export interface ParsedCidr extends Cidr {
  address: bigint;
}

export interface CidrParseOptions {
  /** Refuse host bits (`10.0.0.1/8`) instead of masking them off. */
  strict?: boolean;
  /** Read a bare address as a host CIDR (/32 or /128). */
  allowBareIp?: boolean;
}

export function familyBits(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

/** Parses a dotted-quad IPv4 or RFC 4291 IPv6 address; undefined when it is neither. */
export function tryParseIp(text: string): IpAddr | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.includes(':')) {
    const v = parseIpv6(text);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseIpv4(text);
  return v === undefined ? undefined : { family: 4, value: v };
}

/** Like tryParseIp; UsageError `invalid IP address "<text>"` when the text is no address. */
export function parseIp(text: string): IpAddr {
  const ip = tryParseIp(text);
  if (!ip) throw new UsageError(`invalid IP address "${text}"`);
  return ip;
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

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run ≥2 compressed). */
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

/** The CIDR, or why the text is not one (the reason part of parseCidr's message). */
function readCidr(text: string, opts: CidrParseOptions): ParsedCidr | string {
  if (typeof text !== 'string') return 'not a string';
  const slash = text.indexOf('/');
  if (slash < 0) {
    const ip = opts.allowBareIp ? tryParseIp(text) : undefined;
    if (!ip) return opts.allowBareIp ? 'bad address' : 'missing /prefix';
    return { family: ip.family, base: ip.value, prefix: familyBits(ip.family), address: ip.value };
  }
  const ip = tryParseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip) return 'bad address';
  const bits = familyBits(ip.family);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return `prefix must be 0-${bits}`;
  const prefix = Number(prefixText);
  const base = ip.value & netmask(ip.family, prefix);
  if (opts.strict && base !== ip.value) return `host bits set (did you mean ${formatCidr({ family: ip.family, base, prefix })}?)`;
  return { family: ip.family, base, prefix, address: ip.value };
}

/** Parses `a.b.c.d/n` or `x::/n` (host bits masked off unless `strict`); undefined when invalid. */
export function tryParseCidr(text: string, opts: CidrParseOptions = {}): ParsedCidr | undefined {
  const c = readCidr(text, opts);
  return typeof c === 'string' ? undefined : c;
}

/** Like tryParseCidr; UsageError `invalid CIDR "<text>": <reason>` when invalid. */
export function parseCidr(text: string, opts: CidrParseOptions = {}): ParsedCidr {
  const c = readCidr(text, opts);
  if (typeof c === 'string') throw new UsageError(`invalid CIDR "${text}": ${c}`);
  return c;
}

/** Canonical masked text (`10.0.0.1/8` parses and formats as `10.0.0.0/8`). */
export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.base })}/${c.prefix}`;
}

/** True if the text had no host bits set (`10.0.0.0/8`, not `10.0.0.1/8`). */
export function isMasked(c: ParsedCidr): boolean {
  return c.address === c.base;
}

function maskTable(bits: number): bigint[] {
  const all = (1n << BigInt(bits)) - 1n;
  return Array.from({ length: bits + 1 }, (_, prefix) => all ^ ((1n << BigInt(bits - prefix)) - 1n));
}

// Masks by prefix length, so containment tests (the policy matrix's hot path) do one `&` and one `===`.
const V4_MASKS = maskTable(32);
const V6_MASKS = maskTable(128);

export function netmask(family: IpFamily, prefix: number): bigint {
  const m = (family === 4 ? V4_MASKS : V6_MASKS)[prefix];
  if (m === undefined) throw new RangeError(`prefix /${prefix} is out of range for IPv${family}`);
  return m;
}

/** Number of addresses in the CIDR. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(familyBits(c.family) - c.prefix);
}

/** True when the address lies inside the CIDR (false across families). */
export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  return ip.family === c.family && (ip.value & (c.family === 4 ? V4_MASKS : V6_MASKS)[c.prefix]!) === c.base;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.prefix >= outer.prefix && (inner.base & netmask(outer.family, outer.prefix)) === outer.base;
}

/** True when the two CIDRs share at least one address (for CIDRs: one covers the other). */
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
