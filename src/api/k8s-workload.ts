import { tryParseIp } from '../net/cidr.js';
import {
  LABEL_NAME,
  LABEL_NAMESPACE,
  LABEL_ORCHESTRATOR,
  LABEL_SERVICE_ACCOUNT,
  NAMESPACE_PROFILE_PREFIX,
  SERVICE_ACCOUNT_LABEL_PREFIX,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
  type EndpointPort,
  type Profile,
} from './types.js';
import { CALICO_API_VERSION } from './kinds.js';

/**
 * What Brindle takes from Kubernetes Pods and ServiceAccounts, as Calico's KDD conversion does
 * (`libcalico-go/lib/backend/k8s/conversion`: `ServiceAccountToProfile`, the pod → WorkloadEndpoint
 * fields) and as its CNI plugin reads pod annotations (`cni-plugin/pkg/k8s/k8s.go`). Pure.
 */

export interface K8sPod {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string; resourceVersion?: string; deletionTimestamp?: string };
  spec?: { serviceAccountName?: string; nodeName?: string; hostNetwork?: boolean; containers?: { ports?: { name?: string; containerPort: number; protocol?: string; hostPort?: number; hostIP?: string }[] }[] };
  status?: { podIP?: string; podIPs?: { ip: string }[]; phase?: string };
}

export interface K8sServiceAccount {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; creationTimestamp?: string };
}

export const ORCHESTRATOR_K8S = 'k8s';

/** The profile of a service account: `ksa.<namespace>.<name>`. */
export function serviceAccountProfileName(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PROFILE_PREFIX}${namespace}.${name}`;
}

/** ServiceAccount → Profile `ksa.<ns>.<sa>`: no rules, the account's labels as `pcsa.*`. */
export function convertServiceAccount(sa: K8sServiceAccount): Profile {
  const ns = sa.metadata.namespace ?? 'default';
  const labelsToApply: Record<string, string> = {};
  for (const [k, v] of Object.entries(sa.metadata.labels ?? {})) labelsToApply[SERVICE_ACCOUNT_LABEL_PREFIX + k] = v;
  labelsToApply[SERVICE_ACCOUNT_LABEL_PREFIX + LABEL_NAME] = sa.metadata.name;
  const metadata: Profile['metadata'] = { name: serviceAccountProfileName(ns, sa.metadata.name) };
  if (sa.metadata.creationTimestamp) metadata.creationTimestamp = sa.metadata.creationTimestamp;
  return { apiVersion: CALICO_API_VERSION, kind: 'Profile', metadata, spec: { labelsToApply } };
}

/** The WorkloadEndpoint fields a pod decides: labels, service account, profiles and named ports. */
export interface PodEndpointFields {
  labels: Record<string, string>;
  serviceAccountName?: string;
  profiles: string[];
  ports: EndpointPort[];
}

export function podEndpointFields(pod: K8sPod): PodEndpointFields {
  const ns = pod.metadata.namespace ?? 'default';
  const sa = pod.spec?.serviceAccountName;
  const labels: Record<string, string> = { ...(pod.metadata.labels ?? {}), [LABEL_NAMESPACE]: ns, [LABEL_ORCHESTRATOR]: ORCHESTRATOR_K8S };
  if (sa) labels[LABEL_SERVICE_ACCOUNT] = sa;
  const profiles = [NAMESPACE_PROFILE_PREFIX + ns];
  if (sa) profiles.push(serviceAccountProfileName(ns, sa));
  const ports: EndpointPort[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.name) continue;
      const port: EndpointPort = { name: p.name, protocol: p.protocol ?? 'TCP', port: p.containerPort };
      if (p.hostPort) port.hostPort = p.hostPort;
      if (p.hostIP) port.hostIP = p.hostIP;
      ports.push(port);
    }
  }
  return { labels, ...(sa ? { serviceAccountName: sa } : {}), profiles, ports };
}

export const ANNOTATION_IPV4_POOLS = 'cni.projectcalico.org/ipv4pools';
export const ANNOTATION_IPV6_POOLS = 'cni.projectcalico.org/ipv6pools';
export const ANNOTATION_IP_ADDRS = 'cni.projectcalico.org/ipAddrs';
export const ANNOTATION_IP_ADDRS_NO_IPAM = 'cni.projectcalico.org/ipAddrsNoIpam';

/** The IPAM choices a pod (or its namespace, for pools) asks for through annotations. */
export interface PodIpamRequest {
  ipv4Pools?: string[];
  ipv6Pools?: string[];
  ipAddrs?: string[];
  ipAddrsNoIpam?: string[];
}

/**
 * Reads the CNI annotations of a pod, falling back to its namespace's pool annotations (pod wins,
 * as Calico's precedence pod > namespace > network config). Each is a JSON list of strings;
 * anything else is an error naming the annotation, so the CNI ADD fails instead of guessing.
 */
export function podIpamRequest(podAnnotations: Record<string, string> = {}, namespaceAnnotations: Record<string, string> = {}): PodIpamRequest {
  const out: PodIpamRequest = {};
  const list = (source: Record<string, string>, key: string, what: string): string[] | undefined => {
    const raw = source[key];
    if (raw === undefined) return undefined;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw new Error(`annotation ${key} is not JSON: ${raw}`);
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`annotation ${key} must be a JSON list of ${what}, got ${raw}`);
    return v as string[];
  };
  const v4 = list(podAnnotations, ANNOTATION_IPV4_POOLS, 'pool names or CIDRs') ?? list(namespaceAnnotations, ANNOTATION_IPV4_POOLS, 'pool names or CIDRs');
  const v6 = list(podAnnotations, ANNOTATION_IPV6_POOLS, 'pool names or CIDRs') ?? list(namespaceAnnotations, ANNOTATION_IPV6_POOLS, 'pool names or CIDRs');
  const addrs = list(podAnnotations, ANNOTATION_IP_ADDRS, 'IP addresses');
  const noIpam = list(podAnnotations, ANNOTATION_IP_ADDRS_NO_IPAM, 'IP addresses');
  for (const [key, ips] of [[ANNOTATION_IP_ADDRS, addrs], [ANNOTATION_IP_ADDRS_NO_IPAM, noIpam]] as const) {
    for (const ip of ips ?? []) if (!tryParseIp(ip)) throw new Error(`annotation ${key}: "${ip}" is not an IP address`);
  }
  if (addrs && noIpam) throw new Error(`annotations ${ANNOTATION_IP_ADDRS} and ${ANNOTATION_IP_ADDRS_NO_IPAM} cannot both be set`);
  if (addrs && (v4 || v6) && (podAnnotations[ANNOTATION_IPV4_POOLS] || podAnnotations[ANNOTATION_IPV6_POOLS])) {
    throw new Error(`annotation ${ANNOTATION_IP_ADDRS} cannot be combined with pool annotations`);
  }
  if (v4) out.ipv4Pools = v4;
  if (v6) out.ipv6Pools = v6;
  if (addrs) out.ipAddrs = addrs;
  if (noIpam) out.ipAddrsNoIpam = noIpam;
  return out;
}
