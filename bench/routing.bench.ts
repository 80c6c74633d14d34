import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '../src/api/types.js';
import { CalculationGraph, type Update } from '../src/calc/graph.js';
import { openDatastore } from '../src/datastore/open.js';
import { ResourceClient } from '../src/datastore/resource-client.js';
import { Syncer } from '../src/datastore/syncer.js';
import { VxlanApplier } from '../src/dataplane/apply/vxlan-applier.js';
import { VxlanManager } from '../src/dataplane/managers/vxlan-manager.js';
import { parseMemoryTotal } from '../src/routing/bird-status.js';
import { routeCallbacks } from '../test/helpers/route-sink.js';
import { BgpCluster, affinityUpdate, nodeResource, resourceUpdate, V3 } from '../test/netns/helpers/bgp-cluster.js';
import { canRunNetns, exec, hasCommand, Topology, waitFor, type NodeNs } from '../test/netns/helpers/topology.js';
import { blockUpdate, res } from '../test/netns/helpers/vxlan-node.js';
import { percentiles, type BenchRow } from './table.js';

/**
 * Routing between node namespaces on this machine, with real BIRD and the real VXLAN path:
 *   - BGP: a workload address borrowed by node A (a /32 outside A's blocks, the case that needs
 *     BGP) → installed in node B's kernel, 50 tries; each then pinged from a workload on B;
 *   - VXLAN (no BGP): a WorkloadEndpoint with a borrowed address written to SQLite → node B's
 *     syncer, calculation graph and VXLAN manager → route via vxlan.calico in B's kernel, 50 tries;
 *   - 1,000 /32s added on A in one `ip -batch` → all in B's kernel;
 *   - a 20-node full mesh: sessions, time to all Established, BIRD memory.
 * Arrival is timed with `ip monitor route` in B's namespace, not by polling.
 */

const TRIES = 50;

class RouteMonitor {
  private readonly child: ChildProcess;
  private readonly seen = new Map<string, number>();
  private buf = '';
  constructor(ns: string) {
    this.child = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (c: string) => {
      this.buf += c;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.startsWith('Deleted')) continue;
        const dst = line.split(' ')[0]!;
        if (!this.seen.has(dst)) this.seen.set(dst, performance.now());
      }
    });
  }
  at(dst: string): number | undefined {
    return this.seen.get(dst);
  }
  count(prefix: string): number {
    let n = 0;
    for (const k of this.seen.keys()) if (k.startsWith(prefix)) n++;
    return n;
  }
  ready(): Promise<void> {
    return new Promise((r) => setTimeout(r, 200));
  }
  dispose(): void {
    this.child.kill();
  }
}

async function arrival(mon: RouteMonitor, dst: string, timeoutMs = 10_000): Promise<number> {
  await waitFor(`route ${dst}`, () => mon.at(dst) !== undefined, timeoutMs);
  return mon.at(dst)!;
}

