import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './testing/fake-kube-api.js';

export type { KubeObject };

/**
 * The Kubernetes resources Brindle's controllers list and watch, each with the path its
 * all-namespaces watch uses and a lister built on `@kubernetes/client-node` (core kinds through
 * CoreV1Api, grouped kinds through CustomObjectsApi, which returns the objects as the API sent
 * them). Objects are normalised to their JSON form (timestamps as strings).
 */

export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
}

export interface KubeResource {
  /** Short name for logs and metrics (`pods`). */
  name: string;
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Path of the all-namespaces list and watch (`/api/v1/pods`). */
  path: string;
}

export type Lister = (opts: { limit: number; continue?: string }) => Promise<ListPage>;

function resource(apiVersion: string, kind: string, plural: string, namespaced: boolean): KubeResource {
  const path = apiVersion === 'v1' ? `/api/v1/${plural}` : `/apis/${apiVersion}/${plural}`;
  return { name: plural, apiVersion, kind, plural, namespaced, path };
}

export const KUBE_RESOURCES = {
  namespaces: resource('v1', 'Namespace', 'namespaces', false),
  serviceAccounts: resource('v1', 'ServiceAccount', 'serviceaccounts', true),
  pods: resource('v1', 'Pod', 'pods', true),
  nodes: resource('v1', 'Node', 'nodes', false),
  services: resource('v1', 'Service', 'services', true),
  endpointSlices: resource('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices', true),
  networkPolicies: resource('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true),
  clusterNetworkPolicies: resource('policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy', 'clusternetworkpolicies', false),
  adminNetworkPolicies: resource('policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy', 'adminnetworkpolicies', false),
  baselineAdminNetworkPolicies: resource('policy.networking.k8s.io/v1alpha1', 'BaselineAdminNetworkPolicy', 'baselineadminnetworkpolicies', false),
} as const;

/** Dates the typed client made of timestamps, back to the API's strings. */
export function normaliseObject(o: unknown, apiVersion: string, kind: string): KubeObject {
  const obj = o as KubeObject;
  const meta = obj.metadata as Record<string, unknown>;
  for (const k of ['creationTimestamp', 'deletionTimestamp']) if (meta[k] instanceof Date) meta[k] = (meta[k] as Date).toISOString();
  obj.apiVersion ??= apiVersion;
  obj.kind ??= kind;
  return obj;
}

/** The lister of one resource through the client library. */
export function listerFor(kc: KubeConfig, r: KubeResource): Lister {
  const page = (res: { items: unknown[]; metadata?: { resourceVersion?: string; _continue?: string; continue?: string } }): ListPage => {
    const cont = res.metadata?._continue ?? res.metadata?.continue;
    return {
      items: res.items.map((i) => normaliseObject(i, r.apiVersion, r.kind)),
      resourceVersion: res.metadata?.resourceVersion ?? '',
      ...(cont ? { continue: cont } : {}),
    };
  };
  if (r.apiVersion === 'v1') {
    const core = kc.makeApiClient(CoreV1Api);
    const calls: Record<string, (p: { limit: number; _continue?: string }) => Promise<{ items: unknown[]; metadata?: { resourceVersion?: string; _continue?: string } }>> = {
      namespaces: (p) => core.listNamespace(p),
      serviceaccounts: (p) => core.listServiceAccountForAllNamespaces(p),
      pods: (p) => core.listPodForAllNamespaces(p),
      nodes: (p) => core.listNode(p),
      services: (p) => core.listServiceForAllNamespaces(p),
    };
    const call = calls[r.plural];
    if (!call) throw new Error(`no lister for core resource ${r.plural}`);
    return async (o) => page(await call({ limit: o.limit, ...(o.continue ? { _continue: o.continue } : {}) }));
  }
  const custom = kc.makeApiClient(CustomObjectsApi);
  const [group, version] = r.apiVersion.split('/') as [string, string];
  return async (o) => page((await custom.listClusterCustomObject({ group, version, plural: r.plural, limit: o.limit, ...(o.continue ? { _continue: o.continue } : {}) })) as never);
}

/** Kubeconfig from a file, or the in-cluster service account when no file is given. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromCluster();
  return kc;
}

/** The HTTP status of a client-node error (ApiException `code`, Watch `statusCode`), if any. */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  if (e && typeof e.code === 'number') return e.code;
  if (e && typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}
