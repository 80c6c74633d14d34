/**
 * The Kubernetes network-policy e2e model (kubernetes/kubernetes test/e2e/network/netpol): namespaces
 * x, y, z; pods a, b, c in each, serving TCP and UDP on ports 80 and 81 with named ports
 * `serve-80-tcp`, `serve-80-udp`, `serve-81-tcp`, `serve-81-udp`; and the `Reachability` truth table
 * with the same helpers the upstream suite uses (ExpectPeer, ExpectAllIngress, ExpectAllEgress,
 * Expect). Pods are WorkloadEndpoints on two nodes; namespaces are Kubernetes Namespace documents
 * (converted to `kns.<ns>` profiles on apply).
 */

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
export const ALL_PODS: string[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));

/** Pod IP: 10.0.<ns index+1>.<pod index+1> (x/a = 10.0.1.1, z/c = 10.0.3.3). */
export function podIp(pod: string): string {
  const [ns, name] = pod.split('/') as [string, string];
  return `10.0.${NAMESPACES.indexOf(ns as never) + 1}.${POD_NAMES.indexOf(name as never) + 1}`;
}

export type Doc = Record<string, unknown>;

export function namespaceDoc(ns: string, extraLabels: Record<string, string> = {}): Doc {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns, ns, ...extraLabels } } };
}

export function podDoc(pod: string, extraLabels: Record<string, string> = {}): Doc {
  const [ns, name] = pod.split('/') as [string, string];
  const node = name === 'b' ? 'node-2' : 'node-1';
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: ns, labels: { pod: name, ...extraLabels } },
    spec: {
      orchestrator: 'k8s',
      node,
      pod: name,
      endpoint: 'eth0',
      interfaceName: `cali${ns}${name}0000000`.slice(0, 15),
      ipNetworks: [`${podIp(pod)}/32`],
      profiles: [`kns.${ns}`],
      ports: [80, 81].flatMap((port) => ['TCP', 'UDP'].map((protocol) => ({ name: `serve-${port}-${protocol.toLowerCase()}`, protocol, port }))),
    },
  };
}

export function baseDocs(): Doc[] {
  return [...NAMESPACES.map((ns) => namespaceDoc(ns)), ...ALL_PODS.map((p) => podDoc(p))];
}

/** A Kubernetes NetworkPolicy document. */
export function netpol(namespace: string, name: string, spec: Doc): Doc {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

export interface Peer {
  namespace?: string;
  pod?: string;
}

function matches(p: Peer, pod: string): boolean {
  const [ns, name] = pod.split('/');
  return (p.namespace === undefined || p.namespace === ns) && (p.pod === undefined || p.pod === name);
}

/** The expected truth table, built like upstream's `NewReachability(pods, true)` + Expect* calls. */
export class Reachability {
  readonly expected = new Map<string, Map<string, boolean>>();
  constructor(readonly pods: string[] = ALL_PODS, initial = true) {
    for (const a of pods) this.expected.set(a, new Map(pods.map((b) => [b, initial])));
  }
  expect(from: string, to: string, v: boolean): this {
    this.expected.get(from)!.set(to, v);
    return this;
  }
  expectPeer(from: Peer, to: Peer, v: boolean): this {
    for (const a of this.pods) for (const b of this.pods) if (matches(from, a) && matches(to, b)) this.expect(a, b, v);
    return this;
  }
  expectAllIngress(pod: string, v: boolean): this {
    for (const a of this.pods) this.expect(a, pod, v);
    return this;
  }
  expectAllEgress(pod: string, v: boolean): this {
    for (const b of this.pods) this.expect(pod, b, v);
    return this;
  }
}

/** Mismatching cells (loopback ignored, as upstream's `ignoreLoopback`) and a side-by-side table. */
export function compareReachability(r: Reachability, actual: Record<string, Record<string, boolean>>): { wrong: number; table: string } {
  let wrong = 0;
  const w = Math.max(...r.pods.map((p) => p.length));
  const lines = [`${'expected'.padEnd(w + 1 + r.pods.length * (w + 1))}   actual`];
  const head = [''.padEnd(w), ...r.pods.map((p) => p.padEnd(w))].join(' ');
  lines.push(`${head}   ${head}`);
  for (const a of r.pods) {
    const exp: string[] = [];
    const act: string[] = [];
    for (const b of r.pods) {
      const e = r.expected.get(a)!.get(b)!;
      const got = actual[a]?.[b];
      const bad = a !== b && got !== e;
      if (bad) wrong++;
      exp.push((e ? '.' : 'X').padEnd(w));
      act.push((got === undefined ? '?' : bad ? (got ? '.!' : 'X!') : got ? '.' : 'X').padEnd(w));
    }
    lines.push(`${[a.padEnd(w), ...exp].join(' ')}   ${[a.padEnd(w), ...act].join(' ')}`);
  }
  return { wrong, table: lines.join('\n') };
}
