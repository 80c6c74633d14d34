import { ANP_PREFIX, BANP_PREFIX, CNP_PREFIX } from '../api/k8s-admin-policy.js';
import { convertServiceAccount, type K8sServiceAccount } from '../api/k8s-workload.js';
import { K8S_POLICY_PREFIX, NAMESPACE_PROFILE_PREFIX, SERVICE_ACCOUNT_PROFILE_PREFIX, type Resource } from '../api/types.js';
import type { KubeObject } from './kube-resources.js';
import type { MirrorSpec } from './mirror-controller.js';

/**
 * What each mirrored Kubernetes resource becomes, and which stored resources each controller
 * owns (by name prefix, so a restart with no memory still recognises its own). The Kubernetes
 * documents themselves are handed to the ResourceClient, whose write path validates and converts
 * them exactly as `brindle apply` does.
 */

/** The object as a user would write it: identity, labels, annotations and spec; nothing server-set. */
export function asWritten(o: KubeObject): Record<string, unknown> {
  const m = o.metadata;
  const metadata: Record<string, unknown> = { name: m.name };
  if (m.namespace !== undefined) metadata['namespace'] = m.namespace;
  if (m.labels && Object.keys(m.labels).length > 0) metadata['labels'] = m.labels;
  const annotations = Object.fromEntries(Object.entries(m.annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration'));
  if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations;
  const out: Record<string, unknown> = { apiVersion: o.apiVersion, kind: o.kind, metadata };
  if (o['spec'] !== undefined && o.kind !== 'Namespace') out['spec'] = o['spec'];
  return out;
}

const named = (kind: string, prefix: string) => (r: Resource): boolean => r.kind === kind && r.metadata.name.startsWith(prefix);

export const NAMESPACE_MIRROR: MirrorSpec = {
  name: 'namespaces',
  kinds: ['Profile'],
  owns: named('Profile', NAMESPACE_PROFILE_PREFIX),
  convert: (o) => [{ ...asWritten(o), apiVersion: 'v1', kind: 'Namespace' }],
};

export const SERVICE_ACCOUNT_MIRROR: MirrorSpec = {
  name: 'serviceaccounts',
  kinds: ['Profile'],
  owns: named('Profile', SERVICE_ACCOUNT_PROFILE_PREFIX),
  convert: (o) => [convertServiceAccount(o as unknown as K8sServiceAccount)],
};

export const NETWORK_POLICY_MIRROR: MirrorSpec = {
  name: 'networkpolicies',
  kinds: ['NetworkPolicy'],
  owns: named('NetworkPolicy', K8S_POLICY_PREFIX),
  convert: (o) => [{ ...asWritten(o), apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }],
};

/** EndpointSlice → KubernetesEndpointSlice (its ready endpoints and ports), for `services` rule matches. */
export const ENDPOINT_SLICE_MIRROR: MirrorSpec = {
  name: 'endpointslices',
  kinds: ['KubernetesEndpointSlice'],
  owns: (r) => r.kind === 'KubernetesEndpointSlice',
  convert: (o) => {
    const service = o.metadata.labels?.['kubernetes.io/service-name'];
    const addressType = o['addressType'] as string | undefined;
    if (!service || (addressType !== 'IPv4' && addressType !== 'IPv6')) return [];
    type K8sEndpoint = { addresses?: string[]; conditions?: { ready?: boolean | null } };
    type K8sPort = { name?: string; protocol?: string; port?: number | null };
    const endpoints = ((o['endpoints'] as K8sEndpoint[] | undefined) ?? []).map((e) => ({
      addresses: e.addresses ?? [],
      // Kubernetes: a missing ready condition means ready.
      ...(e.conditions?.ready === false ? { conditions: { ready: false } } : {}),
    }));
    const ports = ((o['ports'] as K8sPort[] | undefined) ?? []).filter((p) => typeof p.port === 'number').map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP', port: p.port as number }));
    return [{ apiVersion: 'projectcalico.org/v3', kind: 'KubernetesEndpointSlice', metadata: { name: o.metadata.name, namespace: o.metadata.namespace }, spec: { serviceName: service, addressType, endpoints, ports } }];
  },
};

function adminMirror(name: string, kind: string, prefix: string): MirrorSpec {
  return { name, kinds: ['GlobalNetworkPolicy'], owns: named('GlobalNetworkPolicy', prefix), convert: (o) => [{ ...asWritten(o), kind }] };
}

export const CLUSTER_NETWORK_POLICY_MIRROR = adminMirror('clusternetworkpolicies', 'ClusterNetworkPolicy', CNP_PREFIX);
export const ADMIN_NETWORK_POLICY_MIRROR = adminMirror('adminnetworkpolicies', 'AdminNetworkPolicy', ANP_PREFIX);
export const BASELINE_ADMIN_NETWORK_POLICY_MIRROR = adminMirror('baselineadminnetworkpolicies', 'BaselineAdminNetworkPolicy', BANP_PREFIX);
