import type { Clock } from '../base/clock.js';
import type { Disposable } from '../base/lifecycle.js';
import { ORCHESTRATOR_K8S, podEndpointFields, type K8sPod } from '../api/k8s-workload.js';
import type { WorkloadEndpoint } from '../api/types.js';
import type { ResourceClient } from '../datastore/resource-client.js';
import { isConflict, isNotFound } from '../errors.js';
import type { KubeObject } from './kube-resources.js';
import type { ControllerLog } from './mirror-controller.js';
import { WorkQueue } from './work-queue.js';

/**
 * Keeps each pod's WorkloadEndpoints (written by the CNI plugin) in step with the pod: labels,
 * service account, profiles (`kns.<ns>`, `ksa.<ns>.<sa>`) and named ports, so a pod relabel
 * reaches policy. Updates are compare-and-swap on the endpoint the CNI plugin wrote (its addresses
 * and interface are never touched). A WorkloadEndpoint whose pod is gone is deleted only after
 * the API confirms the pod does not exist (a pod the watch has not delivered yet keeps its
 * endpoint). It does not create endpoints: the CNI plugin does, once the pod has a network.
 */

export interface PodControllerStats {
  updates: number;
  deletes: number;
  resyncs: number;
}

const ATTEMPTS = 5;

export class PodController implements Disposable {
  readonly stats: PodControllerStats = { updates: 0, deletes: 0, resyncs: 0 };
  private readonly queue: WorkQueue;
  onWritten: ((id: string) => void) | undefined;

  constructor(
    private readonly pods: ReadonlyMap<string, KubeObject>,
    private readonly client: ResourceClient,
    /** Asks the API server itself whether a pod exists (the re-check before a delete). */
    private readonly podExists: (namespace: string, name: string) => Promise<boolean>,
    private readonly log: ControllerLog,
    clock?: Clock,
  ) {
    this.queue = new WorkQueue({ process: (k) => this.process(k), resync: () => this.resync(), onError: (what, err) => this.log(`pods: ${what}: ${err.message}; retrying`) }, clock);
  }

  onChange(key: string): void {
    this.queue.add(key);
  }

  onReplace(): void {
    this.queue.requestResync();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  dispose(): void {
    this.queue.dispose();
  }

  private async process(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const weps = ((await this.client.list('WorkloadEndpoint', namespace)).items as WorkloadEndpoint[]).filter((w) => isPodEndpoint(w, name));
    await this.reconcile(namespace, name, weps);
  }

  private async resync(): Promise<void> {
    this.stats.resyncs++;
    const byPod = new Map<string, WorkloadEndpoint[]>();
    for (const w of (await this.client.list('WorkloadEndpoint')).items as WorkloadEndpoint[]) {
      if (w.spec.orchestrator !== ORCHESTRATOR_K8S || !w.spec.pod) continue;
      const k = `${w.metadata.namespace ?? 'default'}/${w.spec.pod}`;
      byPod.set(k, [...(byPod.get(k) ?? []), w]);
    }
    for (const [k, weps] of byPod) {
      const [namespace, name] = k.split('/') as [string, string];
      await this.reconcile(namespace, name, weps);
    }
  }

  private async reconcile(namespace: string, name: string, weps: WorkloadEndpoint[]): Promise<void> {
    const pod = this.pods.get(`${namespace}/${name}`) as unknown as K8sPod | undefined;
    if (!pod) {
      if (weps.length === 0 || (await this.podExists(namespace, name))) return;
      for (const w of weps) {
        try {
          await this.client.delete('WorkloadEndpoint', w.metadata.name, namespace, w.metadata.resourceVersion);
          this.stats.deletes++;
          this.onWritten?.(`WorkloadEndpoint|${namespace}|${w.metadata.name}`);
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      }
      return;
    }
    const fields = podEndpointFields(pod);
    for (const w of weps) await this.update(w, fields);
  }

  private async update(first: WorkloadEndpoint, fields: ReturnType<typeof podEndpointFields>): Promise<void> {
    let w: WorkloadEndpoint | null = first;
    for (let attempt = 1; w && attempt <= ATTEMPTS; attempt++) {
      const next: WorkloadEndpoint = { ...w, metadata: { ...w.metadata, labels: fields.labels }, spec: { ...w.spec, profiles: fields.profiles, ports: fields.ports } };
      if (fields.serviceAccountName) next.spec.serviceAccountName = fields.serviceAccountName;
      else delete next.spec.serviceAccountName;
      if (fields.ports.length === 0) delete next.spec.ports;
      if (JSON.stringify(canon(next)) === JSON.stringify(canon(w))) return;
      try {
        await this.client.update(next);
        this.stats.updates++;
        this.onWritten?.(`WorkloadEndpoint|${w.metadata.namespace ?? 'default'}|${w.metadata.name}`);
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        w = (await this.client.get('WorkloadEndpoint', w.metadata.name, w.metadata.namespace)) as WorkloadEndpoint | null;
      }
    }
  }
}

function isPodEndpoint(w: WorkloadEndpoint, pod: string): boolean {
  return w.spec.orchestrator === ORCHESTRATOR_K8S && w.spec.pod === pod;
}

function canon(w: WorkloadEndpoint): unknown {
  return { labels: sortObj(w.metadata.labels ?? {}), sa: w.spec.serviceAccountName ?? '', profiles: w.spec.profiles ?? [], ports: w.spec.ports ?? [] };
}

function sortObj(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
