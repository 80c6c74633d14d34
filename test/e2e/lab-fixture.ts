import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { REPO_ROOT } from '../helpers/paths.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ProcessExec } from '../../src/base/exec.js';
import type { Resource } from '../../src/api/types.js';
import { computeMatrix, type ReachabilityMatrix } from '../../src/calc/matrix.js';
import { prepareDocuments } from '../../src/calc/preview.js';
import { computeSnapshot } from '../../src/calc/snapshot.js';
import { CliContext } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/main.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { probeMatrix } from '../../src/lab/conncheck.js';
import { LabCluster, type LabUpOptions } from '../../src/lab/lab-cluster.js';
import { matrixMembers } from '../../src/lab/lab-matrix.js';
import { LabProgress } from '../../src/lab/lab-progress.js';
import type { LabState, LabWorkload, Routing } from '../../src/lab/lab-state.js';
import { LabWorkloads, relabelWorkload } from '../../src/lab/lab-workloads.js';
import { ProbeClient } from '../../src/lab/probe-client.js';

/**
 * A 3-node lab with the Kubernetes netpol e2e pods (namespaces x, y, z; pods a, b, c spread over
 * the nodes: a on node-1, b on node-2, c on node-3; each serving TCP and UDP on 80 and 81) for the
 * end-to-end tests. Applies documents the way the calculation tests write them (pod IPs of the
 * model are replaced by the addresses the lab's IPAM gave; a WorkloadEndpoint document relabels
 * the running pod), probes until the kernel shows the expected matrix (bounded), and always
 * removes the lab.
 */

export const E2E_NAMESPACES = ['x', 'y', 'z'];
export const E2E_PODS = ['a', 'b', 'c'];
const NODE_OF: Record<string, number> = { a: 1, b: 2, c: 3 };

/** Why the e2e tests cannot run in this build, or undefined when they can. */
export async function labUnavailable(opts: { routing: boolean }): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const out = new PassThrough();
  const program = buildProgram(new CliContext({ stdout: out, stderr: out, stdin: new PassThrough() }, {}));
  const has = (path: string[]) => {
    let cmd = program;
    for (const name of path) {
      const next = cmd.commands.find((c) => c.name() === name);
      if (!next) return false;
      cmd = next;
    }
    return true;
  };
  const missing = [
    ...(has(['agent']) ? [] : ['`brindle agent` (branch agent)']),
    ...(has(['cni', 'install']) ? [] : ['`brindle cni install` (branch cni)']),
  ];
  if (opts.routing && !agentRoutes()) missing.push('the agent running BIRD/VXLAN (branches routing + agent): without it no node reaches another');
  return missing.length > 0 ? `waiting on ${missing.join(' and ')}: not in this build yet` : undefined;
}

