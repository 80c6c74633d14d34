/**
 * The FelixConfiguration values a node's dataplane and agent read, merged as Felix merges them
 * (`felix/config/config_params.go`): per-node `node.<name>` over global `default` over Calico's
 * built-in defaults, field by field (a per-node list replaces the global list, `[]` included).
 * Values that cannot be read (wrong type, unknown enum, bad duration) fall back to the next
 * source, as Felix ignores an invalid datastore value. Pure: no I/O.
 *
 * Not handled: FelixConfigurations selected by `nodeSelector`, env/config-file overrides (the
 * agent layers those on top).
 */

import { protocolByName } from '../net/protocols.js';

/** A failsafe port: `protocol` lower-case (`tcp`, `udp`, `sctp`), optional `net` CIDR. */
export interface FailsafePort {
  protocol: string;
  port: number;
  net?: string;
}

export interface FelixSettings {
  /** What happens to traffic from a workload to its own host after policy: Drop (Calico default), Accept, Return. */
  defaultEndpointToHostAction: 'Drop' | 'Accept' | 'Return';
  failsafeInboundHostPorts: FailsafePort[];
  failsafeOutboundHostPorts: FailsafePort[];
  /** Prefix of log rules (`action: Log`); Calico supports `%t %k %n %p` expansions. */
  logPrefix: string;
  /** Verdict of an allowed packet in the filter/mangle chains (nftables* settings, else iptables*). */
  filterAllowAction: 'Accept' | 'Return';
  mangleAllowAction: 'Accept' | 'Return';
  filterDenyAction: 'Drop' | 'Reject';
  /** Workload interface name prefixes (`cali`), and interfaces that are never workloads. */
  interfacePrefixes: string[];
  interfaceExclude: string[];
  /** undefined: automatic (from the pools' encapsulation modes). */
  vxlanEnabled?: boolean;
  ipipEnabled?: boolean;
  vxlanPort: number;
  vxlanVNI: number;
  /** 0: automatic. */
  vxlanMTU: number;
  natOutgoingAddress?: string;
  /** Periodic resync intervals, in seconds (0 disables). */
  routeRefreshIntervalSeconds: number;
  tablesRefreshIntervalSeconds: number;
  ipsetsRefreshIntervalSeconds: number;
  removeExternalRoutes: boolean;
  logSeverityScreen: string;
  healthEnabled: boolean;
  healthPort: number;
  prometheusMetricsEnabled: boolean;
  prometheusMetricsPort: number;
  reportingIntervalSeconds: number;
  /** The merged spec (per-node over global), for any field not modelled above. */
  raw: Record<string, unknown>;
}

const p = (protocol: string, port: number): FailsafePort => ({ protocol, port });

/** Calico's documented defaults (`config_params.go`). */
export const DEFAULT_FAILSAFE_INBOUND: readonly FailsafePort[] = [
  p('tcp', 22), p('udp', 68), p('tcp', 179), p('tcp', 2379), p('tcp', 2380), p('tcp', 5473), p('tcp', 6443), p('tcp', 6666), p('tcp', 6667),
];
export const DEFAULT_FAILSAFE_OUTBOUND: readonly FailsafePort[] = [
  p('udp', 53), p('udp', 67), p('tcp', 179), p('tcp', 2379), p('tcp', 2380), p('tcp', 5473), p('tcp', 6443), p('tcp', 6666), p('tcp', 6667),
];

/** The FelixConfiguration resource names Felix reads for a node. */
export const GLOBAL_FELIX_CONFIG = 'default';
export function nodeFelixConfigName(node: string): string {
  return `node.${node}`;
}

type Spec = Record<string, unknown> | undefined;

