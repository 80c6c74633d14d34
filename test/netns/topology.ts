/**
 * A node namespace with workload namespaces wired as the CNI plugin does (veth `cali<11 hex>` on
 * the node side with MAC ee:ee:ee:ee:ee:ee, the workload's /32 on its eth0, default route via
 * 169.254.1.1), plus TCP/UDP echo servers and probes. Every name carries a per-run tag; `destroy()`
 * kills what it started and deletes the namespaces. Nothing touches the root namespace.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function sh(args: string[], input?: string): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000 });
}

export function canRunNetns(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const tool of ['ip', 'nft', 'socat']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

export interface Workload {
  name: string;
  ns: string;
  ip: string;
  iface: string;
}

export class Topology {
  readonly tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`.slice(-7);
  readonly node = `brl-n${this.tag}`;
  readonly workloads: Workload[] = [];
  private readonly nss: string[] = [];
  private readonly procs: ChildProcess[] = [];

  constructor() {
    this.addNs(this.node);
    sh(['ip', 'netns', 'exec', this.node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  }

  private addNs(ns: string): void {
    sh(['ip', 'netns', 'add', ns]);
    this.nss.push(ns);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }

  addWorkload(name: string, ip: string): Workload {
    const ns = `brl-w${this.workloads.length}${this.tag}`;
    const iface = `cali${randomBytes(6).toString('hex').slice(0, 11)}`;
    this.addNs(ns);
    sh(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', iface, 'netns', this.node]);
    sh(['ip', '-n', this.node, 'link', 'set', iface, 'address', 'ee:ee:ee:ee:ee:ee']);
    sh(['ip', '-n', this.node, 'link', 'set', iface, 'up']);
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
    sh(['ip', '-n', ns, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    const w = { name, ns, ip, iface };
    this.workloads.push(w);
    // Echo servers: TCP 8080, UDP 8081.
    this.spawnIn(ns, ['socat', 'TCP4-LISTEN:8080,fork,reuseaddr', 'PIPE']);
    this.spawnIn(ns, ['socat', 'UDP4-RECVFROM:8081,fork', 'PIPE']);
    return w;
  }

  spawnIn(ns: string, argv: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore' });
    this.procs.push(p);
    return p;
  }

  /** True if `from` gets an echo back from `to` over TCP 8080 / UDP 8081 within ~1.5 s. */
  probe(from: Workload, to: Workload, proto: 'tcp' | 'udp'): boolean {
    const target = proto === 'tcp' ? `TCP4:${to.ip}:8080,connect-timeout=1.5` : `UDP4:${to.ip}:8081`;
    try {
      const out = execFileSync('ip', ['netns', 'exec', from.ns, 'socat', '-T1.5', '-', target], { input: 'ping\n', encoding: 'utf8', timeout: 5000, stdio: ['pipe', 'pipe', 'ignore'] });
      return out.includes('ping');
    } catch {
      return false;
    }
  }

  destroy(): void {
    for (const p of this.procs) {
      try {
        if (p.pid) process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const ns of this.nss.reverse()) {
      try {
        sh(['ip', 'netns', 'pids', ns]).split('\n').filter(Boolean).forEach((pid) => {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone
          }
        });
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }
}
