import { join } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Flow logging in a lab (`brindle lab up --flow-logs`): every node's agent runs with `--flow-logs`
 * and writes to one flow store, so `brindle flows` (pointed at the lab's datastore, or at the
 * `--flow-store` the lab prints) shows the records of all nodes. The store is the lab's SQLite
 * datastore file itself, or `<lab dir>/flows.db` beside an etcd datastore. Optional: a `_bulk`
 * sink every agent also ships to (with its bounded buffer). The node namespaces, which the lab
 * owns, get short conntrack timeouts for closed TCP connections and idle UDP flows, so allowed
 * flows (recorded when conntrack ends them) show within seconds instead of minutes. Pure.
 */

export interface LabFlowLogOptions {
  /** NFLOG packets per second per rule (the agent's --flow-log-rate). */
  ratePerSecond?: number;
  /** `_bulk` endpoint URL every agent also ships records to (seen from the node's namespace). */
  bulk?: string;
  /** Records the bulk sink buffers at most (the agent's --flow-buffer). */
  buffer?: number;
}

export interface LabFlowLogs extends LabFlowLogOptions {
  ratePerSecond: number;
  /** The SQLite file all agents write records to. */
  store: string;
}

export const DEFAULT_LAB_FLOW_LOG_RATE = 100;

/** Conntrack timeouts in each node namespace of a lab with flow logs. */
export const LAB_FLOW_SYSCTLS: Record<string, string> = {
  'net.netfilter.nf_conntrack_tcp_timeout_time_wait': '1',
  'net.netfilter.nf_conntrack_tcp_timeout_close': '1',
  'net.netfilter.nf_conntrack_udp_timeout': '5',
  'net.netfilter.nf_conntrack_udp_timeout_stream': '10',
};

export function labFlowLogs(o: LabFlowLogOptions, labDir: string, datastoreUrl: string, datastoreKind: 'sqlite' | 'etcd'): LabFlowLogs {
  const rate = o.ratePerSecond ?? DEFAULT_LAB_FLOW_LOG_RATE;
  if (!Number.isInteger(rate) || rate < 1) throw new UsageError(`--flow-log-rate must be a positive number of packets per second, got ${rate}`);
  if (o.buffer !== undefined && (!Number.isInteger(o.buffer) || o.buffer < 1)) throw new UsageError(`--flow-buffer must be a positive number of records, got ${o.buffer}`);
  if (o.bulk !== undefined) {
    const ok = /^https?:\/\/[^/\s]+/.test(o.bulk);
    if (!ok) throw new UsageError(`--flow-bulk must be an http(s) URL, got "${o.bulk}"`);
  }
  const store = datastoreKind === 'sqlite' ? datastoreUrl.replace(/^sqlite:/, '') : join(labDir, 'flows.db');
  return { ratePerSecond: rate, store, ...(o.bulk !== undefined ? { bulk: o.bulk } : {}), ...(o.buffer !== undefined ? { buffer: o.buffer } : {}) };
}

/** The agent flags for these settings. */
export function flowLogAgentArgs(f: LabFlowLogs): string[] {
  return ['--flow-logs', '--flow-log-rate', String(f.ratePerSecond), '--flow-store', f.store, ...(f.bulk ? ['--flow-bulk', f.bulk] : []), ...(f.buffer ? ['--flow-buffer', String(f.buffer)] : [])];
}

/** True when a lab's stored settings and the requested ones differ (the lab must be rebuilt). */
export function flowLogsDiffer(have: LabFlowLogs | undefined, want: LabFlowLogOptions | undefined): boolean {
  if (!have || !want) return !!have !== !!want;
  return have.ratePerSecond !== (want.ratePerSecond ?? DEFAULT_LAB_FLOW_LOG_RATE) || have.bulk !== want.bulk || have.buffer !== want.buffer;
}

export function describeFlowLogs(f: LabFlowLogs | undefined): string {
  return f ? `flow logs on (${f.ratePerSecond}/s per rule${f.bulk ? `, _bulk ${f.bulk}` : ''})` : 'flow logs off';
}
