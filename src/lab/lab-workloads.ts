import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource, WorkloadEndpointSpec } from '../api/types.js';
import type { Exec } from '../base/exec.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { AlreadyExistsError, NotFoundError, UsageError } from '../errors.js';
import { CniRunner, resultIpv4 } from './cni-runner.js';
import { workloadKey, workloadNetns, type WorkloadRef } from './lab-names.js';
import type { LabNetwork } from './lab-network.js';
import type { LabNode, LabProcess, LabState, LabWorkload, ServePort } from './lab-state.js';
import { WORKLOAD_SERVER } from './brindle-paths.js';
import { isRunning, logTail, sleep, startDaemon, stopProcess } from './process-supervisor.js';

/**
 * Workloads of a lab, made as a kubelet would: a network namespace, then the node's CNI
 * configuration list (the real `brindle` plugin, run inside the node's namespace) with the
 * Kubernetes identity in CNI_ARGS. The plugin assigns the address and writes the WorkloadEndpoint;
 * the lab then gives it the pod's labels and named ports (`serve-80-tcp`…, as the Kubernetes
 * netpol e2e pods have) and starts the workload's TCP/UDP servers. A failed add undoes itself.
 */

export const SYSTEM_CNI_DIR = '/usr/lib/cni';

export function parseServe(spec: string | undefined): ServePort[] {
  if (spec === undefined || spec.trim() === '') return [];
  const out: ServePort[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^(\d+)\/(tcp|udp)$/i.exec(part);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`--serve "${part}": use PORT/tcp or PORT/udp (e.g. 80/tcp,80/udp)`);
    const p: ServePort = { port: Number(m[1]), protocol: m[2]!.toLowerCase() as 'tcp' | 'udp' };
    if (!out.some((o) => o.port === p.port && o.protocol === p.protocol)) out.push(p);
  }
  return out;
}

