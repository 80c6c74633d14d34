import type { Exec } from '../base/exec.js';
import { agentGet } from './lab-agents.js';
import { describeFlowLogs, type LabFlowLogs } from './lab-flow-logs.js';
import { workloadKey } from './lab-names.js';
import { bgpSessions, type BgpSession } from './lab-routing.js';
import type { LabState } from './lab-state.js';
import { isRunning } from './process-supervisor.js';

/**
 * `brindle lab status`: the nodes (namespace, underlay address, agent running and ready, BGP
 * sessions), the workloads with their addresses, and any process of the lab that is not running.
 */

export interface NodeStatus {
  name: string;
  netns: string;
  ip: string;
  runDir: string;
  agent: 'ready' | 'not ready' | 'stopped' | 'none';
  bgp?: BgpSession[];
}

export interface LabStatus {
  name: string;
  routing: string;
  datastore: string;
  /** Present when the agents record flows: the store `brindle flows --flow-store` reads. */
  flowLogs?: LabFlowLogs;
  nodes: NodeStatus[];
  workloads: { workload: string; node: string; ip?: string; netns: string; serve: string[]; labels: Record<string, string>; server: 'running' | 'stopped' | 'none' }[];
  stopped: string[];
}

export async function labStatus(exec: Exec, s: LabState): Promise<LabStatus> {
  const nodes = await Promise.all(s.nodes.map(async (n): Promise<NodeStatus> => {
    const p = s.processes.find((x) => x.role === `agent:${n.name}`);
    let agent: NodeStatus['agent'] = 'none';
    if (p) agent = !isRunning(p) ? 'stopped' : (await agentGet(n, '/readyz'))?.status === 200 ? 'ready' : 'not ready';
    const bgp = s.routing === 'bgp' ? await bgpSessions(exec, n) : undefined;
    return { name: n.name, netns: n.netns, ip: n.ip, runDir: n.runDir, agent, ...(bgp ? { bgp } : {}) };
  }));
  const workloads = s.workloads.map((w) => {
    const p = s.processes.find((x) => x.role === `serve:${workloadKey(w)}`);
    return {
      workload: workloadKey(w), node: w.node, ...(w.ip ? { ip: w.ip } : {}), netns: w.netns,
      serve: w.serve.map((x) => `${x.port}/${x.protocol}`), labels: w.labels,
      server: (p ? (isRunning(p) ? 'running' : 'stopped') : 'none') as 'running' | 'stopped' | 'none',
    };
  });
  return { name: s.name, routing: s.routing, datastore: s.datastore.url, ...(s.flowLogs ? { flowLogs: s.flowLogs } : {}), nodes, workloads, stopped: s.processes.filter((p) => !isRunning(p)).map((p) => p.role) };
}

export function renderLabStatus(st: LabStatus): string {
  const lines = [`Lab ${st.name}: ${st.nodes.length} node(s), routing ${st.routing}, datastore ${st.datastore}${st.flowLogs ? `, ${describeFlowLogs(st.flowLogs)}, store ${st.flowLogs.store}` : ''}`, ''];
  lines.push(...table(['NODE', 'NAMESPACE', 'UNDERLAY', 'AGENT', st.routing === 'bgp' ? 'BGP SESSIONS' : 'ROUTING'], st.nodes.map((n) => [
    n.name, n.netns, n.ip, n.agent,
    st.routing === 'bgp' ? (n.bgp ? `${n.bgp.filter((b) => b.info.startsWith('Established')).length}/${n.bgp.length} Established` : '-') : 'vxlan',
  ])));
  lines.push('');
  if (st.workloads.length === 0) lines.push('No workloads (add one: brindle lab workload add --node node-1 NAMESPACE/NAME --serve 80/tcp).');
  else lines.push(...table(['WORKLOAD', 'NODE', 'ADDRESS', 'SERVES', 'SERVER', 'LABELS'], st.workloads.map((w) => [
    w.workload, w.node, w.ip ?? '-', w.serve.join(',') || '-', w.server, Object.entries(w.labels).map(([k, v]) => `${k}=${v}`).join(',') || '-',
  ])));
  if (st.stopped.length > 0) lines.push('', `Not running: ${st.stopped.join(', ')} (brindle lab up repairs the nodes)`);
  return lines.join('\n') + '\n';
}

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd());
}
