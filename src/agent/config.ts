/**
 * The agent's command-line flags, validated. (FelixConfiguration settings reach the dataplane
 * through the calculation's `onConfigUpdate`.)
 */
import { UsageError } from '../errors.js';
import { isLogLevel, type LogLevel } from './logger.js';
import { ROUTING_MODES, type RoutingMode } from './routing-components.js';

export interface AgentFlags {
  node: string;
  datastore: string;
  runDir: string;
  metricsPort: number;
  logLevel: LogLevel;
  ip?: string;
  ip6?: string;
  as?: number;
  resyncIntervalMs: number;
  /** How nodes reach each other's workloads (see agent/routing-components.ts); default auto. */
  routing?: RoutingMode;
  /** Where BGP password secrets are read from (`<dir>/<secret name>/<key>`). */
  bgpSecretsDir?: string;
  /** Flow logging: NFLOG rules (rate-limited) + ulogd2 collector writing to the flow store. */
  flowLogs?: FlowLogFlags;
}

export interface FlowLogFlags {
  ratePerSecond: number;
  burst: number;
  store: string;
  /** Also ship records to Elasticsearch/OpenSearch at this URL (`_bulk` API). */
  bulk?: string;
  bulkIndex?: string;
  /** Records an external sink (--flow-bulk) holds at most while its destination is down. */
  buffer?: number;
}

export const DEFAULT_METRICS_PORT = 9091;

export function runDirFor(node: string): string {
  return `/run/brindle/nodes/${node}`;
}

export function parseAgentFlags(o: Record<string, string | undefined>, datastore: string): AgentFlags {
  const node = o['node'];
  if (!node || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(node)) throw new UsageError(`--node: ${JSON.stringify(node ?? '')} is not a valid node name (lower-case letters, digits, '-' and '.')`);
  const port = o['metricsPort'] === undefined ? DEFAULT_METRICS_PORT : Number(o['metricsPort']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--metrics-port: ${o['metricsPort']} is not a port number (0 disables)`);
  const level = o['logLevel'] ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`--log-level: ${level} is not one of debug, info, warn, error`);
  const asn = o['as'] === undefined ? undefined : Number(o['as']);
  if (asn !== undefined && (!Number.isInteger(asn) || asn < 1 || asn > 4294967295)) throw new UsageError(`--as: ${o['as']} is not an AS number`);
  const resync = o['resyncInterval'] === undefined ? 10 : Number(o['resyncInterval']);
  if (!Number.isFinite(resync) || resync < 0) throw new UsageError(`--resync-interval: ${o['resyncInterval']} is not a number of seconds`);
  const routing = (o['routing'] ?? 'auto') as RoutingMode;
  if (!ROUTING_MODES.includes(routing)) throw new UsageError(`--routing: ${o['routing']} is not one of ${ROUTING_MODES.join(', ')}`);
  const rate = o['flowLogRate'] === undefined ? 100 : Number(o['flowLogRate']);
  if (!Number.isInteger(rate) || rate < 1) throw new UsageError(`--flow-log-rate: ${o['flowLogRate']} is not a positive number of packets per second`);
  const flowLogs = o['flowLogs'] ? parseFlowLogFlags(o, rate, datastore) : undefined;
  return {
    ...(flowLogs ? { flowLogs } : {}),
    routing, ...(o['bgpSecretsDir'] ? { bgpSecretsDir: o['bgpSecretsDir'] } : {}), node, datastore, runDir: o['runDir'] ?? runDirFor(node), metricsPort: port, logLevel: level, resyncIntervalMs: resync * 1000,
    ...(o['ip'] ? { ip: o['ip'] } : {}), ...(o['ip6'] ? { ip6: o['ip6'] } : {}), ...(asn !== undefined ? { as: asn } : {}),
  };
}

function parseFlowLogFlags(o: Record<string, string | undefined>, rate: number, datastore: string): FlowLogFlags {
  const bulk = o['flowBulk'];
  if (bulk !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(bulk);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new UsageError(`--flow-bulk: ${bulk} is not an http(s) URL`);
  }
  const buffer = o['flowBuffer'] === undefined ? undefined : Number(o['flowBuffer']);
  if (buffer !== undefined && (!Number.isInteger(buffer) || buffer < 1)) throw new UsageError(`--flow-buffer: ${o['flowBuffer']} is not a positive number of records`);
  return {
    ratePerSecond: rate, burst: Math.max(5, Math.ceil(rate / 5)), store: o['flowStore'] ?? (datastore.startsWith('sqlite:') ? datastore.slice(7) : '/var/lib/brindle/flows.db'),
    ...(bulk !== undefined ? { bulk, bulkIndex: o['flowBulkIndex'] ?? 'brindle-flows' } : {}), ...(buffer !== undefined ? { buffer } : {}),
  };
}
