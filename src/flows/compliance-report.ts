import { endpointAddr, endpointLabel, type FlowEvaluator } from '../calc/explain.js';
import { protocolHasPorts, protocolNumber } from '../calc/rule-matcher.js';
import type { CalcSnapshot, EndpointState, ParsedRule } from '../calc/types.js';
import type { Selector } from '../selector/index.js';
import { peerLabel, policyLabel, type FlowPeer, type FlowRecord } from './flow-record.js';

/**
 * `brindle report compliance`: for zones defined by label selectors (`pci == "true"`), which
 * recorded flows crossed a zone boundary in a period, and whether current policy would allow any
 * flow across a boundary at all. The second answer comes from the calculation, not from traffic:
 * every workload in a zone against every workload outside it, both ways, for every protocol and
 * port at which a rule's verdict can change (the edges of every port range in any rule, plus one
 * port no rule names, for TCP, UDP and SCTP; ICMP; and every other protocol a rule names). Pure.
 */

export interface Zone {
  name: string;
  selector: Selector;
}

export interface CrossZoneFlow {
  from: string;
  to: string;
  fromZone: string | null;
  toZone: string | null;
  protocol: string;
  dstPort?: number;
  verdict: string;
  policy: string;
  packets: number;
  bytes: number;
  flows: number;
}

export interface AllowedPath {
  from: string;
  to: string;
  fromZone: string | null;
  toZone: string | null;
  protocol: string;
  port?: number;
}

export interface ComplianceReport {
  period: { since: string; until: string };
  zones: { name: string; selector: string; endpoints: string[] }[];
  crossings: CrossZoneFlow[];
  crossingTotals: { allowed: number; denied: number };
  policy: { crossZoneAllowed: boolean; examples: AllowedPath[]; pairsChecked: number; probes: number };
}

const zoneOfLabels = (zones: Zone[], labels: Record<string, string> | undefined): string | null => {
  if (!labels) return null;
  const m = new Map(Object.entries(labels));
  return zones.find((z) => z.selector.evaluate(m))?.name ?? null;
};

export function zoneOfPeer(zones: Zone[], p: FlowPeer): string | null {
  return zoneOfLabels(zones, p.kind === 'external' ? undefined : p.labels);
}

/** The (protocol, port) probes at which some rule's verdict can change. */
export function policyProbes(snapshot: CalcSnapshot): { protocol: string; port?: number }[] {
  const ports = new Set<number>([1, 65535]);
  const protos = new Set<number>([6, 17, 132, 1]);
  const rules: ParsedRule[] = [];
  for (const p of snapshot.policies.values()) rules.push(...p.inbound, ...p.outbound);
  for (const p of snapshot.profiles.values()) rules.push(...p.inbound, ...p.outbound);
  for (const r of rules) {
    for (const side of [r.src, r.dst]) {
      for (const pr of [...(side?.ports ?? []), ...(side?.notPorts ?? [])]) for (const x of [pr.first - 1, pr.first, pr.last, pr.last + 1]) if (x >= 1 && x <= 65535) ports.add(x);
    }
    for (const p of [r.protocol, r.notProtocol]) if (p !== undefined) protos.add(protocolNumber(p));
  }
  // Named ports resolve to numbers in ip-and-port set members (`addr,tcp:8080`).
  for (const s of snapshot.ipSets.values()) {
    if (s.type !== 'ip-and-port') continue;
    for (const m of s.members) {
      const port = Number(/:(\d+)$/.exec(m)?.[1]);
      if (port >= 1 && port <= 65535) for (const x of [port - 1, port, port + 1]) if (x >= 1 && x <= 65535) ports.add(x);
    }
  }
  // A port no rule names stands for all the ports between edges.
  for (let p = 2; p < 65535; p++) if (!ports.has(p)) { ports.add(p); break; }
  const out: { protocol: string; port?: number }[] = [];
  for (const n of [...protos].sort((a, b) => a - b)) {
    if (protocolHasPorts(n)) for (const port of [...ports].sort((a, b) => a - b)) out.push({ protocol: String(n), port });
    else out.push({ protocol: String(n) });
  }
  return out;
}