/** True when the agent in this build wires the routing (it imports src/routing). */
export function agentRoutes(): boolean {
  const dir = join(REPO_ROOT, 'dist', 'src', 'agent');
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((f) => f.endsWith('.js') && /from ['"]\.\.\/routing\//.test(readFileSync(join(dir, f), 'utf8')));
}

export class E2eLab {
  readonly exec = new ProcessExec();
  readonly root = mkdtempSync(join(tmpdir(), 'brindle-e2e-'));
  readonly cluster: LabCluster;
  readonly prober = new ProbeClient(this.exec);
  private ds: Datastore | undefined;
  /** Model pod IP (10.0.N.M, see k8s-netpol-model) → lab IP, filled by `addPods`. */
  readonly ipMap = new Map<string, string>();

  constructor(tag: string, readonly routing: Routing) {
    const name = `${tag}${Math.random().toString(36).slice(2, 8)}`.slice(0, 8);
    this.cluster = new LabCluster(this.exec, this.root, name, new LabProgress((l) => process.env['BRINDLE_E2E_VERBOSE'] ? console.error(l) : undefined));
  }

  async up(nodes = 3, extra: Pick<LabUpOptions, 'flowLogs'> = {}): Promise<void> {
    await this.cluster.up({ nodes, routing: this.routing, datastore: 'sqlite', ...extra });
    this.ds = await this.cluster.datastore();
  }

  get state(): LabState {
    return this.cluster.store.load()!;
  }

  get client(): ResourceClient {
    return new ResourceClient(this.ds!);
  }

  /** x/a … z/c with label pod=<name>, serving TCP and UDP on 80 and 81. */
  async addPods(modelIp: (pod: string) => string): Promise<void> {
    for (const ns of E2E_NAMESPACES) await this.client.apply(namespaceDoc(ns) as unknown as Resource);
    const workloads = new LabWorkloads(this.exec, this.cluster.network, () => this.cluster.datastore(), this.cluster.logDir);
    for (const ns of E2E_NAMESPACES) {
      for (const pod of E2E_PODS) {
        const w = await this.cluster.store.update((s) => workloads.add(s, { namespace: ns, name: pod }, {
          node: `node-${Math.min(NODE_OF[pod]!, this.state.nodes.length)}`, labels: { pod }, serve: [80, 81].flatMap((port) => (['tcp', 'udp'] as const).map((protocol) => ({ port, protocol }))),
        }, () => this.cluster.store.save(s)));
        this.ipMap.set(modelIp(`${ns}/${pod}`), w.ip!);
      }
    }
  }

  /** Applies documents written for the calculation model, translated to the lab. */
  async apply(docs: readonly Record<string, unknown>[]): Promise<void> {
    for (const d of docs) {
      if (d['kind'] === 'WorkloadEndpoint') {
        const md = d['metadata'] as { name: string; namespace: string; labels: Record<string, string> };
        await this.relabel(`${md.namespace}/${md.name}`, md.labels);
        continue;
      }
      await this.client.apply(this.translate(d) as Resource);
    }
  }

  async delete(docs: readonly Record<string, unknown>[]): Promise<void> {
    for (const c of prepareDocuments(docs.map((d) => this.translate(d)), 'delete')) {
      await this.client.delete(c.resource.kind, c.resource.metadata.name, c.resource.metadata.namespace).catch(() => undefined);
    }
  }

  async relabel(pod: string, labels: Record<string, string>): Promise<void> {
    const w = this.workload(pod);
    await relabelWorkload(this.ds!, w, labels);
    await this.cluster.store.update((s) => {
      const sw = s.workloads.find((x) => x.namespace === w.namespace && x.name === w.name)!;
      sw.labels = labels;
    });
  }

  /** Back to the base model: no policies, plain namespaces, pods labelled pod=<name> only. */
  async reset(): Promise<void> {
    for (const kind of ['NetworkPolicy', 'GlobalNetworkPolicy']) {
      for (const r of (await this.client.list(kind)).items) await this.client.delete(kind, r.metadata.name, r.metadata.namespace).catch(() => undefined);
    }
    for (const t of (await this.client.list('Tier')).items) {
      if (t.metadata.name !== 'default' && t.metadata.name !== 'adminnetworkpolicy' && t.metadata.name !== 'baselineadminnetworkpolicy') await this.client.delete('Tier', t.metadata.name).catch(() => undefined);
    }
    for (const ns of E2E_NAMESPACES) await this.client.apply(namespaceDoc(ns) as unknown as Resource);
    for (const w of this.state.workloads) if (JSON.stringify(w.labels) !== JSON.stringify({ pod: w.name })) await this.relabel(`${w.namespace}/${w.name}`, { pod: w.name });
  }

  workload(pod: string): LabWorkload {
    const w = this.state.workloads.find((x) => `${x.namespace}/${x.name}` === pod);
    if (!w) throw new Error(`no lab workload ${pod}`);
    return w;
  }

  async probe(flow: { port: number; protocol: 'tcp' | 'udp' }): Promise<ReachabilityMatrix> {
    return probeMatrix(this.prober, matrixMembers(this.state), flow, 3);
  }

  /** `brindle policy matrix` over the lab's datastore (the same call `lab matrix --expect` makes). */
  async computed(flow: { port: number; protocol: 'tcp' | 'udp' }): Promise<ReachabilityMatrix> {
    const { items } = await this.client.listAll();
    return computeMatrix(computeSnapshot(items, { hostname: '*' }), { protocol: flow.protocol.toUpperCase(), port: flow.port, family: 4 });
  }

  /**
   * Probes until `accept(matrix)` holds or `timeoutMs` passes (the agents apply changes
   * asynchronously); returns the last probed matrix and whether it was accepted.
   */
  async probeUntil(flow: { port: number; protocol: 'tcp' | 'udp' }, accept: (m: ReachabilityMatrix) => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<{ matrix: ReachabilityMatrix; ok: boolean; tries: number }> {
    const deadline = Date.now() + timeoutMs;
    for (let tries = 1; ; tries++) {
      let matrix: ReachabilityMatrix | undefined;
      try {
        matrix = await this.probe(flow);
      } catch (err) {
        // A prober that could not start in time (a loaded machine) is a failed try, not a verdict.
        if (Date.now() > deadline) throw err;
      }
      if (matrix && (await accept(matrix))) return { matrix, ok: true, tries };
      if (matrix && Date.now() > deadline) return { matrix, ok: false, tries };
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async down(): Promise<void> {
    try {
      await this.ds?.close();
    } catch {
      // already closed
    }
    try {
      await this.cluster.down();
    } finally {
      rmSync(this.root, { recursive: true, force: true });
    }
  }

  private translate(d: Record<string, unknown>): Resource {
    let text = JSON.stringify(d);
    for (const [model, lab] of this.ipMap) text = text.split(`"${model}/`).join(`"${lab}/`);
    return JSON.parse(text) as Resource;
  }
}

function namespaceDoc(ns: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns, ns } } };
}

/** `actual` as the netpol model's `{from: {to: bool}}` table. */
export function asTable(m: ReachabilityMatrix): Record<string, Record<string, boolean>> {
  const out: Record<string, Record<string, boolean>> = {};
  m.endpoints.forEach((a, i) => {
    out[a] = {};
    m.endpoints.forEach((b, j) => (out[a]![b] = m.allowed[i]![j]!));
  });
  return out;
}
