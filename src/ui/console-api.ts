import { parseAllDocuments } from 'yaml';
import type { NodeSpec, Resource } from '../api/types.js';
import { endpointLabel, FlowEvaluator, type FlowPeer as CalcPeer } from '../calc/explain.js';
import { renderExplanation } from '../calc/explain-text.js';
import { computeMatrix, diffMatrices } from '../calc/matrix.js';
import { overlayResources, prepareDocuments } from '../calc/preview.js';
import { computeSnapshot } from '../calc/snapshot.js';
import type { CalcSnapshot } from '../calc/types.js';
import { formatIp, tryParseIp } from '../net/cidr.js';
import { UsageError } from '../errors.js';
import { parsePeerFilter, parseSince, parseVerdict, type FlowFilter } from '../flows/flow-filter.js';
import { flowToJson, peerLabel, type FlowRecord } from '../flows/flow-record.js';
import { enforceStaged } from '../flows/staged-policies.js';

/**
 * What the web console asks, answered from resources and flow records with the same code the CLI
 * runs (`policy explain`, `policy preview`, `flows` filters). Every function takes plain values and
 * returns JSON-ready objects; the HTTP server does the I/O around them.
 */

export function flowFilterFromQuery(q: URLSearchParams, now: number): FlowFilter {
  const get = (k: string): string | undefined => q.get(k)?.trim() || undefined;
  const verdict = get('verdict');
  const from = get('from');
  const to = get('to');
  const policy = get('policy');
  const since = get('since');
  return {
    ...(verdict ? { verdict: parseVerdict(verdict) } : {}),
    ...(from ? { from: parsePeerFilter(from, 'from') } : {}),
    ...(to ? { to: parsePeerFilter(to, 'to') } : {}),
    ...(policy ? { policy } : {}),
    ...(since ? { since: parseSince(since, now, 'since') } : {}),
  };
}

export interface GraphNode {
  id: string;
  kind: 'namespace' | 'workload' | 'host' | 'networkset' | 'external';
  label: string;
  namespace?: string;
}
export interface GraphEdge {
  from: string;
  to: string;
  allowed: { packets: number; bytes: number; flows: number };
  denied: { packets: number; bytes: number; flows: number };
}

/** Namespaces and their workloads (every endpoint, seen or not) plus peers seen in flows; edges summed per verdict. */
export function buildGraph(snapshot: CalcSnapshot, flows: readonly FlowRecord[]): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = new Map<string, GraphNode>();
  const add = (n: GraphNode): void => void (nodes.has(n.id) || nodes.set(n.id, n));
  for (const ep of snapshot.endpoints.values()) {
    if (ep.kind === 'workload') {
      const ns = ep.namespace ?? 'default';
      add({ id: `ns:${ns}`, kind: 'namespace', label: ns });
      add({ id: endpointLabel(ep), kind: 'workload', label: ep.name, namespace: ns });
    } else add({ id: ep.name, kind: 'host', label: ep.name });
  }
  const edges = new Map<string, GraphEdge>();
  // A workload's node is keyed by its endpoint (as above), whatever name its records show.
  const idOf = (p: FlowRecord['src']) => (p.kind === 'workload' && p.endpoint ? `${p.namespace ?? 'default'}/${p.endpoint}` : peerLabel(p));
  for (const f of flows) {
    for (const p of [f.src, f.dst]) {
      const id = idOf(p);
      if (p.kind === 'workload') {
        add({ id: `ns:${p.namespace}`, kind: 'namespace', label: p.namespace ?? 'default' });
        add({ id, kind: 'workload', label: p.name ?? p.ip, namespace: p.namespace ?? 'default' });
      } else add({ id, kind: p.kind, label: id });
    }
    const key = `${idOf(f.src)}>${idOf(f.dst)}`;
    let e = edges.get(key);
    if (!e) edges.set(key, (e = { from: idOf(f.src), to: idOf(f.dst), allowed: { packets: 0, bytes: 0, flows: 0 }, denied: { packets: 0, bytes: 0, flows: 0 } }));
    const side = f.verdict === 'allowed' ? e.allowed : e.denied;
    side.packets += f.packets;
    side.bytes += f.bytes;
    side.flows++;
  }
  return { nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), edges: [...edges.values()] };
}

function calcPeer(ev: FlowEvaluator, ref: string, what: string): CalcPeer {
  const ep = ev.findEndpoint(ref);
  if (ep) return { endpoint: ep };
  const ip = tryParseIp(ref);
  if (!ip) throw new UsageError(`${what} ${ref}: no endpoint "namespace/name" or IP address by that name`);
  const text = formatIp(ip);
  const owners = ev.endpointsByIp(text);
  return owners.length === 1 ? { endpoint: owners[0]!, ip: text } : { ip: text };
}

/** `policy explain` for one flow: the JSON explanation plus its text rendering. */
export function explainFlow(snapshot: CalcSnapshot, q: { from: string; to: string; protocol?: string; port?: string }): unknown {
  const ev = new FlowEvaluator(snapshot);
  const port = q.port ? Number(q.port) : undefined;
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw new UsageError(`port must be 1-65535, got "${q.port}"`);
  let x;
  try {
    x = ev.explain(calcPeer(ev, q.from, 'from'), calcPeer(ev, q.to, 'to'), { protocol: q.protocol || 'TCP', ...(port !== undefined ? { port } : {}) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return { explanation: x, text: renderExplanation(x) };
}

/** `policy preview` of a pasted manifest (YAML or JSON, several documents). */
export function previewManifest(current: Resource[], text: string, q: { protocol?: string; port?: string; staged?: boolean }): unknown {
  const docs: unknown[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length > 0) throw new UsageError(`invalid YAML: ${d.errors[0]!.message}`);
    const v = d.toJS() as unknown;
    if (v !== null && v !== undefined) docs.push(v);
  }
  if (docs.length === 0) throw new UsageError('the manifest has no documents');
  const changes = prepareDocuments(docs, 'apply');
  const flow = { protocol: q.protocol || 'TCP', port: Number(q.port || 80) };
  const overlaid = overlayResources(current, changes);
  const before = computeMatrix(computeSnapshot(current, { hostname: '*' }), flow);
  const after = computeMatrix(computeSnapshot(q.staged ? enforceStaged(overlaid).resources : overlaid, { hostname: '*' }), flow);
  return { protocol: after.protocol, port: after.port, documents: changes.map((c) => ({ kind: c.resource.kind, namespace: c.resource.metadata.namespace, name: c.resource.metadata.name })), ...diffMatrices(before, after) };
}

/** Nodes from the datastore, with what their agents report (when reachable). */
export function nodeStatus(resources: Resource[], agents: Map<string, unknown>): unknown[] {
  return resources
    .filter((r) => r.kind === 'Node')
    .map((r) => {
      const spec = (r.spec ?? {}) as NodeSpec;
      return { name: r.metadata.name, ipv4Address: spec.bgp?.ipv4Address, asNumber: spec.bgp?.asNumber, tunnel: spec.ipv4VXLANTunnelAddr, agent: agents.get(r.metadata.name) ?? null };
    });
}

export function flowsJson(rows: { id: number; record: FlowRecord }[]): unknown[] {
  return rows.map((r) => ({ id: r.id, ...flowToJson(r.record) }));
}
