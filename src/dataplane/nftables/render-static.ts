/**
 * Renders the static skeleton of the table: base chains hooked into netfilter, the workload and
 * host-endpoint dispatch chains and their (initially empty) verdict maps, the workload-to-host
 * chain, failsafe chains and port sets, natOutgoing and the pool sets. Depends only on the
 * settings below. Pure.
 *
 *   raw PREROUTING   clear marks → untracked host-endpoint ingress policy
 *   raw OUTPUT       clear marks → untracked host-endpoint egress policy
 *   mangle PREROUTING  established accept → pre-DNAT host-endpoint policy
 *   filter INPUT     established accept, invalid drop → allowed earlier (untracked/pre-DNAT) accept
 *                    → from a workload: wl-to-host → host-endpoint ingress policy
 *   filter FORWARD   established accept, invalid drop → forward host-endpoint ingress (unless
 *                    pre-DNAT allowed) → from-wl-dispatch (egress) → to-wl-dispatch (ingress)
 *                    → forward host-endpoint egress
 *   filter OUTPUT    established accept, invalid drop → allowed earlier accept → to a workload:
 *                    accept (host→local workload is not policed) → host-endpoint egress policy
 *   nat POSTROUTING  masquerade from natOutgoing pools to outside all pools
 *
 * Each host-endpoint map is followed by a jump to the all-interfaces host endpoint's chain
 * (`any-<kind>`, owned by the endpoint manager, as are the elements of `hep-ifaces`) for
 * interfaces with no host endpoint of their own.
 */
import { ChainBuilder, type NftChain, type NftSet } from './model.js';
import { nftAddr } from './render-rule.js';
import { anyHostChain, CHAINS, hexMark, MAPS, MARK_ACCEPT, MARK_ALL, SETS, WORKLOAD_IFACE_PREFIX, type HostChainKind } from './names.js';

/** A failsafe port (FelixConfiguration `failsafe*HostPorts`); `net` limits it to peers in a CIDR. */
export interface PortSpec {
  protocol: string;
  port: number;
  net?: string;
}

export interface StaticSettings {
  /** What happens to workload→host traffic after the workload's egress policy allowed it. */
  defaultEndpointToHostAction: 'Drop' | 'Accept' | 'Return';
  failsafeInbound: PortSpec[];
  failsafeOutbound: PortSpec[];
}

/** Calico's defaults (FelixConfiguration failsafeInboundHostPorts / failsafeOutboundHostPorts). */
export const DEFAULT_STATIC_SETTINGS: StaticSettings = {
  defaultEndpointToHostAction: 'Drop',
  failsafeInbound: [
    { protocol: 'tcp', port: 22 }, { protocol: 'udp', port: 68 }, { protocol: 'tcp', port: 179 }, { protocol: 'tcp', port: 2379 },
    { protocol: 'tcp', port: 2380 }, { protocol: 'tcp', port: 5473 }, { protocol: 'tcp', port: 6443 }, { protocol: 'tcp', port: 6666 },
    { protocol: 'tcp', port: 6667 },
  ],
  failsafeOutbound: [
    { protocol: 'udp', port: 53 }, { protocol: 'udp', port: 67 }, { protocol: 'tcp', port: 179 }, { protocol: 'tcp', port: 2379 },
    { protocol: 'tcp', port: 2380 }, { protocol: 'tcp', port: 5473 }, { protocol: 'tcp', port: 6443 }, { protocol: 'tcp', port: 6666 },
    { protocol: 'tcp', port: 6667 },
  ],
};

const CT_ESTABLISHED = 'ct state established,related accept';
const CT_INVALID = 'ct state invalid counter drop';
const IF_ACCEPTED = `meta mark & ${hexMark(MARK_ACCEPT)} == ${hexMark(MARK_ACCEPT)}`;
const CLEAR_ALL = `meta mark set meta mark & ${hexMark(~MARK_ALL)}`;
const WL = `"${WORKLOAD_IFACE_PREFIX}*"`;

/**
 * After a host-endpoint map: an interface with no host endpoint of its own (not a workload's, not
 * `lo` or a tunnel device: all in hep-ifaces) goes to the all-interfaces host endpoint's chain of
 * that kind (empty when there is none).
 */
