/**
 * RouteResolver (a minimal Felix `l3_route_resolver.go` + `vxlan_resolver.go`): routes this node
 * needs and the VXLAN tunnel endpoints of all nodes, from Nodes, IPPools, IPAM blocks (their
 * `host:<node>` affinity) and workload endpoints. Route kinds:
 *   node IPs            → `local-host` / `remote-host`
 *   VXLAN tunnel IPs    → `tunnel`
 *   affine IPAM blocks  → `local-block` / `remote-block` (VXLAN when the pool says Always, or
 *                         CrossSubnet and the owner is outside this node's subnet; natOutgoing from the pool)
 *   local workload IPs  → `local-workload` (with the interface)
 *   remote workload IPs not inside a block affine to their node (borrowed) → `remote-workload`
 * One destination, one route: the most specific source wins (workload > block > tunnel > host).
 * Block and workload routes name their pool's encapsulation (`encap`), and `ipip` marks routes an
 * IP-in-IP pool tunnels (Always, or CrossSubnet to another subnet): the dataplane programs those.
 * Recomputes only dirty destinations in `flush()`. IPv4 only for VXLAN; no WireGuard.
 */
import { blockFor, cidrContains, cidrCovers, familyBits, formatCidr, formatIp, ipAt, tryParseCidr, tryParseIp, type Cidr } from '../net/cidr.js';
import type { IPPoolSpec, NodeSpec, Resource } from '../api/types.js';
import { nodeAddresses } from './resource-converter.js';
import type { RouteType, RouteUpdate, VtepUpdate } from './types.js';
import { createHash } from 'node:crypto';

export interface RouteCallbacks {
  onRouteUpdate(route: RouteUpdate): void;
  onRouteRemoved(dst: string): void;
  onVtepUpdate(vtep: VtepUpdate): void;
  onVtepRemoved(node: string): void;
}

interface NodeInfo { ip?: string; subnet?: Cidr; tunnelIP?: string; mac?: string }
interface PoolInfo { cidr: Cidr; vxlanMode: string; ipipMode: string; natOutgoing: boolean }
interface Source { kind: 'host' | 'tunnel' | 'block' | 'workload'; node: string; interfaceName?: string }

const RANK: Record<Source['kind'], number> = { workload: 4, block: 3, tunnel: 2, host: 1 };