async function bgp(rows: BenchRow[]): Promise<void> {
  const topo = Topology.create([0, 0]);
  const cluster = new BgpCluster(topo);
  const mon = new RouteMonitor(topo.node(1).ns);
  try {
    const [a, b] = [topo.node(0), topo.node(1)];
    cluster.send([...topo.nodes.map((n) => resourceUpdate(nodeResource(n))),
      resourceUpdate({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.65.0.0/16' } } as never),
      affinityUpdate(a.name, '10.65.1.0/26'), affinityUpdate(b.name, '10.65.2.0/26')]);
    const wb = topo.addWorkload(b, '10.65.2.10');
    const was = Array.from({ length: TRIES }, (_, i) => topo.addWorkload(a, `10.65.200.${i + 1}`, { routeOnNode: false }));
    await cluster.syncAll();
    await waitFor('mesh up', async () => (await cluster.establishedCount(a.name)) === 1, 20_000);
    await mon.ready();
    const samples: number[] = [];
    for (const w of was) {
      const t0 = performance.now();
      execFileSync('ip', ['-n', a.ns, 'route', 'add', `${w.ip}/32`, 'dev', w.hostIface, 'scope', 'link']);
      samples.push((await arrival(mon, w.ip)) - t0);
      if (!topo.ping(wb.ns, w.ip)) throw new Error(`${w.ip} not reachable from node B after its route arrived`);
    }
    const p = percentiles(samples);
    rows.push({ bench: 'routing', metric: 'BGP: borrowed workload on A → route in B (median)', value: p.median, unit: 'ms', note: `${TRIES} tries, each then pinged from B` });
    rows.push({ bench: 'routing', metric: 'BGP: borrowed workload on A → route in B (p99)', value: p.p99, unit: 'ms' });

    const lines = Array.from({ length: 1000 }, (_, i) => `route add 10.65.${100 + (i >> 8)}.${i & 255}/32 dev lo scope link`);
    const t0 = performance.now();
    await exec.run('ip', ['-batch', '-'], { netns: a.ns, stdin: lines.join('\n') + '\n' });
    await waitFor('1000 routes on B', () => mon.count('10.65.10') >= 1000, 20_000);
    const last = Math.max(...lines.map((l) => mon.at(l.split(' ')[2]!.replace('/32', ''))!));
    rows.push({ bench: 'routing', metric: 'BGP: 1,000 new /32s on A → all in B', value: last - t0, unit: 'ms', note: 'one ip -batch on A, BIRD kernel learn → BGP → kernel' });
  } finally {
    mon.dispose();
    await cluster.destroy();
    topo.destroy();
  }
}

async function vxlan(rows: BenchRow[]): Promise<void> {
  const topo = Topology.create([0, 0]);
  const dir = mkdtempSync(join(tmpdir(), 'brindle-vxbench-'));
  const ds = await openDatastore(`sqlite:${join(dir, 'b.db')}`);
  const [a, b] = [topo.node(0), topo.node(1)];
  const mon = new RouteMonitor(b.ns);
  const nodeDoc = (n: NodeNs, i: number): Resource => ({ apiVersion: V3, kind: 'Node', metadata: { name: n.name }, spec: { bgp: { ipv4Address: n.cidr }, ipv4VXLANTunnelAddr: `10.65.${i + 1}.1` } });
  const pool: Resource = { apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.65.0.0/16', vxlanMode: 'Always' } };
  const base: Update[] = [res(nodeDoc(a, 0)), res(nodeDoc(b, 1)), res(pool), blockUpdate('10.65.1.0/26', a.name), blockUpdate('10.65.2.0/26', b.name)];
  // Node A: programmed once, statically (it only has to answer).
  const ma = new VxlanManager({ hostname: a.name, applier: new VxlanApplier(exec, a.ns) });
  const ga = new CalculationGraph({ hostname: a.name }, routeCallbacks(ma));
  ga.onUpdates(base);
  ga.onInSync();
  ma.completeDeferredWork();
  await ma.apply();
  // Node B: the agent's path, datastore → syncer → graph → VXLAN manager → kernel.
  const rc = new ResourceClient(ds);
  for (const r of [nodeDoc(a, 0), nodeDoc(b, 1), pool]) await rc.create(r);
  for (const u of base.slice(3)) await ds.create(u.key, JSON.stringify(u.value));
  const mb = new VxlanManager({ hostname: b.name, applier: new VxlanApplier(exec, b.ns) });
  const gb = new CalculationGraph({ hostname: b.name }, routeCallbacks(mb));
  let chain: Promise<void> = Promise.resolve();
  const delivered = new Map<string, number>();
  const syncer = new Syncer(ds, {
    onUpdates: (u) => {
      for (const x of u) delivered.set(x.key, performance.now());
      gb.onUpdates(u as unknown as Update[]);
      chain = chain.then(async () => {
        gb.flush();
        mb.completeDeferredWork();
        await mb.apply();
      });
    },
    onStatus: (s) => {
      if (s === 'in-sync') gb.onInSync();
    },
  }, { prefixes: ['/brindle/'] });
  try {
    const wb = topo.addWorkload(b, '10.65.2.10', { mtu: 1450 });
    const was = Array.from({ length: TRIES }, (_, i) => topo.addWorkload(a, `10.65.200.${i + 1}`, { mtu: 1450 }));
    syncer.start();
    await waitFor('B has its VXLAN route to A', () => /10\.65\.1\.0\/26 via 10\.65\.1\.1 dev vxlan\.calico/.test(topo.routes(b.ns)), 20_000);
    await mon.ready();
    const samples: number[] = [];
    const toCalc: number[] = [];
    for (const [i, w] of was.entries()) {
      const t0 = performance.now();
      const created = await rc.create({ apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name: `a-k8s-w${i}-eth0`, namespace: 'default' },
        spec: { node: a.name, orchestrator: 'k8s', pod: `w${i}`, endpoint: 'eth0', ipNetworks: [`${w.ip}/32`], interfaceName: w.hostIface, profiles: [] } } as Resource);
      samples.push((await arrival(mon, w.ip)) - t0);
      toCalc.push((delivered.get(`/brindle/v3/workloadendpoints/default/${created.metadata.name}`) ?? NaN) - t0);
      if (!topo.ping(wb.ns, w.ip)) throw new Error(`${w.ip} not reachable from node B over VXLAN`);
    }
    const p = percentiles(samples);
    rows.push({ bench: 'routing', metric: 'VXLAN: borrowed workload written → route in B (median)', value: p.median, unit: 'ms', note: `${TRIES} tries; SQLite, syncer, calc, VXLAN manager; each then pinged from B` });
    rows.push({ bench: 'routing', metric: 'VXLAN: borrowed workload written → route in B (p99)', value: p.p99, unit: 'ms' });
    rows.push({ bench: 'routing', metric: 'VXLAN: of which write → delivered to B\'s calc (median)', value: percentiles(toCalc).median, unit: 'ms', note: 'the rest is calc + one ip -batch' });
  } finally {
    syncer.dispose();
    mon.dispose();
    await ds.close();
    topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function mesh20(rows: BenchRow[]): Promise<void> {
  const topo = Topology.create(Array.from({ length: 20 }, () => 0));
  const cluster = new BgpCluster(topo);
  try {
    cluster.send([...topo.nodes.map((n) => resourceUpdate(nodeResource(n))),
      resourceUpdate({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.65.0.0/16' } } as never),
      ...topo.nodes.map((n, i) => affinityUpdate(n.name, `10.65.${i + 1}.0/26`))]);
    const t0 = performance.now();
    await cluster.syncAll();
    await waitFor('full mesh established', async () => {
      for (const n of topo.nodes) if ((await cluster.establishedCount(n.name)) !== 19) return false;
      return true;
    }, 120_000);
    const elapsed = performance.now() - t0;
    let sessions = 0;
    const birdMem: number[] = [];
    const rss: number[] = [];
    for (const n of topo.nodes) {
      sessions += await cluster.establishedCount(n.name);
      birdMem.push(parseMemoryTotal(await cluster.client(n.name).command('show memory')) ?? NaN);
      const pid = cluster.drivers.get(n.name)!.pid!;
      rss.push(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]));
    }
    const routes = topo.routes(topo.node(0).ns).split('\n').filter((l) => /^10\.65\.\d+\.0\/26 via .*proto bird/.test(l)).length;
    rows.push({ bench: 'routing', metric: '20-node mesh: sessions Established (all nodes)', value: sessions, unit: 'sessions', note: `${sessions / 2} BGP sessions, 19 per node; node-1 has ${routes} remote blocks` });
    rows.push({ bench: 'routing', metric: '20-node mesh: start → all Established', value: elapsed, unit: 'ms', note: '20 BIRDs started together on 2 cores' });
    rows.push({ bench: 'routing', metric: '20-node mesh: BIRD memory per node (show memory)', value: birdMem.reduce((x, y) => x + y, 0) / birdMem.length / 1024, unit: 'KiB', note: 'effective + overhead, mean' });
    rows.push({ bench: 'routing', metric: '20-node mesh: BIRD RSS per node', value: rss.reduce((x, y) => x + y, 0) / rss.length, unit: 'KiB', note: 'VmRSS, mean' });
  } finally {
    await cluster.destroy();
    topo.destroy();
  }
}

export async function run(): Promise<BenchRow[]> {
  const why = canRunNetns() ?? (hasCommand('bird') ? undefined : 'bird is not installed');
  if (why) {
    process.stderr.write(`routing bench skipped: ${why}\n`);
    return [];
  }
  const rows: BenchRow[] = [];
  await bgp(rows);
  await vxlan(rows);
  await mesh20(rows);
  return rows;
}
