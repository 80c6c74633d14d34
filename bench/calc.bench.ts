/**
 * Calculation graph at scale: one node with 200 local endpoints in a cluster of 50,000 endpoints
 * and 5,000 policies (namespaced and global, mixed selectors, named ports, 5 tiers), 250 nodes with
 * IPAM blocks and VXLAN (routes and VTEPs are computed too). Measures cold
 * start to in-sync output, heap growth, and the latency of one endpoint label change and of one
 * policy change to flushed output. The ratio column compares an incremental change with a cold
 * recomputation measured in the same run.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Resource } from '../src/api/types.js';
import { CalculationGraph, IPAM_BLOCK_PREFIX, type Update } from '../src/calc/graph.js';
import { keyOf } from '../src/calc/snapshot.js';
import type { ActivePolicy, DataplaneCallbacks } from '../src/calc/types.js';
import { percentiles, type BenchRow } from './table.js';

const ENDPOINTS = 50_000;
const NODES = 250; // 200 endpoints per node
const NAMESPACES = 100;
const POLICIES = 5_000;
const APPS = 500;
const TIERS = ['security', 'platform', 'app', 'kube-admin'];
const LOCAL = 'node-0';
const V3 = 'projectcalico.org/v3';

/** Counts calls; does no checking (the checked dataplane is for tests). */
class CountingDataplane implements DataplaneCallbacks {
  calls = 0;
  readonly everActive = new Set<string>();
  onIpSetAdded(): void { this.calls++; }
  onIpSetMemberAdded(): void { this.calls++; }
  onIpSetMemberRemoved(): void { this.calls++; }
  onIpSetRemoved(): void { this.calls++; }
  onPolicyActive(p: ActivePolicy): void {
    this.calls++;
    this.everActive.add(p.identity.name);
  }
  onPolicyInactive(): void { this.calls++; }
  onProfileActive(): void { this.calls++; }
  onProfileInactive(): void { this.calls++; }
  onEndpointUpdate(): void { this.calls++; }
  onEndpointRemoved(): void { this.calls++; }
  onRouteUpdate(): void { this.calls++; }
  onRouteRemoved(): void { this.calls++; }
  onVtepUpdate(): void { this.calls++; }
  onVtepRemoved(): void { this.calls++; }
  onHostIpUpdate(): void { this.calls++; }
  onHostIpRemoved(): void { this.calls++; }
  onIpPoolUpdate(): void { this.calls++; }
  onIpPoolRemoved(): void { this.calls++; }
  onConfigUpdate(): void { this.calls++; }
  onInSync(): void { this.calls++; }
  batches = 0;
  onBatchComplete(): void { this.batches++; }
}

