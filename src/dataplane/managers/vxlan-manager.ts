/**
 * VxlanManager (Felix's `vxlan_mgr.go`): translates the calculation's VTEP and route messages into
 * the desired VXLAN state of this node. No I/O: `desired()` is what a kernel applier programs.
 *   own VTEP            → device `vxlan.calico` (VNI 4096, UDP 4789, nolearning, local = node IP,
 *                         address = tunnel IP /32, stable MAC, MTU = underlay − 50)
 *   each remote VTEP    → permanent neighbour `tunnelIP → MAC` and FDB `MAC → node IP`
 *   remote block/borrowed /32 tunnelled (`vxlan`) → `via <remote tunnel IP> dev vxlan.calico onlink`,
 *                         only once that node's VTEP is known (VTEP before route)
 *   VXLAN pool, same subnet (CrossSubnet)        → `via <node IP>` (plain route on the underlay)
 *   VXLAN pool, local block                      → blackhole (unallocated addresses go nowhere)
 * With `programNoEncapRoutes` (no BIRD on this node) it also programs plain routes for pools without
 * encapsulation. It does NOT program local workload routes (the endpoint manager does) nor
 * anything BIRD owns.
 */
import type { RouteUpdate, VtepUpdate } from '../../calc/types.js';

export const VXLAN_DEVICE = 'vxlan.calico';
export const VXLAN_VNI = 4096;
export const VXLAN_PORT = 4789;
/** Kernel route protocol number marking routes Brindle's tunnel managers own. */
export const TUNNEL_ROUTE_PROTO = 81;

export interface VxlanDevice {
  name: string;
  vni: number;
  port: number;
  localIP: string;
  mac: string;
  tunnelIP: string;
  mtu: number;
}

export interface TunnelRoute {
  dst: string;
  kind: 'unicast' | 'blackhole';
  via?: string;
  dev?: string;
  onlink?: boolean;
}

export interface VxlanDesired {
  device?: VxlanDevice;
  /** tunnel IP → MAC */
  neighbours: Map<string, string>;
  /** MAC → node IP */
  fdb: Map<string, string>;
  routes: Map<string, TunnelRoute>;
}

export interface VxlanManagerOptions {
  hostname: string;
  /** MTU of the VXLAN device (default 1450: a 1500 underlay minus 50 bytes of encapsulation). */
  mtu?: number;
  programNoEncapRoutes?: boolean;
  deviceName?: string;
  /** Programs `desired()` (the agent passes a VxlanApplier); without one the manager only translates. */
  applier?: { apply(d: VxlanDesired, full?: boolean): Promise<unknown> };
}

export class VxlanManager {
  readonly name = 'vxlan';
  private applied = false;
  private readonly vteps = new Map<string, VtepUpdate>();
  private readonly routes = new Map<string, RouteUpdate>();
  private dirty = true;
  private cached: VxlanDesired | undefined;

  constructor(private readonly opts: VxlanManagerOptions) {}

  onVtepUpdate(v: VtepUpdate): void {
    this.vteps.set(v.node, v);
    this.dirty = true;
  }

  onVtepRemoved(node: string): void {
    if (this.vteps.delete(node)) this.dirty = true;
  }

  onRouteUpdate(r: RouteUpdate): void {
    this.routes.set(r.dst, r);
    this.dirty = true;
  }

  onRouteRemoved(dst: string): void {
    if (this.routes.delete(dst)) this.dirty = true;
  }

  /** True when something changed since the last `desired()`; the driver applies only then (or on resync). */
  get isDirty(): boolean {
    return this.dirty;
  }

  completeDeferredWork(): void {
    if (this.dirty) {
      this.cached = undefined;
      this.applied = false;
    }
  }

  /** Kernel work after the batch (the dataplane driver calls it): only when something changed. */
  async apply(): Promise<void> {
    if (!this.opts.applier || (this.applied && !this.dirty)) return;
    await this.opts.applier.apply(this.desired());
    this.applied = true;
  }

  /** Periodic read-back: the applier diffs against the kernel, so this repairs drift. */
  async resync(): Promise<void> {
    if (this.opts.applier) await this.opts.applier.apply(this.desired(), true);
  }

  desired(): VxlanDesired {
    if (this.cached && !this.dirty) return this.cached;
    const name = this.opts.deviceName ?? VXLAN_DEVICE;
    const mine = this.vteps.get(this.opts.hostname);
    const out: VxlanDesired = { neighbours: new Map(), fdb: new Map(), routes: new Map() };
    if (mine) {
      out.device = { name, vni: VXLAN_VNI, port: VXLAN_PORT, localIP: mine.nodeIP, mac: mine.mac, tunnelIP: mine.tunnelIP, mtu: this.opts.mtu ?? 1450 };
      for (const v of this.vteps.values()) {
        if (v.node === this.opts.hostname) continue;
        out.neighbours.set(v.tunnelIP, v.mac);
        out.fdb.set(v.mac, v.nodeIP);
      }
    }
    for (const r of this.routes.values()) {
      const route = this.routeFor(r, out.device !== undefined, name);
      if (route) out.routes.set(r.dst, route);
    }
    this.cached = out;
    this.dirty = false;
    return out;
  }

  private routeFor(r: RouteUpdate, haveDevice: boolean, dev: string): TunnelRoute | undefined {
    const remote = r.type === 'remote-block' || r.type === 'remote-workload';
    if (r.type === 'local-block' && (r.encap === 'vxlan' || (this.opts.programNoEncapRoutes && !r.encap))) return { dst: r.dst, kind: 'blackhole' };
    if (!remote || !r.node) return undefined;
    if (r.vxlan) {
      const v = this.vteps.get(r.node);
      return haveDevice && v ? { dst: r.dst, kind: 'unicast', via: v.tunnelIP, dev, onlink: true } : undefined;
    }
    if (!r.nodeIP) return undefined;
    if (r.encap === 'vxlan' || (this.opts.programNoEncapRoutes && !r.encap)) return { dst: r.dst, kind: 'unicast', via: r.nodeIP };
    return undefined;
  }
}
