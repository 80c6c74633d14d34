import { Counter, Gauge, type Registry } from 'prom-client';
import type { FlowRecord } from './flow-record.js';
import type { FlowSinkStats } from './flow-sink.js';

/**
 * Prometheus metrics of flow logging: denied packets per deciding policy and per local endpoint
 * (the destination for ingress, the source for egress), records per verdict, and each sink's sent
 * and dropped counts (read from its stats at scrape time).
 */
export class FlowMetrics {
  private readonly deniedByPolicy: Counter<'tier' | 'namespace' | 'policy' | 'direction'>;
  private readonly deniedByEndpoint: Counter<'namespace' | 'endpoint' | 'direction'>;
  private readonly records: Counter<'verdict'>;

  constructor(registry: Registry, sinks: () => { name: string; stats: FlowSinkStats }[]) {
    this.deniedByPolicy = new Counter({ name: 'brindle_denied_packets_total', help: 'Packets denied, by the policy (or end of tier / profile) that decided', labelNames: ['tier', 'namespace', 'policy', 'direction'], registers: [registry] });
    this.deniedByEndpoint = new Counter({ name: 'brindle_endpoint_denied_packets_total', help: 'Packets denied, by the local endpoint they were going to (ingress) or coming from (egress)', labelNames: ['namespace', 'endpoint', 'direction'], registers: [registry] });
    this.records = new Counter({ name: 'brindle_flow_records_total', help: 'Flow records produced, by verdict', labelNames: ['verdict'], registers: [registry] });
    new Gauge({
      name: 'brindle_flow_sink_dropped_records',
      help: 'Flow records a sink dropped because its buffer was full (destination slow or down)',
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        for (const s of sinks()) this.set({ sink: s.name }, s.stats.dropped);
      },
    });
    new Gauge({
      name: 'brindle_flow_sink_sent_records',
      help: 'Flow records a sink shipped',
      labelNames: ['sink'],
      registers: [registry],
      collect() {
        for (const s of sinks()) this.set({ sink: s.name }, s.stats.sent);
      },
    });
  }

  onFlow(r: FlowRecord): void {
    this.records.inc({ verdict: r.verdict });
    if (r.verdict !== 'denied') return;
    const p = r.policy;
    const policy = p.kind === 'policy' || p.kind === 'profile' ? p.name! : p.kind;
    this.deniedByPolicy.inc({ tier: p.tier ?? '', namespace: p.namespace ?? '', policy, direction: r.direction }, r.packets);
    const ep = r.direction === 'ingress' ? r.dst : r.src;
    this.deniedByEndpoint.inc({ namespace: ep.namespace ?? '', endpoint: ep.endpoint ?? ep.name ?? ep.ip, direction: r.direction }, r.packets);
  }
}
