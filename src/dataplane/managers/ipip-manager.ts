/**
 * IpipManager (Felix's `ipip_mgr.go`, which owns IP-in-IP cluster routes by default): the desired
 * IP-in-IP state of this node from the calculation's routes. No I/O.
 *   device   `tunl0` with the node's `bgp.ipv4IPIPTunnelAddr` /32
 *   ipip     remote block or borrowed /32 → `via <node IP> dev tunl0 onlink`
 *   same subnet in a CrossSubnet pool  → `via <node IP>` (no encapsulation)
 *   local block of an IP-in-IP pool    → blackhole
 * This machine's kernel has no ipip module, so the state is rendered (`ipipCommands`) and
 * unit-tested but not applied; nothing here assumes a kernel.
 */
import type { RouteUpdate } from '../../calc/types.js';
import { TUNNEL_ROUTE_PROTO, type TunnelRoute } from './vxlan-manager.js';

export const IPIP_DEVICE = 'tunl0';

export interface IpipDesired {
  device?: { name: string; address: string; mtu: number };
  routes: Map<string, TunnelRoute>;
}

export class IpipManager {
  private readonly routes = new Map<string, RouteUpdate>();

  constructor(private readonly opts: { tunnelAddress?: string; mtu?: number }) {}

  onRouteUpdate(r: RouteUpdate): void {
    this.routes.set(r.dst, r);
  }

  onRouteRemoved(dst: string): void {
    this.routes.delete(dst);
  }

  desired(): IpipDesired {
    const out: IpipDesired = { routes: new Map() };
    if (this.opts.tunnelAddress) out.device = { name: IPIP_DEVICE, address: this.opts.tunnelAddress, mtu: this.opts.mtu ?? 1480 };
    for (const r of this.routes.values()) {
      if (r.encap !== 'ipip') continue;
      if (r.type === 'local-block') out.routes.set(r.dst, { dst: r.dst, kind: 'blackhole' });
      else if ((r.type === 'remote-block' || r.type === 'remote-workload') && r.nodeIP) {
        out.routes.set(r.dst, r.ipip && out.device
          ? { dst: r.dst, kind: 'unicast', via: r.nodeIP, dev: IPIP_DEVICE, onlink: true }
          : { dst: r.dst, kind: 'unicast', via: r.nodeIP });
      }
    }
    return out;
  }
}

/** The `ip -batch` lines that would program the state (sorted by destination). */
export function ipipCommands(d: IpipDesired): string[] {
  const out: string[] = [];
  if (d.device) {
    out.push(`link add ${d.device.name} type ipip`, `link set ${d.device.name} mtu ${d.device.mtu} up`, `addr replace ${d.device.address}/32 dev ${d.device.name}`);
  }
  for (const r of [...d.routes.values()].sort((a, b) => (a.dst < b.dst ? -1 : a.dst > b.dst ? 1 : 0))) {
    out.push(r.kind === 'blackhole'
      ? `route replace blackhole ${r.dst} proto ${TUNNEL_ROUTE_PROTO}`
      : `route replace ${r.dst} via ${r.via}${r.dev ? ` dev ${r.dev}` : ''}${r.onlink ? ' onlink' : ''} proto ${TUNNEL_ROUTE_PROTO}`);
  }
  return out;
}