function anyHep(dir: 'iif' | 'oif', kind: HostChainKind, cond = ''): string {
  return `${cond}${dir}name != ${WL} ${dir}name != @${SETS.hepIfaces} jump ${anyHostChain(kind)}`;
}

/**
 * Brindle's own tunnels between nodes pass whatever host-endpoint policy says (Felix does the
 * same): VXLAN (UDP 4789) and IPIP from and to another node's address. Other traffic from those
 * addresses is policed as usual.
 */
function tunnelFrom(): string[] {
  return [
    `iifname != ${WL} udp dport ${VXLAN_UDP_PORT} ip saddr @${SETS.nodes4} fib daddr type local accept`,
    `iifname != ${WL} udp dport ${VXLAN_UDP_PORT} ip6 saddr @${SETS.nodes6} fib daddr type local accept`,
    `iifname != ${WL} meta l4proto ipip ip saddr @${SETS.nodes4} fib daddr type local accept`,
  ];
}

function tunnelTo(): string[] {
  return [
    `udp dport ${VXLAN_UDP_PORT} ip daddr @${SETS.nodes4} fib saddr type local accept`,
    `udp dport ${VXLAN_UDP_PORT} ip6 daddr @${SETS.nodes6} fib saddr type local accept`,
    `meta l4proto ipip ip daddr @${SETS.nodes4} fib saddr type local accept`,
  ];
}

/** The VXLAN port (Calico's; vxlan-manager.ts programs the device with it). */
const VXLAN_UDP_PORT = 4789;

export function renderStaticChains(s: StaticSettings): NftChain[] {
  const chains: NftChain[] = [];
  chains.push(new ChainBuilder(CHAINS.rawPrerouting).add(CLEAR_ALL).add(`iifname vmap @${MAPS.fromHepUntracked}`).add(anyHep('iif', 'fhu'))
    .build({ base: { type: 'filter', hook: 'prerouting', priority: 'raw', policy: 'accept' } }));
  chains.push(new ChainBuilder(CHAINS.rawOutput).add(CLEAR_ALL).add(`oifname vmap @${MAPS.toHepUntracked}`).add(anyHep('oif', 'thu'))
    .build({ base: { type: 'filter', hook: 'output', priority: 'raw', policy: 'accept' } }));
  chains.push(new ChainBuilder(CHAINS.manglePrerouting).add(`${IF_ACCEPTED} accept`).add(CT_ESTABLISHED).add(`iifname vmap @${MAPS.fromHepPreDnat}`).add(anyHep('iif', 'fhp'))
    .build({ base: { type: 'filter', hook: 'prerouting', priority: 'mangle', policy: 'accept' } }));
  chains.push(new ChainBuilder(CHAINS.filterInput).add(CT_ESTABLISHED).add(CT_INVALID).add(`${IF_ACCEPTED} accept`)
    .addAll(tunnelFrom())
    .add(`iifname ${WL} jump ${CHAINS.wlToHost}`).add(`iifname vmap @${MAPS.fromHep}`).add(anyHep('iif', 'fh'))
    .build({ base: { type: 'filter', hook: 'input', priority: 'filter', policy: 'accept' } }));
  chains.push(new ChainBuilder(CHAINS.filterForward).add(CT_ESTABLISHED).add(CT_INVALID)
    .add(`meta mark & ${hexMark(MARK_ACCEPT)} == 0 iifname vmap @${MAPS.fromHepFwd}`).add(anyHep('iif', 'fhf', `meta mark & ${hexMark(MARK_ACCEPT)} == 0 `))
    .add(`iifname ${WL} jump ${CHAINS.fromWlDispatch}`).add(`oifname ${WL} jump ${CHAINS.toWlDispatch}`).add(`oifname vmap @${MAPS.toHepFwd}`).add(anyHep('oif', 'thf'))
    .build({ base: { type: 'filter', hook: 'forward', priority: 'filter', policy: 'accept' } }));
  chains.push(new ChainBuilder(CHAINS.filterOutput).add(CT_ESTABLISHED).add(CT_INVALID).add(`${IF_ACCEPTED} accept`)
    .addAll(tunnelTo())
    .add(`oifname ${WL} accept`).add(`oifname vmap @${MAPS.toHep}`).add(anyHep('oif', 'th'))
    .build({ base: { type: 'filter', hook: 'output', priority: 'filter', policy: 'accept' } }));
  chains.push(new ChainBuilder(CHAINS.natPostrouting)
    .add(`ip saddr @${SETS.masqPools4} ip daddr != @${SETS.allPools4} masquerade fully-random`)
    .add(`ip6 saddr @${SETS.masqPools6} ip6 daddr != @${SETS.allPools6} masquerade fully-random`)
    .build({ base: { type: 'nat', hook: 'postrouting', priority: 'srcnat', policy: 'accept' } }));
  chains.push(new ChainBuilder(CHAINS.fromWlDispatch).add(`iifname vmap @${MAPS.fromWl}`).add('counter drop', { label: 'unknown-wl' })
    .build({ comment: 'egress policy of the workload a packet comes from; unknown workload interfaces are dropped' }));
  chains.push(new ChainBuilder(CHAINS.toWlDispatch).add(`oifname vmap @${MAPS.toWl}`).add('counter drop', { label: 'unknown-wl' })
    .build({ comment: 'ingress policy of the workload a packet goes to; unknown workload interfaces are dropped' }));
  const toHost = new ChainBuilder(CHAINS.wlToHost);
  for (const t of ['nd-router-solicit', 'nd-neighbor-solicit', 'nd-neighbor-advert']) toHost.add(`icmpv6 type ${t} accept`);
  toHost.add(`jump ${CHAINS.fromWlDispatch}`);
  toHost.add(s.defaultEndpointToHostAction === 'Accept' ? 'accept' : s.defaultEndpointToHostAction === 'Return' ? 'return' : 'counter drop', { label: 'to-host' });
  chains.push(toHost.build({ comment: 'workload to host: egress policy, then defaultEndpointToHostAction' }));
  chains.push(failsafeChain(CHAINS.failsafeIn, SETS.failsafeIn, 's', s.failsafeInbound));
  chains.push(failsafeChain(CHAINS.failsafeOut, SETS.failsafeOut, 'd', s.failsafeOutbound));
  return chains;
}

