import type { Registry } from 'prom-client';
import type { Clock } from '../base/clock.js';
import type { Exec } from '../base/exec.js';
import type { Disposable } from '../base/lifecycle.js';
import type { Datastore } from '../datastore/datastore.js';
import { ResourceClient } from '../datastore/resource-client.js';
import type { BufferedSinkOptions } from './buffered-sink.js';
import { FlowContext } from './flow-context.js';
import { FlowMetrics } from './flow-metrics.js';
import { FlowPipeline } from './flow-pipeline.js';
import type { FlowSink } from './flow-sink.js';
import type { SqliteFlowStore } from './flow-store.js';
import { UlogdCollector } from './ulogd-collector.js';
import type { NetlinkBuffer } from './ulogd-config.js';
import type { OverrunSource } from './ulogd-log.js';

export interface FlowServiceOptions {
  node: string;
  datastore: Datastore;
  exec: Exec;
  clock: Clock;
  /** ulogd's config, log and the collector socket. */
  runDir: string;
  netns?: string;
  sinks: FlowSink[];
  store?: SqliteFlowStore;
  /** Where the flow metrics register (the agent's registry, or one of its own). */
  registry?: Registry;
  intervalMs?: number;
  buffer?: BufferedSinkOptions;
  conntrack?: boolean;
  netlinkBuffer?: NetlinkBuffer;
  conntrackSweepMs?: number;
  sysctls?: Record<string, string>;
  onError?(err: Error): void;
  /**
   * The kernel dropped flow events (netlink overrun): some connections or denied packets have no
   * record. Called at most once per `overrunReportMs` (default 10 s) with the overruns since the last call.
   */
  onOverrun?(report: { source: OverrunSource; overruns: number; total: number; line: string }): void;
  overrunReportMs?: number;
}

/**
 *   ulogd2 (NFLOG + conntrack, in the node's netns) ─► UlogdCollector ─► FlowPipeline ─► sinks
 *   datastore (resources, re-listed when the revision moves) ─► FlowContext (identities, explain)
 *
 * One node's flow logging as one component: what the agent runs with `--flow-logs` and what
 * `brindle flows collect` runs on its own. `dispose` stops ulogd and flushes the sinks (bounded).
 */
export class FlowService implements Disposable {
  pipeline: FlowPipeline | undefined;
  private collector: UlogdCollector | undefined;
  private refresh: Disposable | undefined;
  private revision = -1;
  private readonly reports: Partial<Record<OverrunSource, { last: number; since: number }>> = {};

  constructor(private readonly o: FlowServiceOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    const client = new ResourceClient(o.datastore);
    const { items, revision } = await client.listAll();
    this.revision = revision;
    const metrics = o.registry ? new FlowMetrics(o.registry, () => this.pipeline?.sinkStats() ?? []) : undefined;
    const pipeline = new FlowPipeline({ node: o.node, context: FlowContext.fromResources(items), clock: o.clock, sinks: o.sinks, ...(o.store ? { store: o.store } : {}), ...(metrics ? { metrics } : {}), ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}), ...(o.buffer ? { buffer: o.buffer } : {}) });
    this.pipeline = pipeline;
    this.collector = new UlogdCollector({
      runDir: o.runDir, ...(o.netns ? { netns: o.netns } : {}), ...(o.conntrack !== undefined ? { conntrack: o.conntrack } : {}), ...(o.sysctls ? { sysctls: o.sysctls } : {}),
      ...(o.netlinkBuffer ? { netlinkBuffer: o.netlinkBuffer } : {}),
      ...(o.conntrackSweepMs ? { conntrackSweepMs: o.conntrackSweepMs } : {}), exec: o.exec, onEvent: (ev) => pipeline.onEvent(ev), ...(o.onError ? { onError: o.onError } : {}),
      onOverrun: (source, line) => this.overrun(source, line, metrics),
      onBadLine: () => metrics?.onBadLine(),
    });
    await this.collector.start();
    // Identities and policies that records are labelled with follow the datastore.
    let busy = false;
    this.refresh = o.clock.setInterval(() => {
      if (busy) return;
      busy = true;
      void client.listAll().then((r) => {
        if (r.revision !== this.revision) {
          this.revision = r.revision;
          pipeline.setContext(FlowContext.fromResources(r.items));
        }
      }, () => undefined).finally(() => (busy = false));
    }, 2_000);
  }

  /** Counts an overrun (metric, store) and reports it, at most once per interval per source. */
  private overrun(source: OverrunSource, line: string, metrics: FlowMetrics | undefined): void {
    metrics?.onOverrun(source);
    try {
      this.o.store?.recordOverrun(this.o.node, source, this.o.clock.now());
    } catch {
      // the store is busy or gone: the metric and the report still tell
    }
    const r = (this.reports[source] ??= { last: -Infinity, since: 0 });
    r.since++;
    const now = this.o.clock.now();
    if (now - r.last < (this.o.overrunReportMs ?? 10_000)) return;
    this.o.onOverrun?.({ source, overruns: r.since, total: this.collector?.overruns[source] ?? r.since, line: line.trim() });
    r.last = now;
    r.since = 0;
  }

  /** The collector's and pipeline's counts: lines read, unreadable, overruns, records, merged. */
  stats(): { lines: number; badLines: number; overruns: Record<OverrunSource, number>; records: number; merged: number; overflowed: number } | undefined {
    if (!this.collector || !this.pipeline) return undefined;
    const p = this.pipeline.stats();
    return { lines: this.collector.lines, badLines: this.collector.badLines, overruns: { ...this.collector.overruns }, records: p.records, merged: p.merged, overflowed: p.overflowed };
  }

  get ulogdPid(): number | undefined {
    return this.collector?.pid;
  }

  async close(): Promise<void> {
    this.refresh?.dispose();
    this.collector?.dispose();
    await this.pipeline?.close();
  }

  dispose(): Promise<void> {
    return this.close();
  }
}
