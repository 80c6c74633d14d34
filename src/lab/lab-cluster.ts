import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exec } from '../base/exec.js';
import type { Datastore } from '../datastore/datastore.js';
import { openDatastore } from '../datastore/open.js';
import { ConflictError } from '../errors.js';
import { BRINDLE_BIN } from './brindle-paths.js';
import { startAgent, waitAgentsReady } from './lab-agents.js';
import { bootstrapDatastore } from './lab-datastore-init.js';
import { describeFlowLogs, flowLogAgentArgs, flowLogsDiffer, LAB_FLOW_SYSCTLS, labFlowLogs, type LabFlowLogOptions } from './lab-flow-logs.js';
import { startLabEtcd, startNodeRelays, waitEtcdHealthy } from './lab-etcd.js';
import { fabricNetns, nodeName, nodeNetns, underlayIp } from './lab-names.js';
import { LabNetwork } from './lab-network.js';
import type { LabProgress } from './lab-progress.js';
import { LabStateStore, type DatastoreKind, type LabNode, type LabProcess, type LabState, type Routing } from './lab-state.js';
import { cniBinDir, cniConfDir } from './lab-workloads.js';
import { isRunning, stopProcess } from './process-supervisor.js';
import { waitBgpMesh } from './lab-routing.js';

/**
 * `brindle lab up|down`: builds a whole cluster on one machine out of network namespaces (a fabric
 * bridge, N nodes with underlay addresses), a datastore (the lab's SQLite file, or a 3-member etcd
 * on loopback), the CNI configuration of each node and one agent per node (which runs BIRD or
 * VXLAN), with `flowLogs` recording flows on every node into one store. `up` is idempotent: what exists and runs is kept, what is missing or dead is made again.
 * `down` removes every process, namespace and file listed in the state, also after a crash, and
 * does nothing when there is nothing to remove.
 */

export interface LabUpOptions {
  nodes: number;
  routing: Routing;
  datastore: DatastoreKind;
  /** false builds namespaces and the datastore only: no CNI configuration, no agents (tests of the lab itself). */
  agents?: boolean;
  /** Agents record flows (`--flow-logs`) into one store for the whole lab. */
  flowLogs?: LabFlowLogOptions;
}

export class LabCluster {
  readonly store: LabStateStore;
  readonly network: LabNetwork;

  constructor(private readonly exec: Exec, root: string, readonly name: string, private readonly progress: LabProgress) {
    this.store = new LabStateStore(root, name);
    this.network = new LabNetwork(exec, name);
  }

  get logDir(): string {
    return join(this.store.dir, 'logs');
  }

