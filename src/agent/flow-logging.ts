import type { Registry } from 'prom-client';
import type { Disposable } from '../base/lifecycle.js';
import { FlowService } from '../flows/flow-service.js';
import { BulkHttpSink } from '../flows/bulk-http-sink.js';
import type { FlowSink } from '../flows/flow-sink.js';
import { SqliteFlowStore } from '../flows/flow-store.js';
import type { AgentDeps } from './agent.js';

/**
 * The agent's flow-logging component (`--flow-logs`): the driver already renders NFLOG rules; this
 * runs ulogd2 in the agent's own namespace and stores the records (and ships them to a `_bulk` endpoint with --flow-bulk, behind a bounded buffer). A failure to start is logged and
 * leaves the agent running without flow logs (policy enforcement never depends on it).
 */
export async function startFlowLogging(deps: AgentDeps, registry: Registry): Promise<Disposable> {
  const { flags, log } = deps;
  const fl = flags.flowLogs!;
  const store = new SqliteFlowStore(fl.store);
  const sinks: FlowSink[] = [store];
  if (fl.bulk) sinks.push(new BulkHttpSink(fl.bulk, fl.bulkIndex));
  const service = new FlowService({
    node: flags.node, datastore: deps.datastore, exec: deps.exec, clock: deps.clock, runDir: `${flags.runDir}/flows`,
    sinks, store, registry, conntrackSweepMs: 5_000, ...(fl.buffer ? { buffer: { capacity: fl.buffer } } : {}),
    onError: (err) => log.error('flow logging stopped', { error: err.message }),
    onOverrun: (r) => log.warn('flow logging: the kernel dropped events (netlink receive buffer overrun); some flows have no record', { source: r.source, overruns: r.overruns, total: r.total, ulogd: r.line }),
  });
  try {
    await service.start();
    log.info('flow logging', { store: fl.store, ...(fl.bulk ? { bulk: fl.bulk } : {}), ulogdPid: service.ulogdPid, ratePerSecond: fl.ratePerSecond });
  } catch (err) {
    log.error('flow logging did not start (the agent runs without it)', { error: (err as Error).message });
    await service.close();
  }
  return { dispose: () => service.close() };
}
