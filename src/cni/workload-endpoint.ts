import type { WorkloadEndpoint } from '../api/types.js';
import type { WorkloadIdentity } from './workload-identity.js';

/**
 * The WorkloadEndpoint a CNI ADD writes for an attachment (pure), with the fields Calico's plugin
 * fills: node, orchestrator, workload/pod, endpoint, containerID, host interface, container MAC,
 * addresses as /32 or /128, the namespace profile `kns.<namespace>`, and the
 * `projectcalico.org/namespace` and `projectcalico.org/orchestrator` labels policy selects on.
 */
export function buildWorkloadEndpoint(id: WorkloadIdentity, addresses: string[]): WorkloadEndpoint {
  const spec: WorkloadEndpoint['spec'] = {
    orchestrator: id.orchestrator,
    workload: id.orchestrator === 'k8s' ? '' : id.workload,
    node: id.node,
    containerID: id.containerId,
    endpoint: id.endpoint,
    ipNetworks: addresses.map((a) => `${a.split('/')[0]}/${a.includes(':') ? 128 : 32}`),
    profiles: [`kns.${id.namespace}`],
    interfaceName: id.hostVeth,
    mac: id.containerMac,
  };
  if (id.pod !== undefined) spec.pod = id.pod;
  if (spec.workload === '') delete spec.workload;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: {
      name: id.endpointName,
      namespace: id.namespace,
      labels: {
        'projectcalico.org/namespace': id.namespace,
        'projectcalico.org/orchestrator': id.orchestrator,
      },
    },
    spec,
  } as WorkloadEndpoint;
}
