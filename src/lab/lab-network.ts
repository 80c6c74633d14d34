import type { Exec } from '../base/exec.js';
import { fabricNetns, fabricPort, UNDERLAY_BITS } from './lab-names.js';

/**
 * The lab's network namespaces: the fabric (`brl-<lab>-fab`, a bridge `br0` standing for the
 * underlay switch) and one namespace per node, joined to the fabric by a veth (`eth0` in the node,
 * `fab-nN` in the fabric) that is created inside the namespaces, never in the root one. A node
 * gets its underlay address, IP forwarding, rp_filter off, and `169.254.1.1/32 dev lo` (proxy ARP
 * for the workloads' gateway only answers when the node has a route covering it that does not go
 * out the workload's interface: machine-findings §1). Every step is idempotent. Does not start
 * anything; removing a namespace first kills what runs in it (`ip netns pids`).
 */
export class LabNetwork {
  constructor(private readonly exec: Exec, private readonly lab: string) {}

  async listNetns(): Promise<Set<string>> {
    const { stdout } = await this.exec.run('ip', ['netns', 'list']);
    return new Set(stdout.split('\n').map((l) => l.trim().split(' ')[0]!).filter((n) => n !== ''));
  }

  /** Creates the namespace with `lo` up, unless it exists. Returns true if it was created. */
  async ensureNetns(name: string): Promise<boolean> {
    if ((await this.listNetns()).has(name)) return false;
    await this.exec.run('ip', ['netns', 'add', name]);
    await this.exec.run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return true;
  }

  async ensureFabric(): Promise<void> {
    const fab = fabricNetns(this.lab);
    await this.ensureNetns(fab);
    if (!(await this.linkExists(fab, 'br0'))) {
      await this.exec.run('ip', ['-n', fab, 'link', 'add', 'br0', 'type', 'bridge']);
    }
    await this.exec.run('ip', ['-n', fab, 'link', 'set', 'br0', 'up']);
  }

  async ensureNode(netns: string, index: number, ip: string): Promise<void> {
    const fab = fabricNetns(this.lab);
    await this.ensureNetns(netns);
    await this.sysctl(netns, {
      'net.ipv4.ip_forward': '1',
      'net.ipv4.conf.all.rp_filter': '0',
      'net.ipv4.conf.default.rp_filter': '0',
      'net.ipv6.conf.all.forwarding': '1',
    });
    const port = fabricPort(index);
    if (!(await this.linkExists(netns, 'eth0'))) {
      // A half-made pair from a crash: the fabric end alone would block the name.
      await this.exec.run('ip', ['-n', fab, '-force', '-batch', '-'], { stdin: `link del ${port}\n` }).catch(() => undefined);
      await this.exec.run('ip', ['-n', netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', fab]);
    }
    await this.exec.run('ip', ['-n', fab, '-batch', '-'], { stdin: `link set ${port} master br0\nlink set ${port} up\n` });
    await this.exec.run('ip', ['-n', netns, '-batch', '-'], { stdin: `link set eth0 up\naddr replace ${ip}/${UNDERLAY_BITS} dev eth0\nroute replace 169.254.1.1/32 dev lo\n` });
  }

  /** Kills every process inside the namespace (by PID, SIGKILL), then deletes it. Idempotent. */
  async deleteNetns(name: string): Promise<void> {
    if (!(await this.listNetns()).has(name)) return;
    for (let round = 0; round < 5; round++) {
      const pids = await this.netnsPids(name);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.exec.run('ip', ['netns', 'del', name]);
  }

  async netnsPids(name: string): Promise<number[]> {
    try {
      const { stdout } = await this.exec.run('ip', ['netns', 'pids', name]);
      return stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
    } catch {
      return [];
    }
  }

  async linkExists(netns: string, link: string): Promise<boolean> {
    try {
      await this.exec.run('ip', ['-n', netns, 'link', 'show', 'dev', link]);
      return true;
    } catch {
      return false;
    }
  }

  private async sysctl(netns: string, values: Record<string, string>): Promise<void> {
    await this.exec.run('sysctl', ['-qw', ...Object.entries(values).map(([k, v]) => `${k}=${v}`)], { netns });
  }
}
