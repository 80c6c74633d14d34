import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCni } from '../../src/cni/installer.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';

/**
 * Test rig for the CNI plugin on the real kernel: a node netns (loopback address and the
 * 169.254.1.1 route proxy ARP needs), pod netns, the plugin installed into a temp dir, and a
 * runner that invokes `<bin>/brindle` inside the node netns exactly as a runtime does (CNI_* env,
 * config on stdin). Names are `brl-<tag>…` with the PID in the tag; everything is removed by
 * `dispose()` (namespaces by name, processes by PID). Nothing runs in the root netns.
 */

export const isRoot = process.getuid?.() === 0;

export interface PluginRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json: Record<string, unknown> | undefined;
  ms: number;
}

let counter = 0;

export class CniRig {
  readonly tag: string;
  readonly dir: string;
  readonly binDir: string;
  readonly confDir: string;
  readonly node: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly servers: Server[] = [];

  constructor(readonly nodeName = 'node-1') {
    this.tag = `${(process.pid % 100000).toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 36 * 36).toString(36)}`;
    this.dir = mkdtempSync(join(tmpdir(), 'brindle-cni-'));
    this.binDir = join(this.dir, 'bin');
    this.confDir = join(this.dir, 'net.d');
    this.node = this.netns('n');
    ip(this.node, 'link set lo up');
    ip(this.node, `addr add 192.168.250.1/32 dev lo`);
    ip(this.node, 'route add 169.254.1.1/32 dev lo');
  }

  async install(datastore: string): Promise<void> {
    await installCni({ binDir: this.binDir, confDir: this.confDir, datastore, node: this.nodeName });
  }

  /** A fresh container netns; returns its path. */
  pod(): string {
    const name = this.netns(`p${this.namespaces.length}`);
    ip(name, 'link set lo up');
    return `/run/netns/${name}`;
  }

  netns(suffix: string): string {
    const name = `brl-${this.tag}${suffix}`;
    sh('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    return name;
  }

  deleteNetns(path: string): void {
    const name = path.replace('/run/netns/', '');
    sh('ip', ['netns', 'del', name]);
  }

  /** The plugin config as a runtime hands it to one plugin of the conflist. */
  conf(version: string, extra: Record<string, unknown> = {}, datastore?: string): Record<string, unknown> {
    const c: Record<string, unknown> = {
      cniVersion: version, name: 'k8s-pod-network', type: 'brindle', nodename: this.nodeName, mtu: 1450,
      ipam: { type: 'brindle-ipam' }, policy: { type: 'k8s' }, ...extra,
    };
    if (datastore) c['datastore'] = datastore;
    return c;
  }

  /** Runs a plugin binary in the node netns. `hangFor` kills it (SIGKILL) once it prints that it hangs. */
  run(command: string, conf: unknown, env: { containerId?: string; netns?: string; ifname?: string; args?: string; extra?: Record<string, string> } = {}, bin = 'brindle', killWhen?: RegExp): Promise<PluginRun> {
    const started = performance.now();
    const child = spawn('ip', ['netns', 'exec', this.node, join(this.binDir, bin)], {
      env: {
        PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command,
        CNI_CONTAINERID: env.containerId ?? '',
        CNI_NETNS: env.netns ?? '',
        CNI_IFNAME: env.ifname ?? 'eth0',
        CNI_ARGS: env.args ?? '',
        CNI_PATH: `${this.binDir}:/usr/lib/cni`,
        ...env.extra,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (killWhen?.test(stderr)) child.kill('SIGKILL');
    });
    child.stdin!.end(typeof conf === 'string' ? conf : JSON.stringify(conf));
    // Generous: the machine running the tests may be shared and heavily loaded.
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    return new Promise((resolve) => {
      child.on('close', (code) => {
        clearTimeout(timer);
        this.children.delete(child);
        let json: Record<string, unknown> | undefined;
        try {
          json = stdout.trim() ? JSON.parse(stdout) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ code, stdout, stderr, json, ms: performance.now() - started });
      });
    });
  }

  /** `ip -j` output of a command in a netns (by name or /run/netns path). */
  ipJson(ns: string, args: string): unknown[] {
    const name = ns.replace('/run/netns/', '');
    return JSON.parse(sh('ip', ['-n', name, '-j', ...args.split(' ')]) || '[]') as unknown[];
  }

  links(ns: string): string[] {
    return (this.ipJson(ns, 'link show') as { ifname: string }[]).map((l) => l.ifname);
  }

  /**
   * Makes 127.0.0.1:<port> inside the node netns reach 127.0.0.1:<port> of the test's own netns
   * (where the etcd test cluster listens): socat in the node netns forwards to a unix socket (a
   * file, so it crosses namespaces), which this process forwards to the real port. Nothing is
   * configured in any netns.
   */
  async forwardLoopback(ports: number[]): Promise<void> {
    for (const port of ports) {
      const path = join(this.dir, `fwd-${port}.sock`);
      const server = createServer((c) => {
        const t = connect(port, '127.0.0.1');
        c.pipe(t);
        t.pipe(c);
        c.on('error', () => t.destroy());
        t.on('error', () => c.destroy());
      });
      await new Promise<void>((resolve) => server.listen(path, resolve));
      this.servers.push(server);
      const child = spawn('ip', ['netns', 'exec', this.node, 'socat', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${path}`], { stdio: 'ignore' });
      this.children.add(child);
    }
    // Wait until every forwarder listens.
    for (let i = 0; i < 100; i++) {
      const out = spawnSync('ip', ['netns', 'exec', this.node, 'ss', '-Hltn'], { encoding: 'utf8' }).stdout;
      if (ports.every((p) => out.includes(`127.0.0.1:${p} `))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the loopback forwarders did not start');
  }

  dispose(): void {
    for (const s of this.servers) s.close();
    for (const c of this.children) c.kill('SIGKILL');
    for (const n of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function ip(ns: string, args: string): string {
  return sh('ip', ['-n', ns, ...args.split(' ')]);
}

export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Creates the pools a test allocates from. */
export async function createPools(ds: Datastore, pools: { name: string; cidr: string; blockSize?: number }[]): Promise<void> {
  const rc = new ResourceClient(ds);
  for (const p of pools) {
    await rc.apply({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: p.name }, spec: { cidr: p.cidr, blockSize: p.blockSize ?? 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: false } });
  }
}
