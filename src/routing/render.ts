/**
 * BirdConfig → the text of one node's `bird.cfg` (BIRD 2, both families in one daemon). Pure and
 * deterministic: the same model gives the same bytes, so the driver reloads BIRD only when this
 * text changes. The structure follows Calico's bird.cfg (see machine-findings §2 for the parts
 * proven on this machine):
 *   - `blocks4/6` static blackholes for this node's confirmed blocks (the aggregates it advertises);
 *   - `kernel4/6` learns the kernel's routes (so borrowed /32s of local workloads become exportable)
 *     and installs BGP routes plus our blackholes, except in pools whose routes the agent programs;
 *   - `brindle_export_vN()` decides what any peer may get: own blocks, borrowed /32s in pools,
 *     service CIDRs, and (route reflectors only) routes learned from other nodes; nothing else;
 *   - one `protocol bgp` per peer, from a template with `connect delay time 1`.
 */
import type { BirdConfig, BirdLogLevel, BirdPeer, Family, FamilyConfig } from './model.js';
import { filterFunctionName, renderFilterFunctions, rulesOf } from './render-filters.js';

const LOG_CLASSES: Record<BirdLogLevel, string> = {
  Trace: 'all',
  Debug: 'all',
  Info: '{ info, remote, warning, error, auth, fatal, bug }',
  Warning: '{ warning, error, auth, fatal, bug }',
  Error: '{ error, auth, fatal, bug }',
  Fatal: '{ fatal, bug }',
};

export function renderBirdConfig(c: BirdConfig): string {
  const out: string[] = [
    `# BIRD 2 configuration of node ${c.node}, rendered by Brindle from the datastore. Do not edit:`,
    '# the agent rewrites it and reloads BIRD when it changes.',
    `log stderr ${LOG_CLASSES[c.logLevel]};`,
    `router id ${c.routerId};  # ${c.routerIdSource}`,
    'timeformat protocol iso long;  # `brindle node status` reads full dates',
    'timeformat route iso long;',
    '',
    'protocol device { scan time 10; }',
    '',
  ];
  for (const f of c.families) out.push(...renderFamily(c, f));
  const fns = renderFilterFunctions(c.filters);
  if (fns.length > 0) out.push('# ---- BGP filters', '', ...fns);
  out.push('# ---- BGP sessions', '');
  out.push('template bgp brindle_bgp {', '  connect delay time 1;', '  connect retry time 5;', '  error wait time 5, 30;', '  graceful restart on;', '}', '');
  if (c.peers.length === 0) out.push('# No BGP peers.', '');
  for (const p of c.peers) out.push(...renderPeer(c, p));
  return out.join('\n').replace(/\n+$/, '\n');
}

function v(f: Family): string {
  return `v${f}`;
}

function prefixSet(cidrs: readonly string[]): string {
  return `[ ${cidrs.map((x) => `${x}+`).join(', ')} ]`;
}

