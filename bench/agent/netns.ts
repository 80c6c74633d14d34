/** Namespaces for the dataplane benchmarks (all named brl-b…<tag>, all deleted by `destroy()`). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function sh(args: string[], input?: string): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 300_000, maxBuffer: 256 << 20 });
}

export function missingTool(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const t of ['ip', 'nft', 'iperf3']) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`]);
    } catch {
      return `${t} is not installed`;
    }
  }
  return undefined;
}

export class BenchNet {
  readonly tag = randomBytes(3).toString('hex');
  readonly node: string;
  private readonly nss: string[] = [];
  private readonly procs: ChildProcess[] = [];

  constructor(kind: string) {
    this.node = this.ns(`brl-b${kind}${this.tag}`);
    sh(['ip', 'netns', 'exec', this.node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // The node's uplink with its address, made first as on a real node. The kernel picks a route's
    // source address from the first interface (in creation order) that has one, so without it
    // every workload route would walk all the thousands of workload interfaces.
    sh(['ip', '-n', this.node, 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplink-peer']);
    sh(['ip', '-n', this.node, 'link', 'set', 'uplink', 'up']);
    sh(['ip', '-n', this.node, 'addr', 'add', '192.168.255.1/24', 'dev', 'uplink']);
  }

  ns(name: string): string {
    sh(['ip', 'netns', 'add', name]);
    this.nss.push(name);
    sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A real workload namespace wired like the CNI plugin does. */
  workload(idx: number, iface: string, ip: string): string {
    const ns = this.ns(`brl-bw${idx}${this.tag}`);
    sh(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', iface, 'netns', this.node]);
    sh(['ip', '-n', this.node, 'link', 'set', iface, 'address', 'ee:ee:ee:ee:ee:ee', 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
    sh(['ip', '-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    return ns;
  }

  /** Interfaces standing in for many workloads' veths: veth pairs inside the node (this kernel has no dummy driver), one `ip -batch`. */
  dummies(ifaces: string[]): void {
    if (ifaces.length) sh(['ip', '-n', this.node, '-batch', '-'], ifaces.map((i) => `link add ${i} type veth peer name q${i.slice(4)}\nlink set ${i} up`).join('\n') + '\n');
  }

  spawn(ns: string, argv: string[], stdout: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', stdout, 'ignore'] });
    this.procs.push(p);
    return p;
  }

  destroy(): void {
    for (const p of this.procs) {
      try {
        if (p.pid) process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const ns of [...this.nss].reverse()) {
      try {
        for (const pid of sh(['ip', 'netns', 'pids', ns]).split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone
          }
        }
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // gone
      }
    }
  }
}
