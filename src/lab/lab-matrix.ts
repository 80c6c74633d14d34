import { computeMatrix, type ReachabilityMatrix } from '../calc/matrix.js';
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
    computed = computeMatrix(computeSnapshot(items, { hostname: '*' }), { protocol: flow.protocol.toUpperCase(), port: flow.port, family: 4, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
  } finally {
    await ds.close();
  }
  return { probed, elapsedMs, computed, ...compareMatrices(probed, computed) };
}
