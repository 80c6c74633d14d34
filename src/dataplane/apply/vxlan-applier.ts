/**
 * VxlanApplier: makes the kernel match a VxlanDesired. A full apply (the first, every `full` one —
 * the manager's resync — and any after a failure) re-reads what the kernel has (the device, its
 * neighbours and FDB entries, and the routes with Brindle's tunnel protocol number) and applies the
 * difference, so a run after a restart or after someone deleted an entry repairs it. In between,
 * an apply diffs against what it last programmed and only runs the commands for that difference. Order on the way up: device → FDB → neighbours → routes (a route never points at an unknown
 * VTEP); removals go routes first. Route and neighbour changes go in one `ip -batch`, FDB changes in
 * one `bridge -batch`. Everything runs through Exec (optionally in a netns).
 */
import type { Exec } from '../../base/exec.js';
import { TUNNEL_ROUTE_PROTO, type TunnelRoute, type VxlanDesired, type VxlanDevice } from '../managers/vxlan-manager.js';

interface LinkJson { ifname: string; address?: string; mtu?: number; operstate?: string; flags?: string[]; linkinfo?: { info_kind?: string; info_data?: { id?: number; port?: number; local?: string; learning?: boolean } } }
interface AddrJson { addr_info?: { local?: string; prefixlen?: number; family?: string }[] }
interface NeighJson { dst: string; lladdr?: string; state?: string[] }
interface FdbJson { mac: string; dst?: string; flags?: string[]; state?: string }
interface RouteJson { dst: string; type?: string; gateway?: string; dev?: string; flags?: string[] }

export interface ApplyStats {
  device: 'kept' | 'created' | 'removed' | 'absent';
  commands: number;
}

export class VxlanApplier {
  constructor(private readonly exec: Exec, private readonly netns?: string, private readonly deviceName = 'vxlan.calico') {}

  private async ip(args: string[], stdin?: string): Promise<string> {
    return (await this.exec.run('ip', args, { netns: this.netns, stdin, timeoutMs: 10_000 })).stdout;
  }

  private async json<T>(cmd: 'ip' | 'bridge', args: string[]): Promise<T[]> {
    const out = (await this.exec.run(cmd, ['-j', ...args], { netns: this.netns, timeoutMs: 10_000 })).stdout.trim();
    return out ? (JSON.parse(out) as T[]) : [];
  }

  private last: VxlanDesired | undefined;

  async apply(d: VxlanDesired, full = false): Promise<ApplyStats> {
    const last = this.last;
    this.last = undefined; // a failure below forces the next apply to be a full one
    const stats = !full && last && sameDevice(last.device, d.device) ? await this.applyDelta(last, d) : await this.applyFull(d);
    this.last = { device: d.device ? { ...d.device } : undefined, neighbours: new Map(d.neighbours), fdb: new Map(d.fdb), routes: new Map(d.routes) };
    return stats;
  }

  private async applyDelta(last: VxlanDesired, d: VxlanDesired): Promise<ApplyStats> {
    const stats: ApplyStats = { device: d.device ? 'kept' : 'absent', commands: 0 };
    const dev = this.deviceName;
    const routeDel: string[] = [];
    const routeAdd: string[] = [];
    for (const [dst, r] of last.routes) if (!d.routes.has(dst)) routeDel.push(`route del ${r.kind === 'blackhole' ? 'blackhole ' : ''}${dst} proto ${TUNNEL_ROUTE_PROTO}`);
    for (const [dst, r] of d.routes) if (!sameTunnelRoute(last.routes.get(dst), r)) routeAdd.push(routeCmd(r));
    const fdb: string[] = [];
    for (const [mac, dst] of d.fdb) if (last.fdb.get(mac) !== dst) fdb.push(`fdb replace ${mac} dev ${dev} dst ${dst} self permanent`);
    for (const [mac, dst] of last.fdb) if (!d.fdb.has(mac)) fdb.push(`fdb del ${mac} dev ${dev} dst ${dst} self`);
    const neigh: string[] = [];
    for (const [ip, mac] of d.neighbours) if (last.neighbours.get(ip) !== mac) neigh.push(`neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`);
    for (const ip of last.neighbours.keys()) if (!d.neighbours.has(ip)) neigh.push(`neigh del ${ip} dev ${dev}`);
    await this.batch('ip', routeDel, stats);
    await this.batch('bridge', fdb, stats);
    await this.batch('ip', [...neigh, ...routeAdd], stats);
    return stats;
  }

