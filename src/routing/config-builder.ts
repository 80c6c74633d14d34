/**
 * Builds one node's BirdConfig from the BGP state (confd's `bgp_processor.go` plus the data the
 * templates read): the effective BGPConfiguration (`default` overlaid by `node.<name>`), the
 * router ID, pools, this node's blocks, communities, filters and peers. Everything BIRD would
 * choke on or that would make a wrong network is refused here, with every problem listed in one
 * ValidationError: a bad AS number, a router ID another node also uses, a peer that is this node
 * itself, a missing secret or filter. Returns undefined when the node has no BGP settings (no BIRD).
 */
import { ValidationError } from '../errors.js';
import type { BGPConfigurationSpec, BGPFilterRule, IPPoolSpec } from '../api/types.js';
import { formatCidr, tryParseCidr, type Cidr } from '../net/cidr.js';
import type { BgpSnapshot } from './bgp-state.js';
import type { BgpFilterModel, BirdConfig, BirdLogLevel, BlockRoute, CommunityAdvert, Family, FamilyConfig, FilterRule, PoolRoute } from './model.js';
import { normaliseAs, routerIdFor } from './bgp-values.js';
import { resolvePeers, type SecretLookup } from './peer-resolver.js';

export const DEFAULT_AS = '64512';
/** Interfaces whose routes BIRD never reads as direct routes: workloads and the tunnels. */
export const DEFAULT_IGNORED_INTERFACES = ['cali*', 'vxlan.calico', 'vxlan-v6.calico', 'tunl*', 'kube-ipvs*'];

export interface BuildOptions {
  secrets?: SecretLookup;
}

export function buildBirdConfig(state: BgpSnapshot, hostname: string, opts: BuildOptions = {}): BirdConfig | undefined {
  const me = state.nodes.get(hostname);
  if (!me?.spec.bgp) return undefined;
  const errors: string[] = [];
  const config = effectiveConfig(state, hostname);
  const globalAs = config.asNumber !== undefined ? normaliseAs(config.asNumber as number | string, 'BGPConfiguration default asNumber', errors) : DEFAULT_AS;
  const asNumber = me.spec.bgp.asNumber !== undefined ? normaliseAs(me.spec.bgp.asNumber, `node ${hostname} asNumber`, errors) : globalAs;

  const rid = routerIdFor(me);
  if (!rid) errors.push(`node ${hostname} has spec.bgp but neither bgp.ipv4Address nor bgp.ipv6Address`);
  else {
    const clash = [...state.nodes.values()].filter((n) => n.name !== hostname && n.spec.bgp && routerIdFor(n)?.id === rid.id).map((n) => n.name);
    if (clash.length > 0) errors.push(`duplicate router ID ${rid.id}: node ${hostname} and node ${clash.sort().join(', node ')} would both use it`);
  }

  const peers = resolvePeers({ me, state, config, globalAs, secrets: opts.secrets ?? (() => undefined), errors });
  const filters = [...state.filters].sort(([a], [b]) => (a < b ? -1 : 1)).filter(([name]) => peers.some((p) => p.filters.includes(name))).map(([name, spec]) => ({
    name,
    exportV4: (spec.exportV4 ?? []).map(filterRule),
    importV4: (spec.importV4 ?? []).map(filterRule),
    exportV6: (spec.exportV6 ?? []).map(filterRule),
    importV6: (spec.importV6 ?? []).map(filterRule),
  }) satisfies BgpFilterModel);

  const rr = me.spec.bgp.routeReflectorClusterID;
  const out: BirdConfig = {
    node: hostname,
    routerId: rid?.id ?? '0.0.0.0',
    routerIdSource: rid?.source ?? '',
    asNumber,
    logLevel: (config.logSeverityScreen as BirdLogLevel | undefined) ?? 'Info',
    ignoredInterfaces: [...DEFAULT_IGNORED_INTERFACES, ...(config.ignoredInterfaces ?? []).filter((i) => !DEFAULT_IGNORED_INTERFACES.includes(i))],
    families: [4, 6].map((f) => familyConfig(state, config, f as Family, errors)),
    filters,
    peers,
  };
  if (config.listenPort !== undefined && config.listenPort !== 179) out.listenPort = config.listenPort;
  if (rr) out.routeReflectorClusterId = rr;
  if (errors.length > 0) {
    throw new ValidationError(`BGP configuration for node ${hostname} refused (BIRD keeps its previous configuration): ${errors.join('; ')}`,
      errors.map((message) => ({ path: `node ${hostname}`, message })));
  }
  return out;
}