/** Felix-style MAC for a node without `vxlanTunnelMACAddr`: locally administered, derived from the name. */
export function vtepMacFor(node: string): string {
  const b = createHash('sha256').update(node).digest();
  return [0xee, b[0]!, b[1]!, b[2]!, b[3]!, b[4]!].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export class RouteResolver {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pools = new Map<string, PoolInfo>();
  /** dst → source id → source. */
  private readonly sources = new Map<string, Map<string, Source>>();
  /** source id → dsts it contributes. */
  private readonly dstsOf = new Map<string, string[]>();
  /** block CIDR → owning node, and how many blocks have each prefix length. */
  private readonly blockOwners = new Map<string, string>();
  private readonly blockLengths = new Map<number, number>();
  /** node → source ids naming it. */
  private readonly sourcesByNode = new Map<string, Set<string>>();
  private readonly dirtyDsts = new Set<string>();
  private readonly dirtyVteps = new Set<string>();

  constructor(private readonly hostname: string, private readonly callbacks: RouteCallbacks) {}

  onNodeUpdate(name: string, res: Resource | null): void {
    const old = this.nodes.get(name);
    const info = res ? nodeInfo(res.spec as NodeSpec) : undefined;
    if (info) this.nodes.set(name, info);
    else this.nodes.delete(name);
    this.setSource(`host:${name}`, info?.ip ? [`${info.ip}/32`] : [], { kind: 'host', node: name });
    this.setSource(`tunnel:${name}`, info?.tunnelIP ? [`${info.tunnelIP}/32`] : [], { kind: 'tunnel', node: name });
    this.dirtyVteps.add(name);
    // The local node's subnet decides CrossSubnet for everyone; another node's IP only its own routes.
    if (name === this.hostname && old?.subnet?.base !== info?.subnet?.base) this.markAll();
    else this.markNode(name);
  }

  onPoolUpdate(name: string, res: Resource | null): void {
    const spec = res?.spec as IPPoolSpec | undefined;
    const cidr = spec?.cidr ? tryParseCidr(spec.cidr) : undefined;
    if (spec && cidr) this.pools.set(name, { cidr, vxlanMode: spec.vxlanMode ?? 'Never', ipipMode: spec.ipipMode ?? 'Never', natOutgoing: !!spec.natOutgoing });
    else this.pools.delete(name);
    this.markAll();
  }

  /** An IPAM block value (`{cidr, affinity: 'host:<node>' | null}`) or null. */
  onBlockUpdate(key: string, value: unknown): void {
    const b = value as { cidr?: unknown; affinity?: unknown; deleted?: unknown } | null;
    const cidr = typeof b?.cidr === 'string' ? tryParseCidr(b.cidr) : undefined;
    const node = typeof b?.affinity === 'string' && b.affinity.startsWith('host:') ? b.affinity.slice(5) : undefined;
    for (const d of this.dstsOf.get(`block:${key}`) ?? []) {
      this.blockOwners.delete(d);
      this.countLength(d, -1);
      this.markInside(d);
    }
    if (cidr && node && b?.deleted !== true) {
      const dst = formatCidr(cidr);
      this.blockOwners.set(dst, node);
      this.countLength(dst, +1);
      this.markInside(dst);
      this.setSource(`block:${key}`, [dst], { kind: 'block', node });
    } else {
      this.setSource(`block:${key}`, [], { kind: 'block', node: '' });
    }
  }

  private countLength(dst: string, delta: number): void {
    const len = Number(dst.slice(dst.indexOf('/') + 1));
    const n = (this.blockLengths.get(len) ?? 0) + delta;
    if (n > 0) this.blockLengths.set(len, n);
    else this.blockLengths.delete(len);
  }

  /** Borrowed-IP routes depend on block ownership: re-check the workload addresses inside a block. */
  private markInside(blockDst: string): void {
    const c = tryParseCidr(blockDst)!;
    const hostBits = familyBits(c.family) - c.prefix;
    if (hostBits > 12) {
      for (const [dst, srcs] of this.sources) for (const s of srcs.values()) if (s.kind === 'workload') this.dirtyDsts.add(dst);
      return;
    }
    const suffix = c.family === 4 ? '/32' : '/128';
    for (let i = 0n; i < 1n << BigInt(hostBits); i++) {
      const dst = formatIp(ipAt(c, i)) + suffix;
      if (this.sources.has(dst)) this.dirtyDsts.add(dst);
    }
  }

  onWorkloadUpdate(id: string, ep: { node: string; nets: string[]; interfaceName?: string } | null): void {
    this.setSource(`wep:${id}`, ep ? ep.nets.filter((n) => n.endsWith('/32') || n.endsWith('/128')) : [], {
      kind: 'workload', node: ep?.node ?? '', ...(ep?.interfaceName ? { interfaceName: ep.interfaceName } : {}),
    });
  }

  flush(): void {
    for (const dst of this.dirtyDsts) {
      const r = this.route(dst);
      if (r) this.callbacks.onRouteUpdate(r);
      else this.callbacks.onRouteRemoved(dst);
    }
    this.dirtyDsts.clear();
    for (const name of this.dirtyVteps) {
      const n = this.nodes.get(name);
      if (n?.ip && n.tunnelIP) this.callbacks.onVtepUpdate({ node: name, nodeIP: n.ip, tunnelIP: n.tunnelIP, mac: n.mac ?? vtepMacFor(name) });
      else this.callbacks.onVtepRemoved(name);
    }
    this.dirtyVteps.clear();
  }

  private setSource(id: string, dsts: string[], src: Source): void {
    for (const d of this.dstsOf.get(id) ?? []) {
      const m = this.sources.get(d);
      const oldNode = m?.get(id)?.node;
      m?.delete(id);
      if (m?.size === 0) this.sources.delete(d);
      if (oldNode !== undefined) this.sourcesByNode.get(oldNode)?.delete(id);
      this.dirtyDsts.add(d);
    }
    if (dsts.length === 0) this.dstsOf.delete(id);
    else this.dstsOf.set(id, dsts);
    for (const d of dsts) {
      let m = this.sources.get(d);
      if (!m) this.sources.set(d, (m = new Map()));
      m.set(id, src);
      let byNode = this.sourcesByNode.get(src.node);
      if (!byNode) this.sourcesByNode.set(src.node, (byNode = new Set()));
      byNode.add(id);
      this.dirtyDsts.add(d);
    }
  }

  private markAll(): void {
    for (const d of this.sources.keys()) this.dirtyDsts.add(d);
  }

  private markNode(node: string): void {
    for (const id of this.sourcesByNode.get(node) ?? []) for (const d of this.dstsOf.get(id) ?? []) this.dirtyDsts.add(d);
  }

  private poolOf(dst: string): PoolInfo | undefined {
    const c = tryParseCidr(dst);
    if (!c) return undefined;
    let best: PoolInfo | undefined;
    for (const p of this.pools.values()) if (cidrCovers(p.cidr, c) && (!best || p.cidr.prefix > best.cidr.prefix)) best = p;
    return best;
  }

  private isBorrowed(dst: string, node: string): boolean {
    const c = tryParseCidr(dst);
    if (!c) return true;
    for (const len of this.blockLengths.keys()) {
      if (len > c.prefix) continue;
      const owner = this.blockOwners.get(formatCidr(blockFor({ family: c.family, value: c.base }, len)));
      if (owner !== undefined) return owner !== node;
    }
    return true;
  }

  private route(dst: string): RouteUpdate | undefined {
    const entries = [...(this.sources.get(dst) ?? [])];
    if (entries.length === 0) return undefined;
    // Most specific kind first; ties broken by source ID so the answer never depends on arrival order.
    entries.sort(([ia, a], [ib, b]) => RANK[b.kind] - RANK[a.kind] || (ia < ib ? -1 : ia > ib ? 1 : 0));
    const srcs = entries.map(([, s]) => s);
    const local = (s: Source) => s.node === this.hostname;
    const chosen = srcs.find((s) => s.kind !== 'workload' || local(s) || this.isBorrowed(dst, s.node));
    if (!chosen) return undefined; // a remote workload inside its own node's block: the block route covers it
    const type: RouteType = chosen.kind === 'host' ? (local(chosen) ? 'local-host' : 'remote-host')
      : chosen.kind === 'tunnel' ? 'tunnel'
        : chosen.kind === 'block' ? (local(chosen) ? 'local-block' : 'remote-block')
          : local(chosen) ? 'local-workload' : 'remote-workload';
    const r: RouteUpdate = { dst, type, node: chosen.node };
    const nodeIP = this.nodes.get(chosen.node)?.ip;
    if (nodeIP) r.nodeIP = nodeIP;
    if (chosen.interfaceName && local(chosen)) r.interfaceName = chosen.interfaceName;
    if (chosen.kind === 'block' || chosen.kind === 'workload') {
      const pool = this.poolOf(dst);
      if (pool?.natOutgoing) r.natOutgoing = true;
      if (pool && pool.vxlanMode !== 'Never') r.encap = 'vxlan';
      else if (pool && pool.ipipMode !== 'Never') r.encap = 'ipip';
      if (pool && !local(chosen) && this.wantsVxlan(pool, chosen.node)) r.vxlan = true;
      if (pool && !local(chosen) && r.encap === 'ipip' && this.wantsEncap(pool.ipipMode, chosen.node)) r.ipip = true;
    }
    return r;
  }

  private wantsVxlan(pool: PoolInfo, node: string): boolean {
    const n = this.nodes.get(node);
    if (!n?.ip || !n.tunnelIP) return false; // no VTEP to send to
    return this.wantsEncap(pool.vxlanMode, node);
  }

  /** Always, or CrossSubnet and the node is outside this node's subnet. */
  private wantsEncap(mode: string, node: string): boolean {
    const n = this.nodes.get(node);
    if (!n?.ip) return false;
    if (mode === 'Always') return true;
    if (mode !== 'CrossSubnet') return false;
    const mine = this.nodes.get(this.hostname)?.subnet;
    const ip = tryParseIp(n.ip);
    return !mine || !ip || !cidrContains(mine, ip);
  }
}

function nodeInfo(spec: NodeSpec | undefined): NodeInfo {
  const info: NodeInfo = {};
  const a = nodeAddresses(spec);
  if (a.ipv4 !== undefined) info.ip = a.ipv4;
  if (a.ipv4Subnet !== undefined) info.subnet = a.ipv4Subnet;
  const tunnel = spec?.ipv4VXLANTunnelAddr ? tryParseCidr(spec.ipv4VXLANTunnelAddr, { allowBareIp: true }) : undefined;
  if (tunnel) info.tunnelIP = formatIp({ family: tunnel.family, value: tunnel.address });
  if (spec?.vxlanTunnelMACAddr) info.mac = spec.vxlanTunnelMACAddr.toLowerCase();
  return info;
}
