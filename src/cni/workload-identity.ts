import { createHash } from 'node:crypto';
import type { CniRequest } from './cni-request.js';
import type { NetConf } from './net-conf.js';

/**
 * Who a CNI attachment is and the names everything it owns goes by (pure), as Calico names them:
 * - Kubernetes identity (CNI_ARGS K8S_POD_NAMESPACE + K8S_POD_NAME): endpoint
 *   `<node>-k8s-<pod>-<iface>` in the pod's namespace, host veth `cali` + 11 hex of
 *   sha1("<namespace>.<pod>");
 * - otherwise (podman, containerd, VMs): orchestrator `cni`, the workload is the container ID,
 *   endpoint `<node>-cni-<containerID>-<iface>` in the configured workload namespace.
 * Dashes inside each part are doubled so the joined name parses back unambiguously. IPAM handle
 * `<network>.<containerID>`. An interface other than eth0 adds its name to the veth hash, so a
 * second attachment of one pod gets its own veth.
 */

export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
export const GATEWAY_V4 = '169.254.1.1';
/** The link-local address the host veth gets from its MAC (EUI-64 of ee:ee:ee:ee:ee:ee). */
export const GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

export interface WorkloadIdentity {
  orchestrator: 'k8s' | 'cni';
  namespace: string;
  /** The pod name (k8s) or the container ID (cni). */
  workload: string;
  pod?: string;
  node: string;
  containerId: string;
  /** Interface inside the container (CNI_IFNAME). */
  endpoint: string;
  endpointName: string;
  hostVeth: string;
  handleId: string;
  /** MAC of the container side, derived from the attachment (stable across a retried ADD). */
  containerMac: string;
  /** Attributes stored with each IPAM allocation (`workload` names the endpoint, as `ipam check` expects). */
  ipamAttrs: Record<string, string>;
}

export function workloadIdentity(req: CniRequest, conf: NetConf, node: string): WorkloadIdentity {
  const podNs = req.args.get('K8S_POD_NAMESPACE');
  const pod = req.args.get('K8S_POD_NAME');
  const k8s = !!podNs && !!pod;
  const namespace = k8s ? podNs! : conf.workloadNamespace;
  const workload = k8s ? pod! : nameSafe(req.containerId);
  const orchestrator = k8s ? 'k8s' : 'cni';
  const endpointName = [node, orchestrator, workload, req.ifname].map(escapeDashes).join('-');
  const vethKey = `${namespace}.${workload}${req.ifname === 'eth0' ? '' : `.${req.ifname}`}`;
  const hostVeth = 'cali' + sha1(vethKey).slice(0, 11);
  const handleId = `${conf.name}.${req.containerId}`;
  const m = Buffer.from(sha1(`${handleId}/${req.ifname}`).slice(0, 12), 'hex');
  m[0] = (m[0]! & 0xfe) | 0x02; // unicast, locally administered
  const containerMac = [...m].map((b) => b.toString(16).padStart(2, '0')).join(':');
  const id: WorkloadIdentity = {
    orchestrator, namespace, workload, node, containerId: req.containerId, endpoint: req.ifname,
    endpointName, hostVeth, handleId, containerMac,
    ipamAttrs: { namespace, workload: endpointName, node, containerID: req.containerId, timestamp: '' },
  };
  if (k8s) {
    id.pod = pod!;
    id.ipamAttrs['pod'] = pod!;
  }
  return id;
}

function escapeDashes(s: string): string {
  return s.replace(/-/g, '--');
}

function sha1(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}

/** Container IDs may hold upper case and "_", which resource names may not: fold them and keep the name unique with a hash. */
function nameSafe(id: string): string {
  const folded = id.toLowerCase().replace(/[^a-z0-9.-]/g, '.');
  return folded === id ? id : `${folded}.${sha1(id).slice(0, 8)}`;
}