  async up(opts: LabUpOptions): Promise<LabState> {
    return this.store.withLock(async () => {
      const existing = this.store.load();
      if (existing) checkSameShape(existing, opts);
      const state: LabState = existing ?? {
        version: 1, name: this.name, createdAt: new Date().toISOString(), routing: opts.routing,
        datastore: { kind: opts.datastore, url: opts.datastore === 'sqlite' ? `sqlite:${join(this.store.dir, 'brindle.db')}` : '' },
        nodes: [], namespaces: [], processes: [], workloads: [],
      };
      if (opts.flowLogs && !state.flowLogs) state.flowLogs = labFlowLogs(opts.flowLogs, this.store.dir, state.datastore.url, state.datastore.kind);
      const save = () => this.store.save(state);
      mkdirSync(this.logDir, { recursive: true });
      save();
      this.progress.note(`lab ${this.name}: ${opts.nodes} node(s), routing ${opts.routing}, datastore ${opts.datastore}, ${describeFlowLogs(state.flowLogs)}; state in ${this.store.dir}`);

      let etcdPorts: number[] = [];
      if (opts.datastore === 'etcd') etcdPorts = await this.progress.step('etcd: 3 members on 127.0.0.1', () => this.ensureEtcd(state, save));
      const ds = await openDatastore(state.datastore.url);
      try {
        await this.progress.step(`datastore ${state.datastore.url}: default IP pool 10.65.0.0/16 (${opts.routing === 'vxlan' ? 'VXLAN Always' : 'routed'}), BGP mesh AS 64512`, () => bootstrapDatastore(ds, opts.routing));
      } finally {
        await ds.close();
      }

      const fab = fabricNetns(this.name);
      this.record(state, fab, save);
      await this.progress.step(`fabric namespace ${fab} (bridge br0)`, () => this.network.ensureFabric());
      const nodes: LabNode[] = [];
      for (let i = 1; i <= opts.nodes; i++) {
        const name = nodeName(i);
        const node: LabNode = state.nodes.find((n) => n.name === name) ?? { name, index: i, netns: nodeNetns(this.name, name), ip: underlayIp(i), runDir: join(this.store.dir, 'nodes', name) };
        if (!state.nodes.includes(node)) state.nodes.push(node);
        this.record(state, node.netns, save);
        nodes.push(node);
      }
      // The first node's CNI install bundles the plugin the others copy; then all nodes at once.
      const buildNode = (node: LabNode) => this.progress.step(`node ${node.name}: namespace ${node.netns}, underlay ${node.ip}/24, forwarding on${opts.agents !== false ? ', CNI config' : ''}`, async () => {
        await this.network.ensureNode(node.netns, node.index, node.ip);
        if (state.flowLogs) await this.exec.run('sysctl', ['-qw', ...Object.entries(LAB_FLOW_SYSCTLS).map(([k, v]) => `${k}=${v}`)], { netns: node.netns });
        if (opts.agents !== false) await this.installCni(node, state.datastore.url, nodes[0]!);
        if (etcdPorts.length > 0) this.ensureProcesses(state, save, `relay:`, `:${node.name}`, () => startNodeRelays(this.store.dir, node.name, node.netns, etcdPorts));
      });
      await buildNode(nodes[0]!);
      await runBounded(nodes.slice(1), 4, buildNode);
      if (opts.agents === false) return state;

      const agents = new Map<string, LabProcess>();
      await this.progress.step(`agents: brindle agent in each node namespace, ready after the first in-sync apply`, async () => {
        for (const node of state.nodes) {
          const role = `agent:${node.name}`;
          let p = state.processes.find((x) => x.role === role && isRunning(x));
          if (!p) {
            state.processes = state.processes.filter((x) => x.role !== role);
            p = startAgent(node, state.datastore.url, this.logDir, state.flowLogs ? flowLogAgentArgs(state.flowLogs) : []);
            state.processes.push(p);
            save();
          }
          agents.set(node.name, p);
        }
        await waitAgentsReady(state.nodes, agents);
      });
      if (opts.routing === 'bgp' && state.nodes.length > 1) {
        await this.progress.step(`BGP: full mesh of ${state.nodes.length} nodes established`, () => waitBgpMesh(this.exec, state.nodes, (w) => this.progress.note(`WARNING: ${w}`)));
      }
      return state;
    });
  }

  async down(): Promise<boolean> {
    if (!existsSync(this.store.dir)) return false;
    return this.store.withLock(async () => {
      const state = this.store.load();
      if (state) {
        await this.progress.step(`stop ${state.processes.length} process(es)`, async () => {
          // Servers and agents first (they use the datastore), etcd last.
          const order = (p: LabProcess) => (p.role.startsWith('etcd:') ? 2 : p.role.startsWith('relay:') ? 1 : 0);
          // The lab's etcd data is thrown away with it: no need to wait for a clean member shutdown.
          for (const rank of [0, 1, 2]) await Promise.all(state.processes.filter((p) => order(p) === rank).map((p) => stopProcess(p, rank === 2 ? 300 : 3000)));
        });
        await this.progress.step(`delete ${state.namespaces.length} namespace(s)`, async () => {
          for (const ns of [...state.namespaces].reverse()) await this.network.deleteNetns(ns);
        });
      }
      this.store.remove();
      return true;
    });
  }

  /** Opens the lab's datastore (the caller closes it). */
  async datastore(): Promise<Datastore> {
    const s = this.store.load();
    if (!s) throw new ConflictError(`lab "${this.name}" is not up; run brindle lab up --name ${this.name}`);
    return openDatastore(s.datastore.url);
  }

