import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ProcessExec } from '../../../src/base/exec.js';

/**
 * Test topologies built from network namespaces (never touching the root namespace): a fabric
 * namespace with one bridge per subnet (and, with two subnets, routing between them), node
 * namespaces with `eth0` on a subnet, and Calico-style workloads (a namespace with a /32 behind a
 * `cali…` veth, proxy ARP on the node side). Names carry a random tag so parallel runs never
 * collide; `destroy()` deletes every namespace it made and is safe to call twice.
 */

export const exec = new ProcessExec();

export function canRunNetns(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 is not installed';
  return undefined;
}

export function hasCommand(cmd: string, args = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined;
}

export interface NodeNs {
  name: string;
  ns: string;
  ip: string;
  /** `10.192.0.2/24` */
  cidr: string;
  subnet: number;
}

export interface Workload {
  ns: string;
  ip: string;
  node: NodeNs;
  hostIface: string;
}

function sh(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function sysctl(ns: string, ...kv: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', ...kv], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class Topology {
  readonly tag = `b${randomBytes(3).toString('hex')}`;
  readonly fabric = `${this.tag}-fab`;
  readonly nodes: NodeNs[] = [];
  readonly workloads: Workload[] = [];
  private readonly made: string[] = [];
  private wlCount = 0;

  /** `subnets` gives each node's subnet index (0 → 10.192.0.0/24, 1 → 10.193.0.0/24). */
  static create(subnets: number[]): Topology {
    const t = new Topology();
    try {
      t.build(subnets);
    } catch (e) {
      t.destroy();
      throw e;
    }
    return t;
  }

  private addNs(name: string): string {
    sh(['netns', 'add', name]);
    this.made.push(name);
    sh(['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  private build(subnets: number[]): void {
    this.addNs(this.fabric);
    sysctl(this.fabric, 'net.ipv4.ip_forward=1');
    for (const s of new Set(subnets)) {
      sh(['-n', this.fabric, 'link', 'add', `br${s}`, 'type', 'bridge']);
      sh(['-n', this.fabric, 'addr', 'add', `10.${192 + s}.0.1/24`, 'dev', `br${s}`]);
      sh(['-n', this.fabric, 'link', 'set', `br${s}`, 'up']);
    }
    subnets.forEach((s, i) => {
      const name = `node-${i + 1}`;
      const ns = this.addNs(`${this.tag}-n${i + 1}`);
      const ip = `10.${192 + s}.0.${i + 2}`;
      sysctl(ns, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
      sh(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i + 1}`, 'netns', this.fabric]);
      sh(['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      sh(['-n', ns, 'link', 'set', 'eth0', 'up']);
      sh(['-n', this.fabric, 'link', 'set', `p${i + 1}`, 'master', `br${s}`, 'up']);
      sh(['-n', ns, 'route', 'add', 'default', 'via', `10.${192 + s}.0.1`]);
      this.nodes.push({ name, ns, ip, cidr: `${ip}/24`, subnet: s });
    });
  }

  node(i: number): NodeNs {
    return this.nodes[i]!;
  }

  /** A workload with `ip` (/32) on `node`, wired as the CNI plugin does; `routeOnNode` adds `/32 dev cali…`. */
  addWorkload(node: NodeNs, ip: string, opts: { routeOnNode?: boolean; mtu?: number } = {}): Workload {
    const n = ++this.wlCount;
    const ns = this.addNs(`${this.tag}-w${n}`);
    const hostIface = `cali${this.tag.slice(1)}${n}`;
    sh(['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', hostIface, 'netns', node.ns]);
    sh(['-n', node.ns, 'link', 'set', hostIface, 'address', 'ee:ee:ee:ee:ee:ee']);
    if (opts.mtu) {
      sh(['-n', ns, 'link', 'set', 'eth0', 'mtu', String(opts.mtu)]);
      sh(['-n', node.ns, 'link', 'set', hostIface, 'mtu', String(opts.mtu)]);
    }
    sh(['-n', node.ns, 'link', 'set', hostIface, 'up']);
    sh(['-n', ns, 'link', 'set', 'eth0', 'up']);
    sysctl(node.ns, `net.ipv4.conf.${hostIface}.proxy_arp=1`, `net.ipv4.neigh.${hostIface}.proxy_delay=0`, `net.ipv4.conf.${hostIface}.forwarding=1`);
    sh(['-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
    sh(['-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    sh(['-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    if (opts.routeOnNode !== false) sh(['-n', node.ns, 'route', 'add', `${ip}/32`, 'dev', hostIface, 'scope', 'link']);
    const w = { ns, ip, node, hostIface };
    this.workloads.push(w);
    return w;
  }

  /** One ping with a short deadline; true when answered. */
  ping(fromNs: string, ip: string, timeoutS = 1): boolean {
    return spawnSync('ip', ['netns', 'exec', fromNs, 'ping', '-c', '1', '-W', String(timeoutS), '-q', ip], { stdio: 'ignore' }).status === 0;
  }

  routes(ns: string, args: string[] = []): string {
    return execFileSync('ip', ['-n', ns, 'route', 'show', ...args], { encoding: 'utf8' });
  }

  destroy(): void {
    for (const ns of this.made.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
}

/** Polls `check` every 20 ms until it returns true or `timeoutMs` passes; returns the elapsed ms or throws. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
