/**
 * The one IP protocol table: names as Calico's v3 API spells them, IANA numbers, the lower-case
 * form rules and named ports use, and which protocols have ports. Validation, defaults, the rule
 * parser and matcher, explain/matrix and the dataplane all read it, so they cannot disagree.
 * Pure: no I/O.
 *
 * Ports: TCP, UDP and SCTP only, as Calico's `numorstring.Protocol.SupportsPorts` (UDPLite has
 * port fields on the wire, but Calico refuses ports on it, so Brindle does too).
 */

export interface ProtocolInfo {
  /** Calico's spelling, case-sensitive in the v3 API: `TCP`, `ICMPv6`, `UDPLite`. */
  name: string;
  /** Lower-case form (`tcp`, `icmpv6`): Felix's v1 model, named ports, parsed rules. */
  key: string;
  number: number;
  hasPorts: boolean;
  /** ICMP exists only in IPv4 and ICMPv6 only in IPv6. */
  family?: 4 | 6;
}

export const PROTOCOLS: readonly ProtocolInfo[] = [
  { name: 'TCP', key: 'tcp', number: 6, hasPorts: true },
  { name: 'UDP', key: 'udp', number: 17, hasPorts: true },
  { name: 'ICMP', key: 'icmp', number: 1, hasPorts: false, family: 4 },
  { name: 'ICMPv6', key: 'icmpv6', number: 58, hasPorts: false, family: 6 },
  { name: 'SCTP', key: 'sctp', number: 132, hasPorts: true },
  { name: 'UDPLite', key: 'udplite', number: 136, hasPorts: false },
];

export const ICMP = 1;
export const ICMPV6 = 58;

const byName = new Map(PROTOCOLS.map((p) => [p.name, p]));
const byKey = new Map(PROTOCOLS.map((p) => [p.key, p]));
const byNumber = new Map(PROTOCOLS.map((p) => [p.number, p]));

/** The protocols that have ports (`TCP, UDP or SCTP`), in table order. */
export const PORT_PROTOCOLS: readonly ProtocolInfo[] = PROTOCOLS.filter((p) => p.hasPorts);

/** `TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite` / `TCP, UDP or SCTP`: the list as messages name it. */
export function protocolList(protocols: readonly ProtocolInfo[] = PROTOCOLS, last = 'or'): string {
  const names = protocols.map((p) => p.name);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} ${last} ${names.at(-1)}`;
}

/**
 * A protocol by name: exactly as Calico spells it (`TCP`), or, with `anyCase`, in any case
 * (`tcp`, as Felix's lower-case model and command-line flags accept).
 */
export function protocolByName(name: string, opts: { anyCase?: boolean } = {}): ProtocolInfo | undefined {
  return byName.get(name) ?? (opts.anyCase ? byKey.get(name.toLowerCase()) : undefined);
}

export function protocolByNumber(n: number): ProtocolInfo | undefined {
  return byNumber.get(n);
}

/**
 * A protocol's number from a name or a number (or a numeric string), or undefined when it is
 * neither. Numbers must be integers in `min`-255 (Calico's API: 1-255; a packet: 0-255).
 */
export function protocolNumberOf(p: string | number, opts: { anyCase?: boolean; min?: 0 | 1 } = {}): number | undefined {
  const min = opts.min ?? 1;
  if (typeof p === 'number') return Number.isInteger(p) && p >= min && p <= 255 ? p : undefined;
  if (typeof p !== 'string') return undefined;
  const named = protocolByName(p, opts);
  if (named) return named.number;
  return /^\d{1,3}$/.test(p) ? protocolNumberOf(Number(p), opts) : undefined;
}

/** 6 → `TCP`; numbers without a name stay numeric (`47`). */
export function protocolLabel(n: number): string {
  return byNumber.get(n)?.name ?? String(n);
}

/** Whether rules may match ports of this protocol number. */
export function protocolHasPorts(n: number | undefined): boolean {
  return n !== undefined && (byNumber.get(n)?.hasPorts ?? false);
}

/** The IP family a protocol exists in (ICMP: 4, ICMPv6: 6), or undefined for both. */
export function protocolFamily(n: number): 4 | 6 | undefined {
  return byNumber.get(n)?.family;
}

/** Lower-case form of a name in any case (`TCP` → `tcp`); numbers and unknown names as lower-case strings (`6` → `6`). */
export function protocolKey(p: string | number): string {
  if (typeof p === 'number') return String(p);
  return byKey.get(p.toLowerCase())?.key ?? p.toLowerCase();
}
