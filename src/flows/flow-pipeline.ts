import type { Clock } from '../base/clock.js';
import { DisposableStore, type Disposable } from '../base/lifecycle.js';
import { BufferedSink, type BufferedSinkOptions } from './buffered-sink.js';
import { FlowAggregator } from './flow-aggregator.js';
import type { FlowContext } from './flow-context.js';
import type { FlowMetrics } from './flow-metrics.js';
import type { FlowRecord } from './flow-record.js';
import { FlowRecorder } from './flow-recorder.js';
import type { FlowSink, FlowSinkStats } from './flow-sink.js';
import type { SqliteFlowStore } from './flow-store.js';
import type { UlogdEvent } from './ulogd-event.js';

export interface FlowPipelineOptions {
  node: string;
  context: FlowContext;
  clock: Clock;
  sinks: FlowSink[];
  /** The store among the sinks, pruned for retention once a minute. */
  store?: SqliteFlowStore;
  metrics?: FlowMetrics;
  /** Aggregation interval (default 5 s). */
  intervalMs?: number;
  /** Buffering of the sinks other than the store (the store's buffer is the default size). */
  buffer?: BufferedSinkOptions;
}

/**
 *   kernel events ──► FlowRecorder ──► FlowAggregator ──(every interval)──► BufferedSink ──► sink
 *   (UlogdCollector)      │                                                 (one per sink)
 *                         └──► FlowMetrics (denied packets, live)
 *
 * One node's flow logging from events to sinks. Each sink has its own bounded buffer, so a store,
 * file or HTTP endpoint that is slow or down loses records (counted) but never blocks the others or
 * the caller. Knows nothing about where events come from.
 */
export class FlowPipeline implements Disposable {
  private readonly recorder: FlowRecorder;
  private readonly aggregator = new FlowAggregator();
  readonly buffers: BufferedSink[];
  private readonly disposables = new DisposableStore();
  records = 0;
  private mergedSeen = 0;

  constructor(private readonly o: FlowPipelineOptions) {
    this.buffers = o.sinks.map((s) => new BufferedSink(s, o.clock, s === o.store ? {} : o.buffer));
    this.recorder = new FlowRecorder(o.node, o.context, o.clock, { onFlow: (r) => this.onFlow(r) });
    this.disposables.add(o.clock.setInterval(() => this.flush(), o.intervalMs ?? 5_000));
    this.disposables.add(o.clock.setInterval(() => {
      this.recorder.expire();
      o.store?.prune(o.clock.now());
    }, 60_000));
  }

  onEvent(ev: UlogdEvent): void {
    this.recorder.onEvent(ev);
  }

  setContext(c: FlowContext): void {
    this.recorder.setContext(c);
  }

  private onFlow(r: FlowRecord): void {
    this.records++;
    this.o.metrics?.onFlow(r);
    const passed = this.aggregator.add(r);
    if (passed) for (const b of this.buffers) b.offer([passed]);
  }

  /** Closes the interval: aggregated records go to every sink's buffer. */
  flush(): void {
    this.o.metrics?.onMerged(this.aggregator.merged - this.mergedSeen);
    this.mergedSeen = this.aggregator.merged;
    const batch = this.aggregator.flush();
    if (batch.length === 0) return;
    for (const b of this.buffers) b.offer(batch);
  }

  /** Records in (one per denied packet or connection end), summed into open ones, passed through unaggregated. */
  stats(): { records: number; merged: number; overflowed: number; unknownPrefixes: number } {
    return { records: this.records, merged: this.aggregator.merged, overflowed: this.aggregator.overflowed, unknownPrefixes: this.recorder.unknownPrefixes };
  }

  sinkStats(): { name: string; stats: FlowSinkStats }[] {
    return this.buffers.map((b) => ({ name: b.sink.name, stats: b.stats() }));
  }

  async close(): Promise<void> {
    this.disposables.dispose();
    this.flush();
    await Promise.all(this.buffers.map((b) => b.close()));
  }

  dispose(): void {
    void this.close();
  }
}
