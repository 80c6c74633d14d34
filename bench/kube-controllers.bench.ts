import { performance } from 'node:perf_hooks';
import { kindInfo, resourceKey } from '../src/api/kinds.js';
import { prepareResource } from '../src/api/prepare.js';
import { encodeResource } from '../src/datastore/resource-codec.js';
import type { KubeObject } from '../src/kube/kube-resources.js';
import { KubeHarness } from '../test/helpers/kube-harness.js';
import { percentiles, type BenchRow } from './table.js';

/**
 * `brindle kube-controllers` over the fake API server (real @kubernetes/client-node, HTTP on
 * 127.0.0.1) into SQLite:
 * - event → converted resource in the datastore: a NetworkPolicy update or a namespace label
 *   change made in the API, until the controller's write of `knp.default.*` / `kns.*` returned;
 *   one event at a time, median and p99;
 * - resync time for 10,000 pods (their WorkloadEndpoints already written, as the CNI plugin does)
 *   and 1,000 NetworkPolicies in 50 namespaces: cold (every endpoint's labels and every policy
 *   written) and warm (a restart with nothing changed: everything compared, nothing written).
 */

const EVENTS = 200;
const PODS = 10_000;
const POLICIES = 1_000;
const NAMESPACES = 50;

const policy = (ns: string, name: string, port: number): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns },
  spec: { podSelector: { matchLabels: { app: name } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port }] }] },
});

async function latency(): Promise<BenchRow[]> {
  const h = await KubeHarness.start({ bookmarkIntervalMs: 60_000 });
  try {
    h.api.put('namespaces', { metadata: { name: 'bench' } });
    h.api.put('networkpolicies', policy('bench', 'p', 80));
    const kc = await h.controllers({ resources: ['namespaces', 'networkPolicies'], reflector: { pageSize: 500 } });
    const waiters = new Map<string, () => void>();
    for (const m of kc.mirrors.values()) m.onWritten = (id) => waiters.get(id)?.();
    const np: number[] = [];
    const ns: number[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const isPolicy = i % 2 === 0;
      const id = isPolicy ? 'NetworkPolicy|bench|knp.default.p' : 'Profile||kns.bench';
      const done = new Promise<void>((resolve) => waiters.set(id, resolve));
      const t0 = performance.now();
      if (isPolicy) h.api.put('networkpolicies', policy('bench', 'p', 1000 + i));
      else h.api.put('namespaces', { metadata: { name: 'bench', labels: { rev: String(i) } } });
      await done;
      (isPolicy ? np : ns).push(performance.now() - t0);
      waiters.delete(id);
    }
    const a = percentiles(np);
    const b = percentiles(ns);
    return [
      { bench: 'kube', metric: 'NetworkPolicy event → knp.default.* stored, median', value: a.median, unit: 'ms', note: `n=${np.length}, sqlite` },
      { bench: 'kube', metric: 'NetworkPolicy event → knp.default.* stored, p99', value: a.p99, unit: 'ms' },
      { bench: 'kube', metric: 'namespace label event → kns.* stored, median', value: b.median, unit: 'ms', note: `n=${ns.length}, sqlite` },
      { bench: 'kube', metric: 'namespace label event → kns.* stored, p99', value: b.p99, unit: 'ms' },
    ];
  } finally {
    await h.close();
  }
}

async function resync(): Promise<BenchRow[]> {
  const h = await KubeHarness.start({ bookmarkIntervalMs: 60_000, listChunkItems: 100 });
  try {
    const wepInfo = kindInfo('WorkloadEndpoint')!;
    for (let n = 0; n < NAMESPACES; n++) h.api.put('namespaces', { metadata: { name: `ns-${n}`, labels: { team: `t${n % 5}` } } });
    for (let i = 0; i < PODS; i++) {
      const ns = `ns-${i % NAMESPACES}`;
      const name = `pod-${i}`;
      h.api.put('pods', { metadata: { name, namespace: ns, labels: { app: `app-${i % 100}`, role: i % 3 === 0 ? 'client' : 'server' } }, spec: { nodeName: `node-${i % 20}`, containers: [{ ports: [{ name: 'web', containerPort: 80 }] }] } });
      const wep = prepareResource({
        apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: `node--${i % 20}-k8s-${name}-eth0`, namespace: ns },
        spec: { orchestrator: 'k8s', node: `node-${i % 20}`, pod: name, endpoint: 'eth0', interfaceName: `cali${i}`, ipNetworks: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`], profiles: [`kns.${ns}`] },
      });
      await h.ds.create(resourceKey(wepInfo, wep.metadata.name, ns), encodeResource(wep));
    }
    for (let i = 0; i < POLICIES; i++) h.api.put('networkpolicies', policy(`ns-${i % NAMESPACES}`, `pol-${i}`, 1000 + i));
    const opts = { resources: ['namespaces', 'pods', 'networkPolicies'] as const, reflector: { pageSize: 500 }, gc: { enabled: false } };
    let t0 = performance.now();
    const cold = await h.controllers(opts);
    const coldMs = performance.now() - t0;
    const coldWrites = cold.pods!.stats.updates + [...cold.mirrors.values()].reduce((s, m) => s + m.stats.writes, 0);
    await h.stop(cold);
    t0 = performance.now();
    const warm = await h.controllers(opts);
    const warmMs = performance.now() - t0;
    const warmWrites = warm.pods!.stats.updates + [...warm.mirrors.values()].reduce((s, m) => s + m.stats.writes, 0);
    const lists = h.api.requests.filter((r) => r.path === '/api/v1/pods' && r.query['watch'] === undefined).length;
    return [
      { bench: 'kube', metric: `cold resync ${PODS} pods + ${POLICIES} policies`, value: coldMs, unit: 'ms', note: `${coldWrites} writes, sqlite` },
      { bench: 'kube', metric: `warm resync (restart, nothing changed)`, value: warmMs, unit: 'ms', note: `${warmWrites} writes; ${lists} pod list pages over both runs` },
      { bench: 'kube', metric: 'warm / cold resync', value: warmMs / coldMs, unit: 'x' },
    ];
  } finally {
    await h.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  return [...(await latency()), ...(await resync())];
}
