import { adminPolicyStoredName, isAdminPolicyDocument, type AdminPolicyKind } from './k8s-admin-policy.js';
import { K8S_POLICY_PREFIX, NAMESPACE_PROFILE_PREFIX } from './types.js';

/**
 * Which Kubernetes (not Calico) objects Brindle accepts on input and converts: a NetworkPolicy,
 * a Namespace, and the network-policy API's ClusterNetworkPolicy, AdminNetworkPolicy and
 * BaselineAdminNetworkPolicy. Pure.
 */

/** The Brindle kind name (the KINDS entry) of a Kubernetes input document, or undefined. */
export function k8sInputKind(doc: { apiVersion?: unknown; kind?: unknown }): string | undefined {
  if (doc.kind === 'NetworkPolicy' && doc.apiVersion === 'networking.k8s.io/v1') return 'KubernetesNetworkPolicy';
  if (doc.kind === 'Namespace' && doc.apiVersion === 'v1') return 'Namespace';
  if (isAdminPolicyDocument(doc)) return doc.kind as string;
  return undefined;
}

/** True for a Kubernetes document that is converted on the way in. */
export function isK8sDocument(doc: { apiVersion?: unknown; kind?: unknown }): boolean {
  return k8sInputKind(doc) !== undefined;
}

/** The stored kind and name of a Kubernetes input document (what `delete -f` removes). */
export function k8sStoredIdentity(doc: { apiVersion?: unknown; kind?: unknown; metadata: { name: string } }): { kind: string; name: string } | undefined {
  const k = k8sInputKind(doc);
  if (k === 'KubernetesNetworkPolicy') return { kind: 'NetworkPolicy', name: K8S_POLICY_PREFIX + doc.metadata.name };
  if (k === 'Namespace') return { kind: 'Profile', name: NAMESPACE_PROFILE_PREFIX + doc.metadata.name };
  if (k !== undefined) return { kind: 'GlobalNetworkPolicy', name: adminPolicyStoredName(k as AdminPolicyKind, doc.metadata.name) };
  return undefined;
}
