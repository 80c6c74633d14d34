/**
 * Reconciles this node's local workload routes (`<ip>/32 dev cali… scope link proto brindle`)
 * with the kernel through `ip -batch` (one process per batch), and the workload interfaces'
 * sysctls. Routes carry Brindle's own protocol number so they are recognised after a restart with
 * no memory; `resync()` reads them back (`ip -j route show proto N`), re-adds missing ones and
 * removes Brindle routes nothing wants. Also makes sure a route covers 169.254.1.1 (the workloads'
 * gateway): proxy ARP answers only if the node has a route to it that is not a workload interface.
 */
import type { Exec } from '../../base/exec.js';
import { configureWorkloadInterface, type SysctlWriter } from './sysctl.js';

/** Route protocol number of routes Brindle programs (`ip route … proto 76`). */
export const BRINDLE_ROUTE_PROTOCOL = 76;
export const WORKLOAD_GATEWAY = '169.254.1.1';

export interface RouteTableLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export class RouteTable {
  /** dst (canonical CIDR) → interface. */
  private readonly desired = new Map<string, string>();
  private readonly applied = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private readonly configured = new Set<string>();
  private gatewayChecked = false;
  /** Interfaces whose routes failed (interface missing): retried on resync. */
  private readonly pending = new Set<string>();

  constructor(private readonly exec: Exec, private readonly sysctl: SysctlWriter, private readonly log: RouteTableLogger) {}

  get routeCount(): number {
    return this.desired.size;
  }

  setRoute(dst: string, iface: string): void {
    this.desired.set(dst, iface);
    this.dirty.add(dst);
  }

  deleteRoute(dst: string): void {
    if (this.desired.delete(dst)) this.dirty.add(dst);
  }

  async apply(): Promise<void> {
    if (!this.gatewayChecked) await this.ensureGatewayRoute();
    if (this.dirty.size === 0) return;
    const cmds: string[] = [];
    const touched = [...this.dirty];
    this.dirty.clear();
    let configuredNow = 0;
    for (const dst of touched) {
      const want = this.desired.get(dst);
      if (want !== undefined) {
        if (!this.configured.has(want)) {
          // Let timers and the status socket run during a resync of thousands of interfaces.
          if (++configuredNow % 256 === 0) await new Promise((r) => setImmediate(r));
          if (await configureWorkloadInterface(this.sysctl, want)) this.configured.add(want);
          else this.pending.add(dst);
        }
        if (this.applied.get(dst) !== want) cmds.push(`route replace ${dst} dev ${want} scope link proto ${BRINDLE_ROUTE_PROTOCOL}`);
      } else if (this.applied.has(dst)) {
        cmds.push(`route del ${dst} proto ${BRINDLE_ROUTE_PROTOCOL}`);
      }
    }
    if (cmds.length === 0) return;
    try {
      // A full resync at 10,000 endpoints is 10,000 commands: allow for it.
      await this.exec.run('ip', ['-force', '-batch', '-'], { stdin: cmds.join('\n') + '\n', timeoutMs: 30_000 + 10 * cmds.length });
    } catch (err) {
      this.log.warn('some routes could not be programmed (interface not there yet?); retried on resync', { error: (err as Error).message });
    }
    await this.readBack();
    for (const dst of touched) if (this.desired.has(dst) && this.applied.get(dst) !== this.desired.get(dst)) this.pending.add(dst);
  }

  /** Reads the kernel's Brindle routes; repairs missing, wrong and unwanted ones. */
  async resync(): Promise<void> {
    await this.readBack();
    for (const dst of new Set([...this.desired.keys(), ...this.applied.keys(), ...this.pending])) {
      if (this.desired.get(dst) !== this.applied.get(dst)) this.dirty.add(dst);
    }
    for (const dst of this.pending) {
      const iface = this.desired.get(dst);
      if (iface) this.configured.delete(iface);
    }
    this.pending.clear();
    this.gatewayChecked = false;
    await this.apply();
  }

  private async readBack(): Promise<void> {
    this.applied.clear();
    for (const fam of ['-4', '-6']) {
      const { stdout } = await this.exec.run('ip', ['-j', fam, 'route', 'show', 'proto', String(BRINDLE_ROUTE_PROTOCOL)]);
      const routes = JSON.parse(stdout || '[]') as { dst: string; dev?: string }[];
      for (const r of routes) {
        if (r.dst === `${WORKLOAD_GATEWAY}` || !r.dev) continue;
        const dst = r.dst.includes('/') ? r.dst : `${r.dst}/${fam === '-4' ? 32 : 128}`;
        this.applied.set(dst, r.dev);
      }
    }
  }

  private async ensureGatewayRoute(): Promise<void> {
    this.gatewayChecked = true;
    let dev: string | undefined;
    try {
      const { stdout } = await this.exec.run('ip', ['-j', 'route', 'get', WORKLOAD_GATEWAY]);
      dev = (JSON.parse(stdout) as { dev?: string }[])[0]?.dev;
    } catch {
      dev = undefined;
    }
    if (dev && !dev.startsWith('cali')) return;
    try {
      await this.exec.run('ip', ['route', 'replace', `${WORKLOAD_GATEWAY}/32`, 'dev', 'lo', 'proto', String(BRINDLE_ROUTE_PROTOCOL)]);
    } catch (err) {
      this.log.warn(`cannot add a route to ${WORKLOAD_GATEWAY} (workloads' proxy ARP will not answer)`, { error: (err as Error).message });
    }
  }
}
