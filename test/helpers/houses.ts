import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

/**
 * The network-policy-api conformance model (conformance/base/manifests.yaml): namespaces
 * `network-policy-conformance-<house>` labelled `conformance-house: <house>`, two pods per house
 * (`<character>-0`, `<character>-1`) labelled the same, serving TCP 80 (named port `web`) and
 * UDP 53 (`dns`). Pods are WorkloadEndpoints; IPs 10.1.<house>.<pod>. Also runs the `brindle` CLI
 * in-process for `apply -f` and `policy matrix`.
 */

export const HOUSES = { gryffindor: 'harry-potter', slytherin: 'draco-malfoy', hufflepuff: 'cedric-diggory', ravenclaw: 'luna-lovegood' } as const;
export type House = keyof typeof HOUSES;
export const houseNamespace = (h: House): string => `network-policy-conformance-${h}`;

export type Doc = Record<string, unknown>;

export function houseNamespaceDoc(h: House): Doc {
  const name = houseNamespace(h);
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'conformance-house': h, 'kubernetes.io/metadata.name': name } } };
}

export function housePodIp(h: House, i: number): string {
  return `10.1.${Object.keys(HOUSES).indexOf(h) + 1}.${i + 1}`;
}

export function housePodDoc(h: House, i: number): Doc {
  const pod = `${HOUSES[h]}-${i}`;
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name: `node--1-k8s-${pod}-eth0`, namespace: houseNamespace(h), labels: { 'conformance-house': h, 'statefulset.kubernetes.io/pod-name': pod } },
    spec: {
      orchestrator: 'k8s', node: 'node-1', pod, endpoint: 'eth0', interfaceName: `cali${h.slice(0, 6)}${i}`,
      ipNetworks: [`${housePodIp(h, i)}/32`], profiles: [`kns.${houseNamespace(h)}`],
      ports: [{ name: 'web', protocol: 'TCP', port: 80 }, { name: 'dns', protocol: 'UDP', port: 53 }],
    },
  };
}

export function houseDocs(): Doc[] {
  const hs = Object.keys(HOUSES) as House[];
  return [...hs.map(houseNamespaceDoc), ...hs.flatMap((h) => [0, 1].map((i) => housePodDoc(h, i)))];
}

/** `<namespace>/<endpoint name>` as `policy matrix` labels it (the WEP is named for node, pod and interface). */
export function podLabel(h: House, i: number): string {
  return `${houseNamespace(h)}/node--1-k8s-${HOUSES[h]}-${i}-eth0`;
}

export async function cli(argv: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const input = new PassThrough();
  input.end(stdin);
  const chunks: string[] = [];
  const errs: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  err.on('data', (c: Buffer) => errs.push(c.toString()));
  const code = await main(argv, {}, { stdout: out, stderr: err, stdin: input });
  return { code, stdout: chunks.join(''), stderr: errs.join('') };
}

/** `brindle policy matrix -o json` over the datastore: allowed[from][to]. */
export async function matrix(url: string, protocol: string, port: number): Promise<{ endpoints: string[]; allowed: Record<string, Record<string, boolean>> }> {
  const r = await cli(['--datastore', url, 'policy', 'matrix', '--protocol', protocol, '--port', String(port), '-o', 'json']);
  if (r.code !== 0) throw new Error(`policy matrix failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { endpoints: string[]; allowed: Record<string, Record<string, boolean>> };
}
