import type { ReachabilityMatrix } from '../calc/matrix.js';

/**
 * The probed connectivity matrix (Felix's fv `conncheck` idea): one prober per source workload
 * probes every destination at once, a bounded number of sources at a time, and the answers fill a
 * `ReachabilityMatrix`, the same shape `brindle policy matrix` computes, so the same renderer and
 * JSON apply. `compareMatrices` lists the cells where the kernel and the calculation disagree. A
 * workload probing its own address never leaves its namespace (loopback, never policed), so the
 * diagonal is probed but not compared, as the Kubernetes suite's `ignoreLoopback`.
 */

export interface ProbeTarget {
  ip: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

/** Runs probes from inside one workload; true = reachable. */
export interface Prober {
  probe(fromNetns: string, targets: readonly ProbeTarget[]): Promise<boolean[]>;
}

export interface MatrixMember {
  /** `namespace/name` */
  label: string;
  netns: string;
  ip: string;
}

export const MAX_PROBES = 10_000;

export async function probeMatrix(prober: Prober, members: readonly MatrixMember[], flow: { port: number; protocol: 'tcp' | 'udp' }, concurrency = 6): Promise<ReachabilityMatrix> {
  const sorted = [...members].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  if (sorted.length * sorted.length > MAX_PROBES) throw new Error(`${sorted.length}×${sorted.length} probes exceed the bound of ${MAX_PROBES}`);
  const targets = sorted.map((m) => ({ ip: m.ip, port: flow.port, protocol: flow.protocol }));
  const allowed: boolean[][] = new Array(sorted.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sorted.length) {
      const i = next++;
      const row = await prober.probe(sorted[i]!.netns, targets);
      if (row.length !== targets.length) throw new Error(`prober in ${sorted[i]!.netns} answered ${row.length} of ${targets.length} probes`);
      allowed[i] = row;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, sorted.length)) }, worker));
  return { protocol: flow.protocol.toUpperCase(), port: flow.port, family: 4, endpoints: sorted.map((m) => m.label), allowed };
}

export interface Mismatch {
  from: string;
  to: string;
  probed: boolean;
  computed: boolean;
}

/**
 * Disagreeing cells over the endpoints both matrices have, row-major, diagonal skipped, and
 * columns in `unserved` skipped (nothing listens there, so a probe cannot tell).
 */
export function compareMatrices(probed: ReachabilityMatrix, computed: ReachabilityMatrix, unserved: ReadonlySet<string> = new Set()): { mismatches: Mismatch[]; missing: string[] } {
  const idx = new Map(computed.endpoints.map((e, i) => [e, i]));
  const out: Mismatch[] = [];
  probed.endpoints.forEach((from, i) => {
    const ci = idx.get(from);
    if (ci === undefined) return;
    probed.endpoints.forEach((to, j) => {
      const cj = idx.get(to);
      if (cj === undefined || i === j || unserved.has(to)) return;
      const p = probed.allowed[i]![j]!;
      const c = computed.allowed[ci]![cj]!;
      if (p !== c) out.push({ from, to, probed: p, computed: c });
    });
  });
  return { mismatches: out, missing: probed.endpoints.filter((e) => !idx.has(e)) };
}

export function renderMismatches(mismatches: readonly Mismatch[], missing: readonly string[], unserved: readonly string[] = []): string {
  const lines: string[] = [];
  if (unserved.length > 0) lines.push(`Not compared (no server on this port and protocol): columns ${unserved.join(', ')}`);
  if (missing.length > 0) lines.push(`Not in the computed matrix (no WorkloadEndpoint with an IPv4 address): ${missing.join(', ')}`);
  if (mismatches.length === 0) {
    lines.push('Kernel and policy calculation agree on every cell (the diagonal, loopback, is not compared).');
    return lines.join('\n') + '\n';
  }
  lines.push(`${mismatches.length} cell${mismatches.length === 1 ? '' : 's'} where the kernel and the policy calculation DISAGREE:`);
  const w = Math.max(...mismatches.map((m) => `${m.from} → ${m.to}`.length));
  for (const m of mismatches) lines.push(`  ${`${m.from} → ${m.to}`.padEnd(w)}  probed ${m.probed ? 'allowed' : 'denied'}, computed ${m.computed ? 'allowed' : 'denied'}`);
  return lines.join('\n') + '\n';
}