  private async applyFull(d: VxlanDesired): Promise<ApplyStats> {
    const stats: ApplyStats = { device: 'absent', commands: 0 };
    const links = await this.json<LinkJson>('ip', ['-d', 'link', 'show']);
    const link = links.find((l) => l.ifname === this.deviceName);
    const routes = await this.json<RouteJson>('ip', ['route', 'show', 'proto', String(TUNNEL_ROUTE_PROTO)]);
    const wantRoutes = [...d.routes.values()];
    const routeCmds: string[] = [];
    // Routes first on the way down.
    for (const r of routes) {
      const want = d.routes.get(normalDst(r.dst));
      if (!want || !sameRoute(r, want)) routeCmds.push(`route del ${r.type === 'blackhole' ? 'blackhole ' : ''}${r.dst} proto ${TUNNEL_ROUTE_PROTO}`);
    }
    if (!d.device) {
      await this.batch('ip', routeCmds, stats);
      if (link) {
        await this.ip(['link', 'del', this.deviceName]);
        stats.device = 'removed';
      }
      await this.batch('ip', wantRoutes.filter((r) => !r.dev).filter((r) => !routes.some((k) => normalDst(k.dst) === r.dst && sameRoute(k, r))).map(routeCmd), stats);
      return stats;
    }
    stats.device = await this.ensureDevice(d.device, link);
    const fdb = stats.device === 'created' ? [] : await this.json<FdbJson>('bridge', ['fdb', 'show', 'dev', this.deviceName]);
    const neigh = stats.device === 'created' ? [] : await this.json<NeighJson>('ip', ['neigh', 'show', 'dev', this.deviceName]);
    const fdbCmds: string[] = [];
    for (const [mac, dst] of d.fdb) if (!fdb.some((f) => f.mac === mac && f.dst === dst)) fdbCmds.push(`fdb replace ${mac} dev ${this.deviceName} dst ${dst} self permanent`);
    for (const f of fdb) if (f.dst && !d.fdb.has(f.mac)) fdbCmds.push(`fdb del ${f.mac} dev ${this.deviceName} dst ${f.dst} self`);
    const neighCmds: string[] = [];
    for (const [ip, mac] of d.neighbours) if (!neigh.some((n) => n.dst === ip && n.lladdr === mac && n.state?.includes('PERMANENT'))) neighCmds.push(`neigh replace ${ip} lladdr ${mac} dev ${this.deviceName} nud permanent`);
    for (const n of neigh) if (!d.neighbours.has(n.dst) && n.state?.includes('PERMANENT')) neighCmds.push(`neigh del ${n.dst} dev ${this.deviceName}`);
    for (const r of wantRoutes) if (!routes.some((k) => normalDst(k.dst) === r.dst && sameRoute(k, r))) routeCmds.push(routeCmd(r));
    await this.batch('bridge', fdbCmds, stats);
    await this.batch('ip', [...neighCmds, ...routeCmds], stats);
    return stats;
  }

  private async batch(cmd: 'ip' | 'bridge', lines: string[], stats: ApplyStats): Promise<void> {
    if (lines.length === 0) return;
    stats.commands += lines.length;
    await this.exec.run(cmd, ['-batch', '-'], { netns: this.netns, stdin: lines.join('\n') + '\n', timeoutMs: 30_000 });
  }

  private async ensureDevice(dev: VxlanDevice, link: LinkJson | undefined): Promise<'kept' | 'created'> {
    const info = link?.linkinfo?.info_data;
    const same = link && link.linkinfo?.info_kind === 'vxlan' && info?.id === dev.vni && info?.port === dev.port && info?.local === dev.localIP && info?.learning === false;
    let created = false;
    if (!same) {
      if (link) await this.ip(['link', 'del', this.deviceName]);
      await this.ip(['link', 'add', this.deviceName, 'type', 'vxlan', 'id', String(dev.vni), 'dstport', String(dev.port), 'local', dev.localIP, 'nolearning']);
      created = true;
    }
    if (created || link?.address !== dev.mac) await this.ip(['link', 'set', this.deviceName, 'address', dev.mac]);
    if (created || link?.mtu !== dev.mtu) await this.ip(['link', 'set', this.deviceName, 'mtu', String(dev.mtu)]);
    if (created || !link?.flags?.includes('UP')) await this.ip(['link', 'set', this.deviceName, 'up']);
    const addrs = created ? [] : await this.json<AddrJson>('ip', ['addr', 'show', 'dev', this.deviceName]);
    const have = addrs.flatMap((a) => a.addr_info ?? []).filter((a) => a.family === 'inet');
    for (const a of have) if (!(a.local === dev.tunnelIP && a.prefixlen === 32)) await this.ip(['addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', this.deviceName]);
    if (!have.some((a) => a.local === dev.tunnelIP && a.prefixlen === 32)) await this.ip(['addr', 'add', `${dev.tunnelIP}/32`, 'dev', this.deviceName]);
    return created ? 'created' : 'kept';
  }
}

function sameDevice(a: VxlanDevice | undefined, b: VxlanDevice | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameTunnelRoute(a: TunnelRoute | undefined, b: TunnelRoute): boolean {
  return !!a && a.kind === b.kind && a.via === b.via && a.dev === b.dev && !!a.onlink === !!b.onlink;
}

function normalDst(dst: string): string {
  return dst.includes('/') ? dst : `${dst}/${dst.includes(':') ? 128 : 32}`;
}

function sameRoute(k: RouteJson, r: TunnelRoute): boolean {
  if (r.kind === 'blackhole') return k.type === 'blackhole';
  if (k.type === 'blackhole') return false;
  return k.gateway === r.via && (!r.dev || k.dev === r.dev) && (!r.onlink || (k.flags ?? []).includes('onlink'));
}

function routeCmd(r: TunnelRoute): string {
  if (r.kind === 'blackhole') return `route replace blackhole ${r.dst} proto ${TUNNEL_ROUTE_PROTO}`;
  return `route replace ${r.dst} via ${r.via}${r.dev ? ` dev ${r.dev}` : ''}${r.onlink ? ' onlink' : ''} proto ${TUNNEL_ROUTE_PROTO}`;
}