/** Settings from the global and per-node FelixConfiguration specs (either may be absent). */
export function felixSettings(global: Spec, perNode: Spec): FelixSettings {
  const sources = [perNode ?? {}, global ?? {}];
  /** First readable value among the sources for any of `fields`, else undefined. */
  function pick<T>(fields: string[], read: (v: unknown) => T | undefined): T | undefined {
    for (const s of sources) {
      for (const f of fields) {
        if (s[f] === undefined || s[f] === null) continue;
        const v = read(s[f]);
        if (v !== undefined) return v;
      }
    }
    return undefined;
  }
  const str = (f: string, d: string) => pick([f], asString) ?? d;
  const num = (f: string, d: number) => pick([f], asPort) ?? d;
  const bool = (f: string) => pick([f], asBool);
  const secs = (fields: string[], d: number) => pick(fields, asSeconds) ?? d;
  const out: FelixSettings = {
    defaultEndpointToHostAction: pick(['defaultEndpointToHostAction'], oneOf(['Drop', 'Accept', 'Return'] as const)) ?? 'Drop',
    failsafeInboundHostPorts: pick(['failsafeInboundHostPorts'], asPorts) ?? DEFAULT_FAILSAFE_INBOUND.map((x) => ({ ...x })),
    failsafeOutboundHostPorts: pick(['failsafeOutboundHostPorts'], asPorts) ?? DEFAULT_FAILSAFE_OUTBOUND.map((x) => ({ ...x })),
    logPrefix: str('logPrefix', 'calico-packet'),
    filterAllowAction: pick(['nftablesFilterAllowAction', 'iptablesFilterAllowAction'], oneOf(['Accept', 'Return'] as const)) ?? 'Accept',
    mangleAllowAction: pick(['nftablesMangleAllowAction', 'iptablesMangleAllowAction'], oneOf(['Accept', 'Return'] as const)) ?? 'Accept',
    filterDenyAction: pick(['nftablesFilterDenyAction', 'iptablesFilterDenyAction'], oneOf(['Drop', 'Reject'] as const)) ?? 'Drop',
    interfacePrefixes: pick(['interfacePrefix'], asList) ?? ['cali'],
    interfaceExclude: pick(['interfaceExclude'], asList) ?? ['kube-ipvs0'],
    vxlanPort: num('vxlanPort', 4789),
    vxlanVNI: pick(['vxlanVNI'], asNonNegative) ?? 4096,
    vxlanMTU: pick(['vxlanMTU'], asNonNegative) ?? 0,
    routeRefreshIntervalSeconds: secs(['routeRefreshInterval'], 90),
    tablesRefreshIntervalSeconds: secs(['nftablesRefreshInterval', 'iptablesRefreshInterval'], 180),
    ipsetsRefreshIntervalSeconds: secs(['ipsetsRefreshInterval'], 90),
    removeExternalRoutes: bool('removeExternalRoutes') ?? true,
    logSeverityScreen: str('logSeverityScreen', 'Info'),
    healthEnabled: bool('healthEnabled') ?? false,
    healthPort: num('healthPort', 9099),
    prometheusMetricsEnabled: bool('prometheusMetricsEnabled') ?? false,
    prometheusMetricsPort: num('prometheusMetricsPort', 9091),
    reportingIntervalSeconds: secs(['reportingInterval'], 30),
    raw: { ...(global ?? {}), ...(perNode ?? {}) },
  };
  const vxlan = bool('vxlanEnabled');
  if (vxlan !== undefined) out.vxlanEnabled = vxlan;
  const ipip = bool('ipipEnabled');
  if (ipip !== undefined) out.ipipEnabled = ipip;
  const nat = pick(['natOutgoingAddress'], asString);
  if (nat) out.natOutgoingAddress = nat;
  return out;
}

function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function asBool(v: unknown): boolean | undefined {
  return typeof v === 'boolean' ? v : undefined;
}

function asNonNegative(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

function asPort(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : undefined;
}

function oneOf<T extends string>(values: readonly T[]): (v: unknown) => T | undefined {
  return (v) => values.find((x) => typeof v === 'string' && x.toLowerCase() === v.toLowerCase());
}

/** `cali,tap` or a list. */
function asList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return [...v];
  return undefined;
}

/** A list of `{protocol, port, net?}`; one unreadable entry makes the whole list unreadable. */
function asPorts(v: unknown): FailsafePort[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: FailsafePort[] = [];
  for (const e of v as unknown[]) {
    if (!e || typeof e !== 'object') return undefined;
    const { protocol, port, net } = e as Record<string, unknown>;
    const proto = protocol === undefined ? protocolByName('TCP') : typeof protocol === 'string' ? protocolByName(protocol, { anyCase: true }) : undefined;
    const n = asPort(port);
    if (!proto?.hasPorts || n === undefined) return undefined;
    const fp: FailsafePort = { protocol: proto.key, port: n };
    if (typeof net === 'string' && net !== '') fp.net = net;
    out.push(fp);
  }
  return out;
}

/** Go durations as Calico writes them (`90s`, `1m30s`, `500ms`, `0`), in seconds. */
export function asSeconds(v: unknown): number | undefined {
  if (typeof v === 'number') return v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (v === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(v)) !== null) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed === v.length && consumed > 0 ? total : undefined;
}
