/**
 * `brindle policy matrix` for 1,000 workload endpoints (1,000,000 flows): 10 namespaces × 100 pods,
 * each namespace with a Kubernetes default-deny, label-based and named-port allows, a cross-namespace
 * allow and an egress ipBlock policy, plus an admin tier that Passes. Measured side by side in one
 * run: the calculation snapshot, the matrix (compiled programs, no trace), the naive alternative of
 * calling `explain` for every pair (sampled, per cell), and the whole command in-process (SQLite
 * list + snapshot + matrix + JSON).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, PassThrough } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { FlowEvaluator } from '../src/calc/explain.js';
import { computeMatrix } from '../src/calc/matrix.js';
import { computeSnapshot } from '../src/calc/snapshot.js';
import { main } from '../src/cli/main.js';
import { openDatastore } from '../src/datastore/open.js';
import { ResourceClient } from '../src/datastore/resource-client.js';
import type { Resource } from '../src/api/types.js';
import { prepareResource } from '../src/api/prepare.js';
import type { BenchRow } from './table.js';

const NAMESPACES = 10;
const PODS_PER_NS = 100;
const APPS = ['web', 'api', 'db', 'cache', 'worker'];

function docs(): unknown[] {
  const out: unknown[] = [
    { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'admin' }, spec: { order: 100 } },
    {
      apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'admin.baseline' },
      spec: { tier: 'admin', selector: 'all()', types: ['Ingress', 'Egress'], ingress: [{ action: 'Deny', source: { selector: "quarantine == 'true'" } }, { action: 'Pass' }], egress: [{ action: 'Pass' }] },
    },
  ];
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `ns-${n}`;
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns, zone: n % 2 ? 'blue' : 'green' } } });
    for (let i = 0; i < PODS_PER_NS; i++) {
      const app = APPS[i % APPS.length]!;
      out.push({
        apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint',
        metadata: { name: `${app}-${i}`, namespace: ns, labels: { app, shard: String(i % 7) } },
        spec: {
          orchestrator: 'k8s', node: `node-${i % 20}`, pod: `${app}-${i}`, endpoint: 'eth0', interfaceName: `cali${n}x${i}`,
          ipNetworks: [`10.${100 + n}.${Math.floor(i / 250)}.${(i % 250) + 1}/32`], profiles: [`kns.${ns}`],
          ports: app === 'api' ? [{ name: 'http', protocol: 'TCP', port: 8080 }] : [],
        },
      });
    }
    const knp = (name: string, spec: unknown) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
    const cnp = (name: string, spec: unknown) => ({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
    out.push(
      knp('default-deny', { podSelector: {}, policyTypes: ['Ingress'] }),
      knp('web-from-anywhere', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ protocol: 'TCP', port: 80 }] }] }),
      cnp('api-from-web', { selector: "app == 'api'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: ['http'] } }] }),
      cnp('db-from-api', { selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'api'", namespaceSelector: "zone == 'blue'" }, destination: { ports: [5432] } }] }),
      knp('cache-from-shards', { podSelector: { matchLabels: { app: 'cache' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'shard', operator: 'In', values: ['1', '2', '3'] }] } }] }] }),
      knp('worker-egress', { podSelector: { matchLabels: { app: 'worker' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: [`10.${100 + n}.0.0/16`] } }] }] }),
    );
  }
  return out;
}

function ms(start: number): number {
  return performance.now() - start;
}

export async function run(): Promise<BenchRow[]> {
  const resources: Resource[] = docs().map((d) => prepareResource(d));
  const rows: BenchRow[] = [];
  const bench = 'policy-matrix';

  let t = performance.now();
  const snapshot = computeSnapshot(resources, { hostname: '*' });
  const snapMs = ms(t);
  rows.push({ bench, metric: `snapshot (${snapshot.endpoints.size} endpoints, ${snapshot.policies.size} policies)`, value: snapMs, unit: 'ms' });

  const flow = { protocol: 'TCP', port: 80 };
  computeMatrix(snapshot, flow); // warm-up (JIT)
  const samples: number[] = [];
  let allowed = 0;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const m = computeMatrix(snapshot, flow);
    samples.push(ms(t));
    allowed = m.allowed.reduce((a, r) => a + r.filter(Boolean).length, 0);
  }
  const matrixMs = Math.min(...samples);
  const cells = 1000 * 1000;
  rows.push({ bench, metric: 'matrix 1000×1000 (TCP 80)', value: matrixMs, unit: 'ms', note: `best of 3; ${allowed} of ${cells} cells allowed` });
  rows.push({ bench, metric: 'matrix per cell', value: (matrixMs * 1e6) / cells, unit: 'ns' });

  // The naive way: explain() every pair (tracing walk, peer lookup), sampled over 20,000 cells.
  const ev = new FlowEvaluator(snapshot);
  const eps = [...snapshot.endpoints.values()];
  const SAMPLE = 20_000;
  t = performance.now();
  for (let k = 0; k < SAMPLE; k++) {
    const a = eps[k % eps.length]!;
    const b = eps[(k * 7919) % eps.length]!;
    ev.explain({ endpoint: a }, { endpoint: b }, flow);
  }
  const explainNs = (ms(t) * 1e6) / SAMPLE;
  rows.push({ bench, metric: 'explain per cell (naive baseline)', value: explainNs, unit: 'ns', note: `matrix is ${(explainNs / ((matrixMs * 1e6) / cells)).toFixed(1)}× faster per cell` });

  // The whole command, in-process, on a real SQLite file.
  const dir = mkdtempSync(join(tmpdir(), 'brindle-bench-matrix-'));
  try {
    const url = `sqlite:${join(dir, 'b.db')}`;
    const ds = await openDatastore(url);
    const client = new ResourceClient(ds);
    for (const d of docs()) await client.apply(d as Resource);
    await ds.close();
    let bytes = 0;
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { bytes += chunk.length; cb(); } });
    t = performance.now();
    const code = await main(['--datastore', url, 'policy', 'matrix', '--protocol', 'TCP', '--port', '80', '-o', 'json'], {}, { stdout: sink, stderr: process.stderr, stdin: new PassThrough() });
    const cliMs = ms(t);
    if (code !== 0) throw new Error(`policy matrix exited ${code}`);
    rows.push({ bench, metric: 'brindle policy matrix -o json (in-process, SQLite)', value: cliMs, unit: 'ms', note: `${(bytes / 1e6).toFixed(1)} MB of JSON` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
