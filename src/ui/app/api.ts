/** The console's calls to its server (same origin, JSON). */

export interface Peer { namespace?: string; name?: string; ip: string; kind: string; labels?: Record<string, string> }
export interface Flow {
  id: number; src: Peer; dst: Peer; protocol: string; srcPort?: number; dstPort?: number; direction: string; verdict: 'allowed' | 'denied';
  policy: { kind: string; tier?: string; namespace?: string; name?: string; ruleIndex?: number };
  staged?: { tier: string; namespace?: string; name: string; action: string; ruleIndex?: number }[];
  packets: number; bytes: number; start: string; end: string; node: string;
}
export interface GraphNode { id: string; kind: string; label: string; namespace?: string }
export interface Volume { packets: number; bytes: number; flows: number }
export interface GraphEdge { from: string; to: string; allowed: Volume; denied: Volume }
export interface FlowQuery { verdict?: string; from?: string; to?: string; policy?: string; since?: string }

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function qs(q: Record<string, string | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const api = {
  flows: (q: FlowQuery) => call<{ flows: Flow[]; lastId: number }>(`/api/flows${qs({ ...q })}`),
  graph: (q: FlowQuery) => call<{ nodes: GraphNode[]; edges: GraphEdge[] }>(`/api/graph${qs({ ...q })}`),
  explain: (q: { from: string; to: string; protocol: string; port?: string }) => call<{ text: string; explanation: { verdict: string } }>(`/api/explain${qs(q)}`),
  preview: (manifest: string, q: { port: string; protocol: string; staged: boolean }) =>
    call<{ changes: { from: string; to: string; before: boolean; after: boolean }[]; documents: { kind: string; namespace?: string; name: string }[] }>(`/api/preview${qs({ port: q.port, protocol: q.protocol, staged: q.staged ? 'true' : undefined })}`, { method: 'POST', body: manifest }),
  status: () => call<{ nodes: { name: string; ipv4Address?: string; asNumber?: number; tunnel?: string; agent: unknown }[]; flowRecords: number }>('/api/status'),
};

/** How a flow end is named in the console and in explain requests: `ns/name`, else the address. */
export function peerRef(p: Peer): string {
  return p.kind === 'workload' ? `${p.namespace}/${p.name}` : p.kind === 'host' && p.name ? p.name : p.ip;
}
export function peerText(p: Peer): string {
  return p.kind === 'workload' ? `${p.namespace}/${p.name}` : p.name ?? p.ip;
}
export function policyText(f: Flow): string {
  const p = f.policy;
  if (p.kind === 'policy') return `${p.tier}/${p.namespace ? `${p.namespace}/` : ''}${p.name}${p.ruleIndex !== undefined ? ` rule ${p.ruleIndex}` : ''}`;
  if (p.kind === 'end-of-tier') return `end of tier ${p.tier}`;
  if (p.kind === 'profile') return `profile ${p.name}`;
  return 'no policy';
}
