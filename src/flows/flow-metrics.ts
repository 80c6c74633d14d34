import { Counter, Gauge, type Registry } from 'prom-client';
import type { FlowRecord } from './flow-record.js';
import type { FlowSinkStats } from './flow-sink.js';

/**
 * Prometheus metrics of flow logging: denied packets per deciding policy and per local endpoint
 * (the destination for ingress, the source for egress), records per verdict, connections summed
 * into an open aggregate (5-tuple reused in the interval: counted in the record, not lost), kernel
 * overruns (events the kernel dropped: records missing), unreadable lines from ulogd, and each
 * sink's sent and dropped counts (read from its stats at scrape time).
 */
export class FlowMetrics {
  private readonly deniedByPolicy: Counter<'tier' | 'namespace' | 'policy' | 'direction'>;
  private readonly deniedByEndpoint: Counter<'namespace' | 'endpoint' | 'direction'>;
  private readonly records: Counter<'verdict'>;
  private readonly merged: Counter;
  private readonly overruns: Counter<'source'>;
  private readonly badLines: Counter;

  constructor(registry: Registry, sinks: () => { name: string; stats: FlowSinkStats }[]) {
    this.deniedByPolicy = new Counter({ name: 'brindle_denied_packets_total', help: 'Packets denied, by the policy (or end of tier / profile) that decided', labelNames: ['tier', 'namespace', 'policy', 'direction'], registers: [registry] });
    this.deniedByEndpoint = new Counter({ name: 'brindle_endpoint_denied_packets_total', help: 'Packets denied, by the local endpoint they were going to (ingress) or coming from (egress)', labelNames: ['namespace', 'endpoint', 'direction'], registers: [registry] });
    this.records = new Counter({ name: 'brindle_flow_records_total', help: 'Flow records produced, by verdict', labelNames: ['verdict'], registers: [registry] });
    this.merged = new Counter({ name: 'brindle_flow_records_merged_total', help: 'Flow records summed into an open record of the same 5-tuple and decider in its interval (its connections and packets are counted there)', registers: [registry] });
    this.overruns = new Counter({ name: 'brindle_flow_kernel_overruns_total', help: 'Times the kernel dropped flow events because a netlink receive buffer overflowed (ENOBUFS): connections or logged packets have no record', labelNames: ['source'], registers: [registry] });
    this.badLines = new Counter({ name: 'brindle_flow_unreadable_events_total', help: 'Lines from ulogd that were not a flow event (not recorded)', registers: [registry] });
    for (const source of ['conntrack', 'nflog']) this.overruns.inc({ source }, 0);
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

  onMerged(n: number): void {
    if (n > 0) this.merged.inc(n);
  }

  onOverrun(source: string): void {
    this.overruns.inc({ source });
  }

  onBadLine(): void {
    this.badLines.inc();
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