/** Deterministic pseudo-random numbers (mulberry32), so every run builds the same cluster. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function endpoint(i: number, env = i % 3 === 0 ? 'dev' : 'prod'): Resource {
  const ns = `ns-${i % NAMESPACES}`;
  const ip = `10.64.${i % NODES}.${Math.floor(i / NODES) + 1}`; // inside its node's block
  return {
    apiVersion: V3, kind: 'WorkloadEndpoint',
    metadata: { name: `w-${i}`, namespace: ns, labels: { app: `app-${i % APPS}`, role: ['frontend', 'backend', 'db'][i % 3]!, env, version: `v${i % 4}` } },
    spec: {
      orchestrator: 'k8s', node: `node-${i % NODES}`, ipNetworks: [`${ip}/32`], profiles: [`kns.${ns}`, `ksa.${ns}.default`], serviceAccountName: 'default',
      interfaceName: `cali${i}`, ports: [{ name: 'http', protocol: 'TCP', port: 8080 }, { name: 'metrics', protocol: 'TCP', port: 9090 }],
    },
  };
}

function policy(i: number, port = 443): Resource {
  const r = rng(1000 + i);
  const app = () => `app-${Math.floor(r() * APPS)}`;
  const tier = i % 5 === 4 ? 'default' : TIERS[i % 5]!;
  const name = tier === 'default' ? `p-${i}` : `${tier}.p-${i}`;
  const selectors = [`app == '${app()}'`, `role == 'db' && env == 'prod'`, `app in {'${app()}', '${app()}'}`, `has(version) && version == 'v${i % 4}'`, `app == '${app()}' && role != 'frontend'`];
  const selector = selectors[i % selectors.length]!;
  const ingress = [
    { action: 'Allow', protocol: 'TCP', source: { selector: `app == '${app()}'` }, destination: { ports: ['http', port] } },
    { action: i % 7 === 0 ? 'Pass' : 'Deny', source: { nets: [`192.168.${i % 256}.0/24`] } },
  ];
  const egress = [{ action: 'Allow', protocol: 'TCP', destination: { selector: `role == 'db'`, ports: ['metrics'] } }];
  const spec = { tier, order: (i % 50) * 10, selector, types: ['Ingress', 'Egress'], ingress, egress };
  if (i % 2 === 0) return { apiVersion: V3, kind: 'NetworkPolicy', metadata: { name, namespace: `ns-${i % NAMESPACES}` }, spec };
  return { apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name }, spec: { ...spec, namespaceSelector: i % 3 === 0 ? `team == 't${i % 5}'` : undefined } };
}

function cluster(): Resource[] {
  const out: Resource[] = [];
  for (const [i, t] of TIERS.entries()) out.push({ apiVersion: V3, kind: 'Tier', metadata: { name: t }, spec: { order: (i + 1) * 100, defaultAction: i === 3 ? 'Pass' : 'Deny' } });
  for (let n = 0; n < NAMESPACES; n++) {
    out.push({ apiVersion: V3, kind: 'Profile', metadata: { name: `kns.ns-${n}` }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.team': `t${n % 5}` } } });
    out.push({ apiVersion: V3, kind: 'Profile', metadata: { name: `ksa.ns-${n}.default` }, spec: { labelsToApply: { 'pcsa.name': 'default' } } });
  }
  out.push({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.64.0.0/16', blockSize: 24, vxlanMode: 'CrossSubnet', natOutgoing: true } });
  for (let n = 0; n < NODES; n++) {
    const spec = { bgp: { ipv4Address: `192.168.${n >> 6}.${(n % 64) + 1}/18` }, ipv4VXLANTunnelAddr: `10.65.${n}.0` };
    out.push({ apiVersion: V3, kind: 'Node', metadata: { name: `node-${n}` }, spec });
  }
  for (let i = 0; i < ENDPOINTS; i++) out.push(endpoint(i));
  for (let i = 0; i < POLICIES; i++) out.push(policy(i));
  return out;
}

function gcNow(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function coldStart(updates: Update[]): { ms: number; cpuMs: number; graph: CalculationGraph; dp: CountingDataplane } {
  const dp = new CountingDataplane();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const graph = new CalculationGraph({ hostname: LOCAL }, dp);
  graph.onUpdates(updates);
  graph.onInSync();
  const cpu = process.cpuUsage(cpu0);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, graph, dp };
}

export async function run(): Promise<BenchRow[]> {
  const resources = cluster();
  const updates: Update[] = resources.map((r) => ({ key: keyOf(r), value: r }));
  for (let n = 0; n < NODES; n++) {
    updates.push({ key: `${IPAM_BLOCK_PREFIX}ipv4/block/10-64-${n}-0-24`, value: { cidr: `10.64.${n}.0/24`, affinity: `host:node-${n}` } });
  }
  const bench = 'calc';

  gcNow();
  const heap0 = process.memoryUsage().heapUsed;
  const { ms: coldMs, cpuMs: coldCpuMs, graph, dp } = coldStart(updates);
  gcNow();
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
  const coldCalls = dp.calls;

  // A local endpoint's env label flips (prod ↔ dev, matching different policies), then flips back.
  // For a db endpoint that flips its match with every GlobalNetworkPolicy selecting
  // `role == 'db' && env == 'prod'` (~330 of them): a third of the changes do that much work. The
  // first 200 changes include the JIT warming up on that path; the next 200 (other endpoints) are
  // the steady state, with the GC pauses that fell inside them counted.
  const labelSamples: number[] = [];
  const warmSamples: number[] = [];
  const warmCpu: number[] = [];
  const warmSpans: [number, number][] = [];
  const gcPauses: [number, number][] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPauses.push([e.startTime, e.duration]);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const callsBeforeLabels = dp.calls;
  for (let s = 0; s < 400; s++) {
    const i = ((s >> 1) % 200) * NODES; // endpoints i % NODES === 0 live on node-0
    const initial = i % 3 === 0 ? 'dev' : 'prod';
    const ep = endpoint(i, s % 2 === 0 ? (initial === 'dev' ? 'prod' : 'dev') : initial);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    graph.onUpdates([{ key: keyOf(ep), value: ep }]);
    graph.flush();
    const t1 = performance.now();
    if (s < 200) labelSamples.push(t1 - t0);
    else {
      const cpu = process.cpuUsage(cpu0);
      warmSamples.push(t1 - t0);
      warmCpu.push((cpu.user + cpu.system) / 1000);
      warmSpans.push([t0, t1]);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 10)); // GC entries are delivered asynchronously
  gcObserver.disconnect();
  const warmGc = gcPauses.filter(([g, d]) => warmSpans.some(([a, b]) => g < b && g + d > a));
  // An active policy's rule changes (a port), then changes back; cycling through active policies.
  const active = [...dp.everActive].map((n) => Number(/p-(\d+)$/.exec(n)?.[1])).filter((i) => Number.isInteger(i)).sort((a, b) => a - b);
  const labelCalls = (dp.calls - callsBeforeLabels) / Math.max(1, labelSamples.length + warmSamples.length);
  const policySamples: number[] = [];
  const callsBeforePolicies = dp.calls;
  for (let s = 0; s < 200 && active.length > 0; s++) {
    const i = active[(s >> 1) % active.length]!;
    const p = policy(i, s % 2 === 0 ? 444 : 443); // change, then change back
    const t0 = performance.now();
    graph.onUpdates([{ key: keyOf(p), value: p }]);
    graph.flush();
    policySamples.push(performance.now() - t0);
  }
  const policyCalls = (dp.calls - callsBeforePolicies) / Math.max(1, policySamples.length);
  const label = percentiles(labelSamples);
  const warm = percentiles(warmSamples);
  const warmCpuP = percentiles(warmCpu);
  const pol = percentiles(policySamples);
  return [
    { bench, metric: 'cold start to in-sync (50k eps, 5k pols, 200 local)', value: coldMs, unit: 'ms', note: `${coldCalls} dataplane calls` },
    { bench, metric: 'cold start CPU time', value: coldCpuMs, unit: 'ms', note: `${active.length} policies active on the node` },
    { bench, metric: 'heap growth after cold start', value: heapMb, unit: 'MB' },
    { bench, metric: 'endpoint label change → flush, median', value: label.median, unit: 'ms', note: `cold/incremental ${(coldMs / label.median).toFixed(0)}x` },
    { bench, metric: 'endpoint label change → flush, p99', value: label.p99, unit: 'ms', note: `${labelCalls.toFixed(1)} dataplane calls per change; first 200 changes` },
    { bench, metric: 'endpoint label change → flush, p99 warm', value: warm.p99, unit: 'ms', note: `changes 201-400, median ${warm.median.toFixed(3)} ms; ${warmGc.length} GC pauses inside them (${warmGc.reduce((t, [, d]) => t + d, 0).toFixed(1)} ms)` },
    { bench, metric: 'endpoint label change → flush, p99 warm CPU', value: warmCpuP.p99, unit: 'ms', note: `process CPU time (not descheduled time; includes GC threads), median ${warmCpuP.median.toFixed(3)} ms` },
    { bench, metric: 'policy change → flush, median', value: pol.median, unit: 'ms', note: `cold/incremental ${(coldMs / pol.median).toFixed(0)}x` },
    { bench, metric: 'policy change → flush, p99', value: pol.p99, unit: 'ms', note: `${policyCalls.toFixed(1)} dataplane calls per change` },
  ];
}
