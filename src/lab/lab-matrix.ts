import { endpointAddr } from '../calc/explain.js';
import { computeMatrix, matrixEndpoints, type ReachabilityMatrix } from '../calc/matrix.js';
import { computeSnapshot } from '../calc/snapshot.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import { NotFoundError } from '../errors.js';
import { compareMatrices, probeMatrix, type Mismatch, type Prober } from './conncheck.js';
import { workloadKey } from './lab-names.js';
import type { LabState } from './lab-state.js';

/**
 * `brindle lab matrix`: probes every pair of the lab's workloads on the kernel and, with
 * `--expect`, computes the same matrix with `policy matrix`'s code from the lab's datastore and
 * compares them cell by cell.
 */

export interface LabMatrixResult {
  probed: ReachabilityMatrix;
  elapsedMs: number;
  computed?: ReachabilityMatrix;
  mismatches?: Mismatch[];
  missing?: string[];
  /** Destinations with no server for the flow: their columns are probed but not compared. */
  unserved?: string[];
}

export function matrixMembers(s: LabState, namespace?: string) {
  return s.workloads
    .filter((w) => w.ip !== undefined && (namespace === undefined || w.namespace === namespace))
    .map((w) => ({ label: workloadKey(w), netns: w.netns, ip: w.ip! }));
}

export async function labMatrix(prober: Prober, s: LabState, flow: { port: number; protocol: 'tcp' | 'udp' }, opts: { namespace?: string; expect?: () => Promise<Datastore>; concurrency?: number } = {}): Promise<LabMatrixResult> {
  const members = matrixMembers(s, opts.namespace);
  if (members.length === 0) throw new NotFoundError(`lab ${s.name} has no workloads with an address${opts.namespace ? ` in namespace ${opts.namespace}` : ''}`);
  const t = Date.now();
  const probed = await probeMatrix(prober, members, flow, opts.concurrency);
  const elapsedMs = Date.now() - t;
  if (!opts.expect) return { probed, elapsedMs };
  const ds = await opts.expect();
  let computed: ReachabilityMatrix;
  try {
    const { items } = await new ResourceClient(ds).listAll();
    const snapshot = computeSnapshot(items, { hostname: '*' });
    const scope = { family: 4 as const, ...(opts.namespace ? { namespace: opts.namespace } : {}) };
    computed = computeMatrix(snapshot, { protocol: flow.protocol.toUpperCase(), port: flow.port, ...scope });
    // policy matrix names a workload by its WorkloadEndpoint (`x/node--1-k8s-a-eth0`); the lab by
    // its pod (`x/a`). The address ties them together.
    const byIp = new Map(members.map((m) => [m.ip, m.label]));
    const ips = matrixEndpoints(snapshot, scope).map((e) => endpointAddr(e, 4)?.text ?? '');
    computed = { ...computed, endpoints: computed.endpoints.map((label, i) => byIp.get(ips[i]!) ?? label) };
  } finally {
    await ds.close();
  }
  const unserved = s.workloads.filter((w) => members.some((m) => m.netns === w.netns) && !w.serve.some((x) => x.port === flow.port && x.protocol === flow.protocol)).map(workloadKey).sort();
  return { probed, elapsedMs, computed, unserved, ...compareMatrices(probed, computed, new Set(unserved)) };
}
