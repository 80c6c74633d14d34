import { cidrContains, tryParseCidr, tryParseIp } from '../net/cidr.js';
import { parseSelector, type Selector } from '../selector/index.js';
import { UsageError } from '../errors.js';
import type { FlowPeer, FlowRecord, FlowVerdict } from './flow-record.js';

/**
 * The filters of `brindle flows` and the console's flow table. A peer filter is `NS/NAME` (a
 * workload; `NS/*` for a whole namespace), an address or CIDR, or a label selector evaluated on the
 * peer's labels (`app == "web"`). A policy filter is a name, `namespace/name` or `tier/name`. Pure.
 */
export interface FlowFilter {
  verdict?: FlowVerdict;
  from?: PeerMatcher;
  to?: PeerMatcher;
  policy?: string;
  node?: string;
  /** Epoch ms: records that ended at or after. */
  since?: number;
  until?: number;
}

export type PeerMatcher = (p: FlowPeer) => boolean;

export function parsePeerFilter(text: string, flag = '--from'): PeerMatcher {
  const t = text.trim();
  const cidr = tryParseCidr(t, { allowBareIp: true });
  if (cidr) return (p) => {
    const ip = tryParseIp(p.ip);
    return !!ip && ip.family === cidr.family && cidrContains(cidr, ip);
  };
  const wl = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/(\*|[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?)$/.exec(t);
  if (wl) {
    const [ns, name] = [wl[1]!, wl[3]!];
    return (p) => (p.kind === 'workload' || p.kind === 'networkset') && p.namespace === ns && (name === '*' || p.name === name || p.endpoint === name);
  }
  let sel: Selector;
  try {
    sel = parseSelector(t);
  } catch (err) {
    throw new UsageError(`${flag} ${text}: not NAMESPACE/NAME, an address or a selector: ${(err as Error).message}`);
  }
  return (p) => sel.evaluate(new Map(Object.entries(p.labels ?? {})));
}

export function policyMatches(r: FlowRecord, q: string): boolean {
  const p = r.policy;
  if (p.name === undefined) return q === p.kind || (p.kind === 'end-of-tier' && q === p.tier);
  const names = [p.name, `${p.namespace ?? ''}/${p.name}`, `${p.tier}/${p.name}`, `${p.tier}/${p.namespace ? `${p.namespace}/` : ''}${p.name}`];
  return names.includes(q) || (r.staged ?? []).some((s) => s.name === q || `${s.namespace ?? ''}/${s.name}` === q);
}

export function matchesFilter(r: FlowRecord, f: FlowFilter): boolean {
  if (f.verdict && r.verdict !== f.verdict) return false;
  if (f.node && r.node !== f.node) return false;
  if (f.since !== undefined && r.end < f.since) return false;
  if (f.until !== undefined && r.start > f.until) return false;
  if (f.from && !f.from(r.src)) return false;
  if (f.to && !f.to(r.dst)) return false;
  if (f.policy && !policyMatches(r, f.policy)) return false;
  return true;
}

/** `5m`, `2h`, `30s`, `1d`, or an ISO time → epoch ms (relative to `now`). */
export function parseSince(text: string, now: number, flag = '--since'): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (m) return now - Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms']!;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`${flag} must be a duration (30s, 5m, 2h, 1d) or a time (2026-01-01T10:00:00Z), got "${text}"`);
  return t;
}

export function parseVerdict(text: string): FlowVerdict {
  if (text === 'allowed' || text === 'denied') return text;
  if (text === 'allow') return 'allowed';
  if (text === 'deny') return 'denied';
  throw new UsageError(`--verdict must be allowed or denied, got "${text}"`);
}
