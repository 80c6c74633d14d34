import { endpointAddr, endpointLabel, FlowEvaluator, type DirectionProgram, type FlowSpec } from './explain.js';
import { protocolHasPorts, protocolLabel, protocolNumber, type Addr } from './rule-matcher.js';
import type { CalcSnapshot, EndpointState } from './types.js';

/**
 * The reachability of every workload endpoint to every other for one protocol and port, as in the
 * Kubernetes network-policy conformance suite's truth tables: a cell is allowed when the source's
 * egress AND the destination's ingress allow the flow (calico-study §2.5 item 7). Every endpoint's
 * programs are compiled once, so the cost per cell is a walk of two short rule lists. Also renders
 * the table and compares two matrices (for `policy preview`). Pure: no I/O.
 */

export interface ReachabilityMatrix {
  protocol: string;
  port?: number;
  family: 4 | 6;
  /** Row and column labels, `namespace/name`, sorted. */
  endpoints: string[];
  /** allowed[i][j]: endpoints[i] → endpoints[j]. */
  allowed: boolean[][];
}

export interface MatrixOptions extends FlowSpec {
  /** Only endpoints of this namespace (rows and columns). */
  namespace?: string;
  family?: 4 | 6;
}

/** Workload endpoints that take part: sorted by label, with an address of the family. */
export function matrixEndpoints(snapshot: CalcSnapshot, opts: { namespace?: string; family?: 4 | 6 }): EndpointState[] {
  const family = opts.family ?? 4;
  return [...snapshot.endpoints.values()]
    .filter((e) => e.kind === 'workload' && (opts.namespace === undefined || e.namespace === opts.namespace))
    .filter((e) => (family === 4 ? e.ipv4Nets : e.ipv6Nets).length > 0)
    .sort((a, b) => compareLabels(endpointLabel(a), endpointLabel(b)));
}

function compareLabels(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function computeMatrix(snapshot: CalcSnapshot, opts: MatrixOptions, evaluator = new FlowEvaluator(snapshot)): ReachabilityMatrix {
  const family = opts.family ?? 4;
  const eps = matrixEndpoints(snapshot, { ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}), family });
  const addrs: Addr[] = eps.map((e) => endpointAddr(e, family)!);
  const egress: DirectionProgram[] = eps.map((e) => evaluator.program(e, 'egress'));
  const ingress: DirectionProgram[] = eps.map((e) => evaluator.program(e, 'ingress'));
  const n = eps.length;
  const allowed: boolean[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<boolean>(n);
    // One packet per row, its destination swapped per cell (the walk never keeps a reference).
    const pkt = evaluator.packet(addrs[i]!, addrs[i]!, opts);
    for (let j = 0; j < n; j++) {
      pkt.dst = addrs[j]!;
      row[j] = evaluator.allows(egress[i]!, pkt) && evaluator.allows(ingress[j]!, pkt);
    }
    allowed.push(row);
  }
  const port = protocolHasPortsOpt(opts) ? opts.port : undefined;
  return { protocol: protocolLabel(protocolNumber(opts.protocol)), ...(port !== undefined ? { port } : {}), family, endpoints: eps.map(endpointLabel), allowed };
}

function protocolHasPortsOpt(opts: FlowSpec): boolean {
  return protocolHasPorts(protocolNumber(opts.protocol));
}

/** The JSON shape of `policy matrix -o json`. */
export function matrixToJson(m: ReachabilityMatrix): { protocol: string; port?: number; endpoints: string[]; allowed: Record<string, Record<string, boolean>> } {
  const allowed: Record<string, Record<string, boolean>> = {};
  m.endpoints.forEach((src, i) => {
    const row: Record<string, boolean> = {};
    m.endpoints.forEach((dst, j) => (row[dst] = m.allowed[i]![j]!));
    allowed[src] = row;
  });
  return { protocol: m.protocol, ...(m.port !== undefined ? { port: m.port } : {}), endpoints: m.endpoints, allowed };
}

/**
 * The truth table as the Kubernetes netpol suite prints it: rows are sources, columns destinations,
 * `.` allowed, `X` denied.
 */
export function renderMatrix(m: ReachabilityMatrix): string {
  const w = Math.max(1, ...m.endpoints.map((e) => e.length));
  const lines = [[''.padEnd(w), ...m.endpoints.map((e) => e.padEnd(w))].join(' ').trimEnd()];
  m.endpoints.forEach((src, i) => {
    lines.push([src.padEnd(w), ...m.allowed[i]!.map((a) => (a ? '.' : 'X').padEnd(w))].join(' ').trimEnd());
  });
  return lines.join('\n') + '\n';
}

export interface CellChange {
  from: string;
  to: string;
  before: boolean;
  after: boolean;
}

export interface MatrixDiff {
  changes: CellChange[];
  addedEndpoints: string[];
  removedEndpoints: string[];
}

/** Cells that differ between two matrices over the endpoints both have, in row-major order. */
export function diffMatrices(before: ReachabilityMatrix, after: ReachabilityMatrix): MatrixDiff {
  const idxBefore = new Map(before.endpoints.map((e, i) => [e, i]));
  const idxAfter = new Map(after.endpoints.map((e, i) => [e, i]));
  const common = after.endpoints.filter((e) => idxBefore.has(e));
  const changes: CellChange[] = [];
  for (const src of common) {
    for (const dst of common) {
      const b = before.allowed[idxBefore.get(src)!]![idxBefore.get(dst)!]!;
      const a = after.allowed[idxAfter.get(src)!]![idxAfter.get(dst)!]!;
      if (a !== b) changes.push({ from: src, to: dst, before: b, after: a });
    }
  }
  return {
    changes,
    addedEndpoints: after.endpoints.filter((e) => !idxBefore.has(e)),
    removedEndpoints: before.endpoints.filter((e) => !idxAfter.has(e)),
  };
}
