import { CoreV1Api, Watch, type KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../base/clock.js';
import { DisposableStore, type Disposable } from '../base/lifecycle.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { isNotFound } from '../errors.js';
import { IpamClient } from '../ipam/ipam-client.js';
import { IpamGarbageCollector, type IpamGcOptions } from './ipam-gc.js';
import { httpStatusOf, KUBE_RESOURCES, listerFor, type KubeResource } from './kube-resources.js';
import { MirrorController, type ControllerLog, type MirrorSpec } from './mirror-controller.js';
import {
  ADMIN_NETWORK_POLICY_MIRROR,
  BASELINE_ADMIN_NETWORK_POLICY_MIRROR,
  CLUSTER_NETWORK_POLICY_MIRROR,
  ENDPOINT_SLICE_MIRROR,
  NAMESPACE_MIRROR,
  NETWORK_POLICY_MIRROR,
  SERVICE_ACCOUNT_MIRROR,
} from './mirror-specs.js';
import { PodController } from './pod-controller.js';
import { Reflector, type ReflectorOptions, type ReflectorStatus } from './reflector.js';

/**
 * `brindle kube-controllers`: the Kubernetes API synced into the Brindle datastore, as Calico's
 * kube-controllers do in etcd mode. One Reflector (list + watch) per Kubernetes resource feeds:
 *
 *   namespaces ───────────► MirrorController ─► Profile kns.<ns>
 *   serviceaccounts ──────► MirrorController ─► Profile ksa.<ns>.<sa>
 *   networkpolicies ──────► MirrorController ─► NetworkPolicy knp.default.<name>
 *   clusternetworkpolicies, adminnetworkpolicies, baselineadminnetworkpolicies
 *                   ──────► MirrorController ─► GlobalNetworkPolicy kcnp./kanp./kbanp.* (kube-admin, kube-baseline)
 *   endpointslices ───────► MirrorController ─► KubernetesEndpointSlice (services rule matches)
 *   pods ─────────────────► PodController ────► WorkloadEndpoint labels, service account, ports
 *   pods + nodes ─────────► IpamGarbageCollector ─► releases addresses of deleted pods and nodes
 *
 * Each reflector's initial list (and every re-list) triggers its controller's full resync.
 * Optional resources (the network-policy API CRDs) that the server does not serve are retried
 * with back-off like any other failure, without holding up the others.
 */

export interface KubeControllersOptions {
  reflector?: ReflectorOptions;
  gc?: IpamGcOptions & { enabled?: boolean };
  clock?: Clock;
  log?: ControllerLog;
  /** Which mirrors to run (all by default). */
  resources?: readonly (keyof typeof KUBE_RESOURCES)[];
}

const MIRRORS: Partial<Record<keyof typeof KUBE_RESOURCES, MirrorSpec>> = {
  namespaces: NAMESPACE_MIRROR,
  serviceAccounts: SERVICE_ACCOUNT_MIRROR,
  networkPolicies: NETWORK_POLICY_MIRROR,
  endpointSlices: ENDPOINT_SLICE_MIRROR,
  clusterNetworkPolicies: CLUSTER_NETWORK_POLICY_MIRROR,
  adminNetworkPolicies: ADMIN_NETWORK_POLICY_MIRROR,
  baselineAdminNetworkPolicies: BASELINE_ADMIN_NETWORK_POLICY_MIRROR,
};

export class KubeControllers implements Disposable {
  readonly reflectors = new Map<string, Reflector>();
  readonly mirrors = new Map<string, MirrorController>();
  readonly pods: PodController | undefined;
  readonly gc: IpamGarbageCollector | undefined;
  readonly status = new Map<string, ReflectorStatus>();
  private readonly disposables = new DisposableStore();
  private readonly client: ResourceClient;
  private readonly log: ControllerLog;

  constructor(
    readonly kubeConfig: KubeConfig,
    readonly datastore: Datastore,
    opts: KubeControllersOptions = {},
  ) {
    this.client = new ResourceClient(datastore);
    this.log = opts.log ?? (() => undefined);
    const clock = opts.clock ?? systemClock;
    const watch = new Watch(kubeConfig);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const wanted = new Set(opts.resources ?? (Object.keys(KUBE_RESOURCES) as (keyof typeof KUBE_RESOURCES)[]));
    const reflect = (r: KubeResource, onReplace: () => void, onChange: (k: string) => void): Reflector => {
      const ref = new Reflector(r, listerFor(kubeConfig, r), watch, {
        onReplace,
        onChange: (k) => onChange(k),
        onStatus: (s, err) => {
          this.status.set(r.name, s);
          if (err) this.log(`${r.name}: ${err.message}`);
        },
      }, { ...opts.reflector, clock });
      this.reflectors.set(r.name, this.disposables.add(ref));
      return ref;
    };
    for (const [key, spec] of Object.entries(MIRRORS) as [keyof typeof KUBE_RESOURCES, MirrorSpec][]) {
      if (!wanted.has(key)) continue;
      let m: MirrorController | undefined;
      const ref = reflect(KUBE_RESOURCES[key], () => m!.onReplace(), (k) => m!.onChange(k));
      m = this.disposables.add(new MirrorController(spec, ref.store, this.client, this.log, clock));
      this.mirrors.set(spec.name, m);
    }
    const podExists = async (namespace: string, name: string): Promise<boolean> => exists(() => core.readNamespacedPod({ namespace, name }));
    const nodeExists = async (name: string): Promise<boolean> => exists(() => core.readNode({ name }));
    if (wanted.has('pods')) {
      let pc: PodController | undefined;
      const podRef = reflect(KUBE_RESOURCES.pods, () => pc!.onReplace(), (k) => pc!.onChange(k));
      pc = this.disposables.add(new PodController(podRef.store, this.client, podExists, this.log, clock));
      this.pods = pc;
      if (opts.gc?.enabled !== false && wanted.has('nodes')) {
        const nodeRef = reflect(KUBE_RESOURCES.nodes, () => undefined, () => undefined);
        this.gc = this.disposables.add(new IpamGarbageCollector({
          ipam: new IpamClient(datastore),
          pods: podRef.store,
          nodes: nodeRef.store,
          synced: () => podRef.hasSynced && nodeRef.hasSynced,
          podExists,
          nodeExists,
          deleteNode: async (name) => {
            try {
              await this.client.delete('Node', name);
            } catch (err) {
              if (!isNotFound(err)) throw err;
            }
          },
        }, this.log, { ...opts.gc, clock }));
      }
    }
  }

  start(): void {
    for (const r of this.reflectors.values()) r.start();
    this.gc?.start();
  }

  /** Resolves when every reflector has listed once and every controller has finished its work. */
  async synced(): Promise<void> {
    await Promise.all([...this.reflectors.values()].map((r) => r.waitForSync()));
    await this.idle();
  }

  /** Resolves when no controller has work pending. */
  async idle(): Promise<void> {
    for (let i = 0; i < 3; i++) await Promise.all([...[...this.mirrors.values()].map((m) => m.idle()), this.pods?.idle()]);
  }

  async dispose(): Promise<void> {
    await this.disposables.dispose();
    await Promise.all([...this.reflectors.values()].map((r) => r.stopped()));
  }
}

async function exists(get: () => Promise<unknown>): Promise<boolean> {
  try {
    await get();
    return true;
  } catch (err) {
    if (httpStatusOf(err) === 404) return false;
    throw err;
  }
}
