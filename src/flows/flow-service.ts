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
  conntrackSweepMs?: number;
  sysctls?: Record<string, string>;
  onError?(err: Error): void;
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
      ...(o.conntrackSweepMs ? { conntrackSweepMs: o.conntrackSweepMs } : {}), exec: o.exec, onEvent: (ev) => pipeline.onEvent(ev), ...(o.onError ? { onError: o.onError } : {}),
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