/** `default` with the node's own `node.<name>` BGPConfiguration on top (per-node fields only there). */
export function effectiveConfig(state: BgpSnapshot, hostname: string): BGPConfigurationSpec {
  return { ...(state.configs.get('default') ?? {}), ...(state.configs.get(`node.${hostname}`) ?? {}) };
}

function familyConfig(state: BgpSnapshot, config: BGPConfigurationSpec, family: Family, errors: string[]): FamilyConfig {
  const pools: PoolRoute[] = sortCidrs([...state.pools.values()].filter((p) => cidrOf(p.cidr)?.family === family), (p) => p.cidr).map((p) => poolRoute(p));
  const blocks: BlockRoute[] = sortCidrs([...state.affinities.values()].filter((a) => cidrOf(a.cidr)?.family === family), (a) => a.cidr)
    .map((a) => ({ cidr: canonical(a.cidr), state: a.state }));
  const serviceCidrs: string[] = [];
  for (const f of ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'] as const) {
    for (const s of config[f] ?? []) {
      const c = cidrOf(s.cidr);
      if (c?.family === family && !serviceCidrs.includes(canonical(s.cidr))) serviceCidrs.push(canonical(s.cidr));
    }
  }
  const named = new Map((config.communities ?? []).map((c) => [c.name, c.value]));
  const communities: CommunityAdvert[] = [];
  for (const adv of config.prefixAdvertisements ?? []) {
    if (cidrOf(adv.cidr)?.family !== family) continue;
    const values = (adv.communities ?? []).map((c) => named.get(c) ?? c);
    const bad = values.filter((v) => !/^\d+:\d+(:\d+)?$/.test(v));
    if (bad.length > 0) errors.push(`BGPConfiguration prefixAdvertisements ${adv.cidr}: community "${bad[0]}" is neither defined in communities nor a value`);
    communities.push({ cidr: canonical(adv.cidr), communities: values });
  }
  return { family, pools, blocks, serviceCidrs, communities };
}

function poolRoute(p: IPPoolSpec): PoolRoute {
  const vx = p.vxlanMode && p.vxlanMode !== 'Never' ? `vxlanMode ${p.vxlanMode}` : undefined;
  const ipip = p.ipipMode && p.ipipMode !== 'Never' ? `ipipMode ${p.ipipMode}` : undefined;
  const r: PoolRoute = { cidr: canonical(p.cidr), exportDisabled: !!p.disableBGPExport, agentProgrammed: !!(vx ?? ipip) };
  if (vx ?? ipip) r.encap = (vx ?? ipip)!;
  return r;
}

function filterRule(r: BGPFilterRule): FilterRule {
  const out: FilterRule = { action: r.action };
  if (r.cidr) out.cidr = canonical(r.cidr);
  if (r.matchOperator) out.matchOperator = r.matchOperator;
  if (r.prefixLength) out.prefixLength = { ...r.prefixLength };
  if (r.source) out.source = r.source;
  if (r.interface) out.interface = r.interface;
  if (r['peerType'] === 'eBGP' || r['peerType'] === 'iBGP') out.peerType = r['peerType'];
  return out;
}

function cidrOf(text: string | undefined): Cidr | undefined {
  return text ? tryParseCidr(text, { allowBareIp: true }) : undefined;
}

function canonical(text: string): string {
  const c = cidrOf(text);
  return c ? formatCidr(c) : text;
}

function sortCidrs<T>(items: T[], cidr: (t: T) => string): T[] {
  return items.sort((a, b) => {
    const ca = cidrOf(cidr(a))!;
    const cb = cidrOf(cidr(b))!;
    return ca.base < cb.base ? -1 : ca.base > cb.base ? 1 : ca.prefix - cb.prefix;
  });
}