  private record(state: LabState, netns: string, save: () => void): void {
    if (!state.namespaces.includes(netns)) {
      state.namespaces.push(netns);
      save();
    }
  }

  private async ensureEtcd(state: LabState, save: () => void): Promise<number[]> {
    const members = state.processes.filter((p) => p.role.startsWith('etcd:') || /^relay:m\d+$/.test(p.role));
    const ports = state.datastore.url.replace('etcd://', '').split(',').filter((x) => x !== '').map((hp) => Number(hp.split(':')[1]));
    if (members.length === 6 && members.every(isRunning) && ports.length === 3) return ports;
    // A member died (or the lab is new): a fresh cluster; the agents and relays follow it.
    for (const p of state.processes.filter((x) => x.role.startsWith('etcd:') || x.role.startsWith('relay:') || x.role.startsWith('agent:'))) await stopProcess(p);
    state.processes = state.processes.filter((x) => !(x.role.startsWith('etcd:') || x.role.startsWith('relay:') || x.role.startsWith('agent:')));
    // The CNI configuration names the datastore: written again for the new cluster.
    for (const n of state.nodes) rmSync(join(n.runDir, 'cni'), { recursive: true, force: true });
    const etcd = await startLabEtcd(this.store.dir, this.name);
    state.processes.push(...etcd.processes);
    state.datastore.url = etcd.url;
    save();
    await waitEtcdHealthy(etcd, this.store.dir);
    return etcd.clientPorts;
  }

  private ensureProcesses(state: LabState, save: () => void, prefix: string, suffix: string, start: () => LabProcess[]): void {
    const mine = state.processes.filter((p) => p.role.startsWith(prefix) && p.role.endsWith(suffix));
    if (mine.length > 0 && mine.every(isRunning)) return;
    state.processes = state.processes.filter((p) => !mine.includes(p));
    state.processes.push(...start());
    save();
  }

  /**
   * `brindle cni install` bundles the plugin (seconds): it runs once per lab, for the first node;
   * every other node gets the same plugin files and that configuration list with its own
   * `nodename`. A list without that field (another format) falls back to a full install per node.
   */
  private async installCni(node: LabNode, url: string, first: LabNode): Promise<void> {
    const conf = (n: LabNode) => join(cniConfDir(n), CONFLIST);
    if (existsSync(join(cniBinDir(node), 'brindle')) && existsSync(conf(node))) return;
    const install = (n: LabNode) => this.exec.run(process.execPath, [BRINDLE_BIN, '--datastore', url, 'cni', 'install', '--bin-dir', cniBinDir(n), '--conf-dir', cniConfDir(n), '--node', n.name], { timeoutMs: 120_000 });
    if (node !== first) {
      if (!existsSync(conf(first))) await this.installCni(first, url, first);
      const list = JSON.parse(readFileSync(conf(first), 'utf8')) as { plugins?: Record<string, unknown>[] };
      const plugin = list.plugins?.find((p) => p['type'] === 'brindle' && typeof p['nodename'] === 'string');
      if (plugin) {
        plugin['nodename'] = node.name;
        mkdirSync(cniConfDir(node), { recursive: true });
        cpSync(cniBinDir(first), cniBinDir(node), { recursive: true });
        writeFileSync(conf(node), JSON.stringify(list, null, 2));
        return;
      }
    }
    await install(node);
    if (!existsSync(conf(node))) throw new Error(`brindle cni install wrote no ${conf(node)}`);
  }
}

const CONFLIST = '10-brindle.conflist';

/** Runs `fn` over `items`, at most `limit` at a time. */
async function runBounded<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

function checkSameShape(s: LabState, o: LabUpOptions): void {
  const have = `${s.nodes.length || o.nodes} node(s), routing ${s.routing}, datastore ${s.datastore.kind}, ${describeFlowLogs(s.flowLogs)}`;
  if ((s.nodes.length > 0 && s.nodes.length !== o.nodes) || s.routing !== o.routing || s.datastore.kind !== o.datastore || flowLogsDiffer(s.flowLogs, o.flowLogs)) {
    throw new ConflictError(`lab ${s.name} is already up with ${have}; run brindle lab down --name ${s.name} first, or pick another --name`);
  }
}
