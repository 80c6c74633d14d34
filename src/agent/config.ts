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
  return {
    routing, ...(o['bgpSecretsDir'] ? { bgpSecretsDir: o['bgpSecretsDir'] } : {}), node, datastore, runDir: o['runDir'] ?? runDirFor(node), metricsPort: port, logLevel: level, resyncIntervalMs: resync * 1000,
    ...(o['ip'] ? { ip: o['ip'] } : {}), ...(o['ip6'] ? { ip6: o['ip6'] } : {}), ...(asn !== undefined ? { as: asn } : {}),
  };
}
