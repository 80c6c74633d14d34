import type { KubernetesEndpointSliceSpec, Resource } from './types.js';
import { checkIP, checkSubdomainName, push, type Issues } from './validate-fields.js';

/** A stored KubernetesEndpointSlice: a service name, endpoint IPs, ports 1-65535 of TCP/UDP/SCTP. Pure. */
export function validateEndpointSlice(r: Resource, issues: Issues): void {
  const spec = (r.spec ?? {}) as KubernetesEndpointSliceSpec;
  if (!spec.serviceName) push(issues, 'spec.serviceName', 'serviceName is required');
  else checkSubdomainName(spec.serviceName, 'spec.serviceName', issues, 'service name');
  (spec.endpoints ?? []).forEach((e, i) => (e.addresses ?? []).forEach((a, j) => checkIP(a, `spec.endpoints[${i}].addresses[${j}]`, issues)));
  (spec.ports ?? []).forEach((p, i) => {
    if (p.port < 1 || p.port > 65535) push(issues, `spec.ports[${i}].port`, `port ${p.port} is out of range 1-65535`);
    if (p.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) push(issues, `spec.ports[${i}].protocol`, `protocol "${p.protocol}" must be TCP, UDP or SCTP`);
  });
}
