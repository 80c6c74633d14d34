import { systemClock, type Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import type { Node, WorkloadEndpoint } from '../api/types.js';
import { allocationAt, blockCidr, inUseOrdinals } from '../ipam/block.js';
import type { IpamClient } from '../ipam/ipam-client.js';
import { leakReason, ownerIndex } from '../ipam/ipam-report.js';
import { formatIp, ipAt } from '../net/cidr.js';
import type { ControllerLog } from './mirror-controller.js';
import type { KubeObject } from './kube-resources.js';

/**
 * Releases the IPAM addresses of pods and nodes that no longer exist, as Calico's IPAM
 * garbage collection in kube-controllers does. An allocation is a candidate when the pod named by
 * its `namespace`/`pod` attributes is not in the watched pods, when the WorkloadEndpoint named by
 * `workload` is gone or no longer lists it (the leak rule of `brindle ipam check`), or when the node
 * named by `node` is not in the watched nodes (and no live pod holds it). A candidate is released
 * only after it stayed one for the whole grace period AND a re-check right before release still
 * finds its owner gone: the pod or node is asked of the API server itself, the endpoints are read
 * fresh from the datastore, and the release names the handle and sequence number it was assigned
 * with (so an address handed to someone else meanwhile is never freed). A deleted Kubernetes node
 * also loses its block affinities and its Brindle Node, once confirmed gone.
 */

export interface IpamGcDeps {
  ipam: IpamClient;
  pods: ReadonlyMap<string, KubeObject>;
  nodes: ReadonlyMap<string, KubeObject>;
  /** True once the pod and node watches have listed (judging before would release live addresses). */
  synced(): boolean;
  podExists(namespace: string, name: string): Promise<boolean>;
  nodeExists(name: string): Promise<boolean>;
  deleteNode(name: string): Promise<void>;
}

export interface IpamGcOptions {
  gracePeriodMs?: number;
  intervalMs?: number;
  clock?: Clock;
}

export interface IpamGcResult {
  released: string[];
  /** Candidates still inside their grace period. */
  waiting: number;
  /** Candidates whose owner turned out to exist at the re-check. */
  kept: string[];
  removedNodes: string[];
}

interface Candidate {
  ip: string;
  handleId: string | null;
  sequenceNumber: number | undefined;
  attrs: Record<string, string>;
  reason: string;
  firstSeen: number;
}

export class IpamGarbageCollector implements Disposable {
  private readonly candidates = new Map<string, Candidate>();
  private readonly goneNodes = new Map<string, number>();
  private readonly clock: Clock;
  private readonly grace: number;
  private timer: Disposable | undefined;
  private running: Promise<IpamGcResult> | undefined;

  constructor(
    private readonly deps: IpamGcDeps,
    private readonly log: ControllerLog,
    private readonly opts: IpamGcOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.grace = opts.gracePeriodMs ?? 15 * 60_000;
  }

  start(): void {
    this.timer ??= this.clock.setInterval(() => void this.runOnce().catch((err: Error) => this.log(`ipam-gc: ${err.message}`)), this.opts.intervalMs ?? 60_000);
  }

  dispose(): void {
    this.timer?.dispose();
  }

  /** One pass (passes never overlap: a call during a pass waits for it and returns its result). */
  runOnce(): Promise<IpamGcResult> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<IpamGcResult> {
    const out: IpamGcResult = { released: [], waiting: 0, kept: [], removedNodes: [] };
    if (!this.deps.synced()) return out;
    const now = this.clock.now();
    const [blocks, weps, nodes] = await Promise.all([this.deps.ipam.store.listBlocks(), this.deps.ipam.resources.workloadEndpoints(), this.deps.ipam.resources.nodes()]);
    const owners = ownerIndex(nodes, weps);
    const seen = new Set<string>();
    for (const b of blocks) {
      for (const o of inUseOrdinals(b.value)) {
        const live = allocationAt(b.value, o)!;
        const ip = formatIp(ipAt(blockCidr(b.value), o));
        const reason = this.reasonFor(ip, live.attrs, owners, weps);
        if (!reason) continue;
        const id = `${ip}|${live.handleId ?? ''}|${live.sequenceNumber ?? ''}`;
        seen.add(id);
        if (!this.candidates.has(id)) this.candidates.set(id, { ip, handleId: live.handleId, sequenceNumber: live.sequenceNumber, attrs: live.attrs, reason, firstSeen: now });
      }
    }
    for (const id of [...this.candidates.keys()]) if (!seen.has(id)) this.candidates.delete(id);
    for (const [id, c] of this.candidates) {
      if (now - c.firstSeen < this.grace) {
        out.waiting++;
        continue;
      }
      if (!(await this.stillGone(c))) {
        out.kept.push(c.ip);
        this.candidates.delete(id);
        continue;
      }
      const res = await this.deps.ipam.releaseIps([{ ip: c.ip, ...(c.handleId ? { handleId: c.handleId } : {}), ...(c.sequenceNumber !== undefined ? { sequenceNumber: c.sequenceNumber } : {}) }]);
      out.released.push(...res.released);
      this.candidates.delete(id);
      this.log(`ipam-gc: released ${c.ip} (${c.reason})`);
    }
    await this.collectNodes(nodes, now, out);
    return out;
  }

  private reasonFor(ip: string, attrs: Record<string, string>, owners: ReturnType<typeof ownerIndex>, weps: WorkloadEndpoint[]): string | undefined {
    const pod = attrs['pod'];
    if (pod) {
      const ns = attrs['namespace'] ?? 'default';
      if (this.deps.pods.has(`${ns}/${pod}`)) return undefined;
      // The CNI plugin writes the endpoint after allocating: a live endpoint for the pod with this address keeps it.
      if (weps.some((w) => (w.metadata.namespace ?? 'default') === ns && w.spec.pod === pod && (w.spec.ipNetworks ?? []).some((n) => n.split('/')[0] === ip))) return undefined;
      return `pod ${ns}/${pod} no longer exists`;
    }
    if (attrs['workload']) return leakReason(ip, attrs, owners);
    const node = attrs['node'];
    if (node && !this.deps.nodes.has(node)) return `node ${node} no longer exists`;
    return undefined;
  }

  /** The re-check right before a release: the API server and a fresh datastore read must agree. */
  private async stillGone(c: Candidate): Promise<boolean> {
    const pod = c.attrs['pod'];
    if (pod) {
      const ns = c.attrs['namespace'] ?? 'default';
      if (await this.deps.podExists(ns, pod)) return false;
      const weps = await this.deps.ipam.resources.workloadEndpoints();
      return !weps.some((w) => (w.metadata.namespace ?? 'default') === ns && w.spec.pod === pod && (w.spec.ipNetworks ?? []).some((n) => n.split('/')[0] === c.ip));
    }
    if (c.attrs['workload']) {
      const fresh = ownerIndex(await this.deps.ipam.resources.nodes(), await this.deps.ipam.resources.workloadEndpoints());
      return leakReason(c.ip, c.attrs, fresh) !== undefined;
    }
    const node = c.attrs['node'];
    return node !== undefined && !(await this.deps.nodeExists(node));
  }

  /** Brindle Nodes of Kubernetes nodes that were deleted: affinities released, Node removed. */
  private async collectNodes(nodes: Node[], now: number, out: IpamGcResult): Promise<void> {
    const present = new Set<string>();
    for (const n of nodes) {
      const k8sName = n.spec.orchRefs?.find((r) => r.orchestrator === 'k8s')?.nodeName ?? (n.spec.orchRefs?.some((r) => r.orchestrator === 'k8s') ? n.metadata.name : undefined);
      if (k8sName === undefined || this.deps.nodes.has(k8sName)) continue;
      present.add(n.metadata.name);
      const first = this.goneNodes.get(n.metadata.name) ?? now;
      this.goneNodes.set(n.metadata.name, first);
      if (now - first < this.grace) continue;
      if (await this.deps.nodeExists(k8sName)) {
        this.goneNodes.delete(n.metadata.name);
        continue;
      }
      await this.deps.ipam.releaseHostAffinities(n.metadata.name);
      await this.deps.deleteNode(n.metadata.name);
      this.goneNodes.delete(n.metadata.name);
      out.removedNodes.push(n.metadata.name);
      this.log(`ipam-gc: node ${n.metadata.name} is gone from Kubernetes: affinities released, Node deleted`);
    }
    for (const name of [...this.goneNodes.keys()]) if (!present.has(name)) this.goneNodes.delete(name);
  }
}
