import { protocolLabel } from '../calc/rule-matcher.js';

/**
 * ulogd2's JSON output (output_JSON) read back into typed events: one JSON object per line, either a
 * packet logged by an nftables `log group N prefix "…"` rule (NFLOG stack: `oob.prefix`, `src_ip`,
 * `dest_port`, `raw.pktlen`) or a conntrack DESTROY event with accounting (NFCT stack:
 * `orig.raw.pktcount`, `flow.start.sec`…, needs `nf_conntrack_acct` and `nf_conntrack_timestamp` in
 * the namespace). ulogd decodes the kernel's netlink formats; this only maps its field names. Pure.
 */

export interface FiveTuple {
  srcIp: string;
  dstIp: string;
  protocol: string;
  srcPort?: number;
  dstPort?: number;
}

export interface LoggedPacket extends FiveTuple {
  kind: 'packet';
  prefix: string;
  group?: number;
  bytes: number;
  /** Epoch ms. */
  time: number;
  inIface?: string;
  outIface?: string;
}

export interface ConntrackEnd extends FiveTuple {
  kind: 'conntrack-end';
  packets: number;
  bytes: number;
  replyPackets: number;
  replyBytes: number;
  start: number;
  end: number;
}

export type UlogdEvent = LoggedPacket | ConntrackEnd;

type J = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function ms(sec: unknown, usec: unknown): number | undefined {
  const s = num(sec);
  if (s === undefined) return undefined;
  return s * 1000 + Math.floor((num(usec) ?? 0) / 1000);
}

function ports(protocol: number, sport: unknown, dport: unknown): { srcPort?: number; dstPort?: number } {
  if (protocol !== 6 && protocol !== 17 && protocol !== 132 && protocol !== 136) return {};
  const s = num(sport);
  const d = num(dport);
  return { ...(s !== undefined ? { srcPort: s } : {}), ...(d !== undefined ? { dstPort: d } : {}) };
}

/** Parses one line; undefined for a line that is not a complete event of either kind. */
export function parseUlogdLine(line: string, now: number): UlogdEvent | undefined {
  let j: J;
  try {
    const v = JSON.parse(line) as unknown;
    if (!v || typeof v !== 'object') return undefined;
    j = v as J;
  } catch {
    return undefined;
  }
  if ('ct.event' in j || 'orig.raw.pktcount' in j) return conntrackEnd(j, now);
  if ('oob.prefix' in j) return loggedPacket(j, now);
  return undefined;
}

function loggedPacket(j: J, now: number): LoggedPacket | undefined {
  const srcIp = str(j['src_ip']);
  const dstIp = str(j['dest_ip']);
  const proto = num(j['ip.protocol']) ?? num(j['ip6.nexthdr']);
  if (!srcIp || !dstIp || proto === undefined) return undefined;
  const inIface = str(j['oob.in']);
  const outIface = str(j['oob.out']);
  return {
    kind: 'packet',
    prefix: String(j['oob.prefix'] ?? ''),
    srcIp,
    dstIp,
    protocol: protocolLabel(proto),
    ...ports(proto, j['src_port'], j['dest_port']),
    bytes: num(j['raw.pktlen']) ?? num(j['ip.totlen']) ?? 0,
    time: ms(j['oob.time.sec'], j['oob.time.usec']) ?? now,
    ...(inIface ? { inIface } : {}),
    ...(outIface ? { outIface } : {}),
  };
}

function conntrackEnd(j: J, now: number): ConntrackEnd | undefined {
  if (num(j['ct.event']) !== undefined && num(j['ct.event']) !== 4) return undefined; // 4 = DESTROY
  const srcIp = str(j['src_ip']) ?? str(j['orig.ip.saddr.str']);
  const dstIp = str(j['dest_ip']) ?? str(j['orig.ip.daddr.str']);
  const proto = num(j['orig.ip.protocol']);
  if (!srcIp || !dstIp || proto === undefined) return undefined;
  const end = ms(j['flow.end.sec'], j['flow.end.usec']) ?? now;
  return {
    kind: 'conntrack-end',
    srcIp,
    dstIp,
    protocol: protocolLabel(proto),
    ...ports(proto, j['orig.l4.sport'], j['orig.l4.dport']),
    packets: num(j['orig.raw.pktcount']) ?? 0,
    bytes: num(j['orig.raw.pktlen']) ?? 0,
    replyPackets: num(j['reply.raw.pktcount']) ?? 0,
    replyBytes: num(j['reply.raw.pktlen']) ?? 0,
    start: ms(j['flow.start.sec'], j['flow.start.usec']) ?? end,
    end,
  };
}

export function tupleKey(t: FiveTuple): string {
  return `${t.protocol}|${t.srcIp}|${t.srcPort ?? ''}|${t.dstIp}|${t.dstPort ?? ''}`;
}
