/**
 * Resources for the dataplane benchmarks: N local endpoints (label app=e<i % 50>) on dummy
 * `cali…` interfaces, P policies (policy j selects app == e<j % 50> and allows TCP from
 * app == e<(j+1) % 50> to port 1000+j), two real workloads (web → db) and the toggle policy whose
 * flip the probe observes.
 */
import type { Resource } from '../../src/api/types.js';
import { prepareResource } from '../../src/api/prepare.js';

const V3 = 'projectcalico.org/v3';

export function ifaceFor(i: number): string {
  return `cali${i.toString(16).padStart(11, '0')}`;
}

export function ipFor(i: number): string {
  return `10.66.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export function profile(): Resource {
  return prepareResource({ apiVersion: V3, kind: 'Profile', metadata: { name: 'kns.bench' }, spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] } });
}

export function endpoint(name: string, iface: string, ip: string, labels: Record<string, string>, node = 'node1'): Resource {
  return prepareResource({
    apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name: `${node}-k8s-${name}-eth0`, namespace: 'bench', labels },
    spec: { orchestrator: 'k8s', node, pod: name, endpoint: 'eth0', interfaceName: iface, ipNetworks: [`${ip}/32`], profiles: ['kns.bench'] },
  });
}

export function bulkEndpoints(n: number, node = 'node1'): Resource[] {
  return Array.from({ length: n }, (_, i) => endpoint(`e${i}`, ifaceFor(i), ipFor(i), { app: `e${i % 50}` }, node));
}

export function policies(p: number, portBase = 1000): Resource[] {
  return Array.from({ length: p }, (_, j) => prepareResource({
    apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name: `p${j}` },
    spec: {
      order: 100 + j, selector: `app == 'e${j % 50}'`, types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: `app == 'e${(j + 1) % 50}'` }, destination: { ports: [portBase + j] } }],
    },
  }));
}

/** The policy the probe watches: db allows UDP (allow = true) or denies it. */
export function toggle(allow: boolean): Resource {
  return prepareResource({
    apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name: 'toggle' },
    spec: { order: 1, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: allow ? 'Allow' : 'Deny', protocol: 'UDP' }, { action: 'Allow' }] },
  });
}