function renderFamily(c: BirdConfig, f: FamilyConfig): string[] {
  const fam = f.family === 4 ? 'ipv4' : 'ipv6';
  const hostLen = f.family === 4 ? 32 : 128;
  const pools = f.pools.map((p) => p.cidr);
  const confirmed = f.blocks.filter((b) => b.state === 'confirmed').map((b) => b.cidr);
  const disabled = f.pools.filter((p) => p.exportDisabled).map((p) => p.cidr);
  const agent = f.pools.filter((p) => p.agentProgrammed);
  const o: string[] = [`# ---- IPv${f.family}`, ''];

  o.push(`function brindle_in_pools_${v(f.family)}() {`, `  return ${pools.length ? `net ~ ${prefixSet(pools)}` : 'false'};${pools.length ? '' : '  # no pools'}`, '}', '');
  o.push(`function brindle_own_blocks_${v(f.family)}() {`, `  return ${confirmed.length ? `net ~ ${prefixSet(confirmed)}` : 'false'};`, '}', '');
  o.push(`function brindle_communities_${v(f.family)}() {`);
  for (const a of f.communities) {
    const adds = a.communities.map((x) => {
      const parts = x.split(':');
      return parts.length === 3 ? `bgp_large_community.add((${parts.join(', ')}));` : `bgp_community.add((${parts.join(', ')}));`;
    });
    o.push(`  if net ~ ${prefixSet([a.cidr])} then { ${adds.join(' ')} }`);
  }
  if (f.communities.length === 0) o.push('  # no prefixAdvertisements');
  o.push('}', '');

  o.push(`# What any peer may learn from this node.`);
  o.push(`function brindle_export_${v(f.family)}() {`);
  o.push(`  if proto = "kernel${f.family}" && (ifname ~ "vxlan*" || ifname ~ "tunl*") then return false;  # tunnel routes`);
  if (disabled.length) o.push(`  if net ~ ${prefixSet(disabled)} then return false;  # disableBGPExport`);
  o.push(`  if proto = "blocks${f.family}" then return true;  # this node's blocks`);
  if (f.serviceCidrs.length) o.push(`  if proto = "services${f.family}" then return true;  # service IPs`);
  o.push(`  if brindle_own_blocks_${v(f.family)}() then return false;  # covered by the block aggregate`);
  o.push(`  if proto = "kernel${f.family}" && net.len = ${hostLen} && brindle_in_pools_${v(f.family)}() then return true;  # borrowed addresses`);
  if (c.routeReflectorClusterId) o.push(`  if source = RTS_BGP && brindle_in_pools_${v(f.family)}() then return true;  # route reflector: other nodes' routes`);
  o.push('  return false;', '}', '');

  o.push(`filter brindle_kernel_${v(f.family)} {`);
  for (const p of agent) o.push(`  if net ~ ${prefixSet([p.cidr])} then reject;  # ${p.encap}: cluster routes are programmed by the agent`);
  o.push(`  if proto = "blocks${f.family}" then accept;`, '  if source = RTS_BGP then accept;', '  reject;', '}', '');

  o.push(`protocol direct direct${f.family} {`, `  ${fam};`, `  interface ${c.ignoredInterfaces.map((i) => `-"${i}"`).join(', ')}, "*";`, '}', '');
  o.push(`protocol kernel kernel${f.family} {`, `  ${fam} { import all; export filter brindle_kernel_${v(f.family)}; };`,
    '  learn;', '  scan time 10;', '  merge paths on;', '  graceful restart on;', '}', '');

  o.push(`protocol static blocks${f.family} {`, `  ${fam};`);
  for (const b of f.blocks) {
    if (b.state === 'confirmed') o.push(`  route ${b.cidr} blackhole;`);
    else o.push(`  # ${b.cidr} is ${b.state}: not advertised`);
  }
  o.push('}', '');
  if (f.serviceCidrs.length) {
    o.push(`protocol static services${f.family} {`, `  ${fam};`, ...f.serviceCidrs.map((s) => `  route ${s} blackhole;`), '}', '');
  }
  return o;
}

function renderPeer(c: BirdConfig, p: BirdPeer): string[] {
  const fam = p.family === 4 ? 'ipv4' : 'ipv6';
  const ibgp = p.internal ? 'true' : 'false';
  const port = p.port ? ` port ${p.port}` : '';
  const local = `${p.localIp ? `${p.localIp} ` : ''}${c.listenPort ? `port ${c.listenPort} ` : ''}`;
  const o: string[] = [`# ${p.origin}`, `protocol bgp ${p.name} from brindle_bgp {`, `  local ${local}as ${p.localAsNumber};`, `  neighbor ${p.ip}${port} as ${p.asNumber};`];
  if (p.passive) o.push('  passive on;  # the peer connects to us');
  if (p.restartTime !== undefined) o.push(`  graceful restart time ${p.restartTime};`);
  if (p.keepaliveTime !== undefined) o.push(`  keepalive time ${p.keepaliveTime};`, `  hold time ${p.keepaliveTime * 3};`);
  if (p.ttlSecurityHops !== undefined) o.push('  ttl security on;', `  multihop ${p.ttlSecurityHops};`);
  if (p.allowLocalAs !== undefined) o.push(`  allow local as ${p.allowLocalAs};`);
  if (p.routeReflectorClient) o.push('  rr client;', `  rr cluster id ${p.routeReflectorClient};`);
  if (p.password !== undefined) o.push(`  password "${p.password}";`);
  const calls = (dir: 'import' | 'export'): string[] =>
    p.filters.filter((name) => {
      const f = c.filters.find((x) => x.name === name);
      return f && rulesOf(f, dir, p.family).length > 0;
    }).map((name) => `      ${filterFunctionName(name, dir, p.family)}(${ibgp});`);
  o.push(`  ${fam} {`);
  o.push('    import filter {', ...calls('import'), '      accept;', '    };');
  o.push('    export filter {', ...calls('export'), `      if brindle_export_${v(p.family)}() then { brindle_communities_${v(p.family)}(); accept; }`, '      reject;', '    };');
  if (p.nextHop) o.push(`    next hop ${p.nextHop};`);
  o.push('    gateway recursive;', '  };', '}', '');
  return o;
}