export function buildComplianceReport(input: {
  zones: Zone[];
  flows: readonly FlowRecord[];
  snapshot: CalcSnapshot;
  evaluator: FlowEvaluator;
  since: number;
  until: number;
  maxExamples?: number;
}): ComplianceReport {
  const { zones, snapshot, evaluator } = input;
  const workloads = [...snapshot.endpoints.values()].filter((e) => e.kind === 'workload' && endpointAddr(e, 4));
  const zoneOfEp = new Map<EndpointState, string | null>(workloads.map((e) => [e, zoneOfLabels(zones, snapshot.labels.get(e.id))]));

  const groups = new Map<string, CrossZoneFlow>();
  const totals = { allowed: 0, denied: 0 };
  for (const f of input.flows) {
    if (f.end < input.since || f.start > input.until) continue;
    const fromZone = zoneOfPeer(zones, f.src);
    const toZone = zoneOfPeer(zones, f.dst);
    if (fromZone === toZone) continue;
    totals[f.verdict]++;
    const key = [peerLabel(f.src), peerLabel(f.dst), f.protocol, f.dstPort ?? '', f.verdict, policyLabel(f.policy)].join('|');
    const g = groups.get(key);
    if (g) {
      g.packets += f.packets;
      g.bytes += f.bytes;
      g.flows++;
    } else {
      groups.set(key, { from: peerLabel(f.src), to: peerLabel(f.dst), fromZone, toZone, protocol: f.protocol, ...(f.dstPort !== undefined ? { dstPort: f.dstPort } : {}), verdict: f.verdict, policy: policyLabel(f.policy), packets: f.packets, bytes: f.bytes, flows: 1 });
    }
  }

  const probes = policyProbes(snapshot);
  const examples: AllowedPath[] = [];
  const max = input.maxExamples ?? 20;
  let pairs = 0;
  for (const a of workloads) {
    for (const b of workloads) {
      if (a === b || zoneOfEp.get(a) === zoneOfEp.get(b)) continue;
      pairs++;
      const eg = evaluator.program(a, 'egress');
      const ing = evaluator.program(b, 'ingress');
      for (const pr of probes) {
        const pkt = evaluator.packet(endpointAddr(a, 4)!, endpointAddr(b, 4)!, pr);
        if (!evaluator.allows(eg, pkt) || !evaluator.allows(ing, pkt)) continue;
        examples.push({ from: endpointLabel(a), to: endpointLabel(b), fromZone: zoneOfEp.get(a)!, toZone: zoneOfEp.get(b)!, protocol: pkt.protocol === 6 ? 'TCP' : pkt.protocol === 17 ? 'UDP' : pkt.protocol === 132 ? 'SCTP' : pkt.protocol === 1 ? 'ICMP' : String(pkt.protocol), ...(pr.port !== undefined ? { port: pr.port } : {}) });
        break; // one example per pair
      }
      if (examples.length >= max) break;
    }
    if (examples.length >= max) break;
  }

  return {
    period: { since: new Date(input.since).toISOString(), until: new Date(input.until).toISOString() },
    zones: zones.map((z) => ({ name: z.name, selector: z.selector.canonical, endpoints: workloads.filter((e) => zoneOfEp.get(e) === z.name).map(endpointLabel).sort() })),
    crossings: [...groups.values()].sort((x, y) => (x.verdict === y.verdict ? y.packets - x.packets : x.verdict === 'allowed' ? -1 : 1)),
    crossingTotals: totals,
    policy: { crossZoneAllowed: examples.length > 0, examples, pairsChecked: pairs, probes: probes.length },
  };
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderComplianceHtml(r: ComplianceReport): string {
  const zone = (z: string | null): string => esc(z ?? '(no zone)');
  const rows = r.crossings.map((c) => `<tr class="${c.verdict}"><td>${esc(c.from)}</td><td>${zone(c.fromZone)}</td><td>${esc(c.to)}</td><td>${zone(c.toZone)}</td><td>${esc(c.protocol)}${c.dstPort !== undefined ? `/${c.dstPort}` : ''}</td><td>${c.verdict}</td><td>${esc(c.policy)}</td><td>${c.flows}</td><td>${c.packets}</td><td>${c.bytes}</td></tr>`).join('\n');
  const ex = r.policy.examples.map((e) => `<li>${esc(e.from)} (${zone(e.fromZone)}) → ${esc(e.to)} (${zone(e.toZone)}): ${esc(e.protocol)}${e.port !== undefined ? ` port ${e.port}` : ''}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Brindle compliance report</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left}tr.denied td{color:#a00}tr.allowed td{color:#060}.verdict{font-size:1.2em;font-weight:bold}.ok{color:#060}.bad{color:#a00}</style></head>
<body><h1>Compliance report</h1>
<p>Period: ${esc(r.period.since)} to ${esc(r.period.until)}</p>
<h2>Zones</h2><ul>${r.zones.map((z) => `<li><b>${esc(z.name)}</b>: <code>${esc(z.selector)}</code> (${z.endpoints.length} workloads: ${esc(z.endpoints.join(', ') || 'none')})</li>`).join('')}</ul>
<h2>Current policy</h2>
<p class="verdict ${r.policy.crossZoneAllowed ? 'bad' : 'ok'}" id="policy-verdict">${r.policy.crossZoneAllowed ? 'Current policy ALLOWS flows across zone boundaries' : 'Current policy allows NO flow across zone boundaries'}</p>
<p>Computed from policy: ${r.policy.pairsChecked} cross-zone workload pairs × ${r.policy.probes} protocol/port probes.</p>
${ex ? `<ul>${ex}</ul>` : ''}
<h2>Flows that crossed a zone boundary</h2>
<p>${r.crossingTotals.allowed} allowed, ${r.crossingTotals.denied} denied records.</p>
<table><thead><tr><th>From</th><th>Zone</th><th>To</th><th>Zone</th><th>Protocol</th><th>Verdict</th><th>Decided by</th><th>Records</th><th>Packets</th><th>Bytes</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
