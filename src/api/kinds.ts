/**
 * The resource kinds Brindle knows, with their storage plural, scope and CLI names. This table is
 * the single place a kind is declared; validation and defaults live in their own files.
 */

export const CALICO_API_VERSION = 'projectcalico.org/v3';
export const K8S_NETWORKING_API_VERSION = 'networking.k8s.io/v1';
export const K8S_CORE_API_VERSION = 'v1';

export interface KindInfo {
  kind: string;
  apiVersion: string;
  /** Lower-case plural, used in datastore keys and accepted on the command line. */
  plural: string;
  namespaced: boolean;
  /** Extra names accepted by `brindle get` and friends (calicoctl's short names). */
  shortNames: string[];
  /** Stored as another kind (Kubernetes objects are converted on the way in). */
  storedAs?: string;
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'IPPool', apiVersion: CALICO_API_VERSION, plural: 'ippools', namespaced: false, shortNames: ['ipp', 'ipps', 'pool', 'pools', 'ippool'] },
  { kind: 'IPReservation', apiVersion: CALICO_API_VERSION, plural: 'ipreservations', namespaced: false, shortNames: ['ipreservation'] },
  { kind: 'IPAMConfiguration', apiVersion: CALICO_API_VERSION, plural: 'ipamconfigurations', namespaced: false, shortNames: ['ipamconfig', 'ipamconfigs', 'ipamconfiguration'] },
  { kind: 'Node', apiVersion: CALICO_API_VERSION, plural: 'nodes', namespaced: false, shortNames: ['no', 'nos', 'node'] },
  { kind: 'WorkloadEndpoint', apiVersion: CALICO_API_VERSION, plural: 'workloadendpoints', namespaced: true, shortNames: ['wep', 'weps', 'workloadendpoint'] },
  { kind: 'HostEndpoint', apiVersion: CALICO_API_VERSION, plural: 'hostendpoints', namespaced: false, shortNames: ['hep', 'heps', 'hostendpoint'] },
  { kind: 'NetworkPolicy', apiVersion: CALICO_API_VERSION, plural: 'networkpolicies', namespaced: true, shortNames: ['np', 'pol', 'pols', 'policy', 'policies', 'networkpolicy'] },
  { kind: 'GlobalNetworkPolicy', apiVersion: CALICO_API_VERSION, plural: 'globalnetworkpolicies', namespaced: false, shortNames: ['gnp', 'gnps', 'globalnetworkpolicy'] },
  { kind: 'StagedNetworkPolicy', apiVersion: CALICO_API_VERSION, plural: 'stagednetworkpolicies', namespaced: true, shortNames: ['snp', 'stagednetworkpolicy'] },
  { kind: 'StagedGlobalNetworkPolicy', apiVersion: CALICO_API_VERSION, plural: 'stagedglobalnetworkpolicies', namespaced: false, shortNames: ['sgnp', 'stagedglobalnetworkpolicy'] },
  { kind: 'StagedKubernetesNetworkPolicy', apiVersion: CALICO_API_VERSION, plural: 'stagedkubernetesnetworkpolicies', namespaced: true, shortNames: ['stagedkubernetesnetworkpolicy'] },
  { kind: 'Tier', apiVersion: CALICO_API_VERSION, plural: 'tiers', namespaced: false, shortNames: ['tier'] },
  { kind: 'Profile', apiVersion: CALICO_API_VERSION, plural: 'profiles', namespaced: false, shortNames: ['pro', 'pros', 'profile'] },
  { kind: 'NetworkSet', apiVersion: CALICO_API_VERSION, plural: 'networksets', namespaced: true, shortNames: ['netset', 'netsets', 'networkset'] },
  { kind: 'GlobalNetworkSet', apiVersion: CALICO_API_VERSION, plural: 'globalnetworksets', namespaced: false, shortNames: ['gnetset', 'gnetsets', 'globalnetworkset'] },
  { kind: 'BGPConfiguration', apiVersion: CALICO_API_VERSION, plural: 'bgpconfigurations', namespaced: false, shortNames: ['bgpconfig', 'bgpconfigs', 'bgpconfiguration'] },
  { kind: 'BGPPeer', apiVersion: CALICO_API_VERSION, plural: 'bgppeers', namespaced: false, shortNames: ['bgpp', 'bgpps', 'bp', 'bps', 'bgppeer'] },
  { kind: 'BGPFilter', apiVersion: CALICO_API_VERSION, plural: 'bgpfilters', namespaced: false, shortNames: ['bgpf', 'bgpfilter'] },
  { kind: 'FelixConfiguration', apiVersion: CALICO_API_VERSION, plural: 'felixconfigurations', namespaced: false, shortNames: ['felixconfig', 'felixconfigs', 'felixconfiguration'] },
  { kind: 'KubeControllersConfiguration', apiVersion: CALICO_API_VERSION, plural: 'kubecontrollersconfigurations', namespaced: false, shortNames: ['kcc', 'kubecontrollersconfig', 'kubecontrollersconfigs', 'kubecontrollersconfiguration'] },
  { kind: 'CalicoNodeStatus', apiVersion: CALICO_API_VERSION, plural: 'caliconodestatuses', namespaced: false, shortNames: ['caliconodestatus', 'cns'] },
  { kind: 'ClusterInformation', apiVersion: CALICO_API_VERSION, plural: 'clusterinformations', namespaced: false, shortNames: ['clusterinfo', 'clusterinformation'] },
  // Kubernetes kinds, converted on the way in (NetworkPolicy → Calico NetworkPolicy `knp.default.<name>`,
  // Namespace → Profile `kns.<name>`).
  { kind: 'KubernetesNetworkPolicy', apiVersion: K8S_NETWORKING_API_VERSION, plural: 'k8snetworkpolicies', namespaced: true, shortNames: [], storedAs: 'NetworkPolicy' },
  { kind: 'Namespace', apiVersion: K8S_CORE_API_VERSION, plural: 'namespaces', namespaced: false, shortNames: ['ns', 'namespace'], storedAs: 'Profile' },
];

const byName = new Map<string, KindInfo>();
for (const k of KINDS) {
  for (const n of [k.kind.toLowerCase(), k.plural, ...k.shortNames]) byName.set(n, k);
}

/** Looks a kind up by its kind name, plural or short name, case-insensitively. */
export function lookupKind(name: string): KindInfo | undefined {
  return byName.get(name.toLowerCase());
}

/** The KindInfo for an exact `kind` string as written in a manifest (`IPPool`), if known. */
export function kindInfo(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}

// Resource keys are part of the one key layout (keys.ts); re-exported here for the kind table's users.
export { CLUSTER_SCOPE, parseResourceKey, RESOURCE_KEY_ROOT, resourceKey, resourcePrefix } from './keys.js';