/** Ports open to everyone are one set lookup; a port limited to a CIDR is a rule of its own (peer = source inbound, destination outbound). */
function failsafeChain(name: string, set: string, peer: 's' | 'd', ports: PortSpec[]): NftChain {
  const b = new ChainBuilder(name).add(`meta l4proto . th dport @${set} counter accept`);
  for (const p of ports) {
    const a = p.net ? nftAddr(p.net) : undefined;
    if (a) b.add(`${a.family === 4 ? 'ip' : 'ip6'} ${peer}addr ${a.text} meta l4proto ${p.protocol} th dport ${p.port} counter accept`);
  }
  return b.build();
}

function portElements(ports: PortSpec[]): Map<string, string> {
  return new Map(ports.filter((p) => !p.net).map((p) => [`${p.protocol} . ${p.port}`, '']));
}

/** Static sets and maps. Pool sets and dispatch maps start empty; their managers fill them. */
export function renderStaticSets(s: StaticSettings): NftSet[] {
  const map = (name: string): NftSet => ({ name, type: 'ifname', map: true, elements: new Map() });
  return [
    ...Object.values(MAPS).map(map),
    { name: SETS.hepIfaces, type: 'ifname', elements: new Map() },
    { name: SETS.nodes4, type: 'ipv4_addr', elements: new Map() },
    { name: SETS.nodes6, type: 'ipv6_addr', elements: new Map() },
    { name: SETS.failsafeIn, type: 'inet_proto . inet_service', elements: portElements(s.failsafeInbound) },
    { name: SETS.failsafeOut, type: 'inet_proto . inet_service', elements: portElements(s.failsafeOutbound) },
    { name: SETS.masqPools4, type: 'ipv4_addr', interval: true, elements: new Map() },
    { name: SETS.allPools4, type: 'ipv4_addr', interval: true, elements: new Map() },
    { name: SETS.masqPools6, type: 'ipv6_addr', interval: true, elements: new Map() },
    { name: SETS.allPools6, type: 'ipv6_addr', interval: true, elements: new Map() },
  ];
}