export function parseLabels(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (spec === undefined || spec.trim() === '') return out;
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--labels "${part}": use key=value[,key=value…]`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export function namedPorts(serve: readonly ServePort[]): NonNullable<WorkloadEndpointSpec['ports']> {
  return serve.map((s) => ({ name: `serve-${s.port}-${s.protocol}`, protocol: s.protocol.toUpperCase() as 'TCP' | 'UDP', port: s.port }));
}

/**
 * The WorkloadEndpoint with the pod's labels (over those the plugin set) and named ports, and the
 * namespace's profile `kns.<ns>` (which carries the namespace's labels) if the plugin left it out.
 */
export function labelledEndpoint(wep: Resource<'WorkloadEndpoint', WorkloadEndpointSpec>, w: Pick<LabWorkload, 'namespace' | 'labels' | 'serve'>): Resource {
  const labels = { ...(wep.metadata.labels ?? {}), ...w.labels };
  const ports = namedPorts(w.serve);
  const profiles = wep.spec.profiles ?? [];
  const kns = `kns.${w.namespace}`;
  return {
    ...wep,
    metadata: { ...wep.metadata, labels },
    spec: { ...wep.spec, profiles: profiles.includes(kns) ? profiles : [kns, ...profiles], ...(ports.length > 0 ? { ports } : {}) },
  } as Resource;
}

/** Sets the pod labels of a running workload (keeping what the plugin set), as a relabelled pod. */
export async function relabelWorkload(ds: Datastore, w: LabWorkload, labels: Record<string, string>): Promise<void> {
  const client = new ResourceClient(ds);
  const { items } = await client.list('WorkloadEndpoint', w.namespace);
  const wep = items.find((r) => (r.spec as WorkloadEndpointSpec).pod === w.name) as Resource<'WorkloadEndpoint', WorkloadEndpointSpec> | undefined;
  if (!wep) throw new NotFoundError(`no WorkloadEndpoint for pod ${workloadKey(w)}`);
  const kept = Object.fromEntries(Object.entries(wep.metadata.labels ?? {}).filter(([k]) => !(k in w.labels)));
  w.labels = labels;
  await client.apply(labelledEndpoint({ ...wep, metadata: { ...wep.metadata, labels: kept } }, w));
}

export function cniBinDir(node: LabNode): string {
  return join(node.runDir, 'cni', 'bin');
}

export function cniConfDir(node: LabNode): string {
  return join(node.runDir, 'cni', 'net.d');
}

export class LabWorkloads {
  constructor(
    private readonly exec: Exec,
    private readonly network: LabNetwork,
    private readonly ds: () => Promise<Datastore>,
    private readonly logDir: string,
  ) {}

  private cni(node: LabNode): CniRunner {
    return new CniRunner(this.exec, node.netns, [cniBinDir(node), SYSTEM_CNI_DIR], cniConfDir(node));
  }

  /** Adds the workload; `save` persists the state after the namespace is recorded (crash safety). */
  async add(state: LabState, ref: WorkloadRef, opts: { node: string; labels: Record<string, string>; serve: ServePort[] }, save: () => void): Promise<LabWorkload> {
    const key = workloadKey(ref);
    if (state.workloads.some((w) => workloadKey(w) === key)) throw new AlreadyExistsError(`workload ${key} already exists in lab ${state.name}`);
    const node = state.nodes.find((n) => n.name === opts.node);
    if (!node) throw new NotFoundError(`lab ${state.name} has no node "${opts.node}" (nodes: ${state.nodes.map((n) => n.name).join(', ')})`);
    const netns = workloadNetns(state.name, ref);
    const w: LabWorkload = { namespace: ref.namespace, name: ref.name, node: node.name, netns, containerId: randomBytes(32).toString('hex'), labels: opts.labels, serve: opts.serve };
    if (!state.namespaces.includes(netns)) state.namespaces.push(netns);
    state.workloads.push(w);
    save();
    try {
      await this.network.ensureNetns(netns);
      const result = await this.cni(node).add(this.invocation(w));
      const ip = resultIpv4(result);
      if (!ip) throw new Error(`CNI ADD for ${key} returned no IPv4 address: ${JSON.stringify(result).slice(0, 300)}`);
      w.ip = ip;
      save();
      await this.label(w);
      if (w.serve.length > 0) state.processes.push(await this.startServer(w));
      save();
      return w;
    } catch (err) {
      await this.del(state, ref).catch(() => undefined);
      throw err;
    }
  }

  /** Stops the servers, runs CNI DEL, deletes the namespace. Idempotent. */
  async del(state: LabState, ref: WorkloadRef): Promise<void> {
    const key = workloadKey(ref);
    const w = state.workloads.find((x) => workloadKey(x) === key);
    if (!w) throw new NotFoundError(`lab ${state.name} has no workload ${key}`);
    const role = `serve:${key}`;
    for (const p of state.processes.filter((x) => x.role === role)) await stopProcess(p, 1000);
    state.processes = state.processes.filter((x) => x.role !== role);
    const node = state.nodes.find((n) => n.name === w.node);
    if (node) {
      try {
        await this.cni(node).del(this.invocation(w));
      } catch {
        // nothing to release (the add failed early) or the node is gone; the namespace goes anyway
      }
    }
    await this.network.deleteNetns(w.netns);
    state.namespaces = state.namespaces.filter((n) => n !== w.netns);
    state.workloads = state.workloads.filter((x) => x !== w);
  }

  private invocation(w: LabWorkload) {
    return {
      containerId: w.containerId,
      netnsPath: `/run/netns/${w.netns}`,
      ifName: 'eth0',
      args: { K8S_POD_NAMESPACE: w.namespace, K8S_POD_NAME: w.name, K8S_POD_INFRA_CONTAINER_ID: w.containerId },
    };
  }

  /** Gives the WorkloadEndpoint the CNI wrote the pod's labels and named ports. */
  private async label(w: LabWorkload): Promise<void> {
    const client = new ResourceClient(await this.ds());
    const deadline = Date.now() + 5000;
    for (;;) {
      const { items } = await client.list('WorkloadEndpoint', w.namespace);
      const wep = items.find((r) => (r.spec as WorkloadEndpointSpec).pod === w.name && ((r.spec as WorkloadEndpointSpec).node ?? w.node) === w.node) as Resource<'WorkloadEndpoint', WorkloadEndpointSpec> | undefined;
      if (wep) {
        await client.apply(labelledEndpoint(wep, w));
        return;
      }
      if (Date.now() > deadline) throw new Error(`the CNI plugin wrote no WorkloadEndpoint for pod ${workloadKey(w)} on ${w.node}`);
      await sleep(50);
    }
  }

  async startServer(w: LabWorkload): Promise<LabProcess> {
    const log = join(this.logDir, `serve-${w.namespace}.${w.name}.log`);
    let offset = 0;
    try {
      offset = statSync(log).size;
    } catch {
      // a new log
    }
    const p = startDaemon({
      role: `serve:${workloadKey(w)}`,
      cmd: process.execPath,
      args: [WORKLOAD_SERVER, ...w.serve.map((s) => `${s.port}/${s.protocol}`)],
      netns: w.netns,
      log,
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      let text = '';
      try {
        text = readFileSync(p.log, 'utf8').slice(offset);
      } catch {
        // not written yet
      }
      if (text.includes('serving ')) return p;
      if (!isRunning(p)) break;
      await sleep(20);
    }
    throw new Error(`the servers of ${workloadKey(w)} did not start; ${p.log}:\n${logTail(p.log)}`);
  }
}
