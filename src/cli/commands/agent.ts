import type { Command } from 'commander';
import { parseAgentFlags } from '../../agent/config.js';
import { runAgent } from '../../agent/main.js';
import type { CliContext } from '../context.js';

/** `brindle agent --node NAME …`: the node agent (runs until SIGTERM/SIGINT). */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('agent')
    .description("run the node agent in this network namespace: program nftables, routes and sysctls from the datastore (run it with 'ip netns exec <ns>')")
    .requiredOption('--node <name>', 'name of this node')
    .option('--run-dir <dir>', 'run directory (status socket agent.sock); default /run/brindle/nodes/<node>')
    .option('--metrics-port <n>', 'Prometheus /metrics on 127.0.0.1:<n> (0 disables)', '9091')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--ip <cidr>', "this node's IPv4 address for its Node resource (default: detected)")
    .option('--ip6 <cidr>', "this node's IPv6 address for its Node resource (default: detected)")
    .option('--as <asn>', "this node's AS number for its Node resource")
    .option('--routing <mode>', 'auto (BIRD while some pool is not VXLAN), bgp (always BIRD), vxlan (no BIRD), none', 'auto')
    .option('--bgp-secrets-dir <dir>', 'BGP passwords: secret <name>/<key> is the file <dir>/<name>/<key>', '/etc/brindle/secrets')
    .option('--resync-interval <seconds>', 'kernel read-back and drift repair period (0 disables)', '10')
    .option('--flow-logs', 'record flows: rules log to NFLOG (rate-limited), ulogd2 + conntrack events feed the flow store')
    .option('--flow-log-rate <n>', 'NFLOG packets per second per rule at most', '100')
    .option('--flow-store <path>', 'SQLite file for flow records (default: the embedded datastore file)')
    .option('--flow-bulk <url>', 'with --flow-logs: also ship records to Elasticsearch/OpenSearch at URL (_bulk API); a destination that is down never stalls the agent')
    .option('--flow-bulk-index <name>', 'index name prefix for --flow-bulk', 'brindle-flows')
    .option('--flow-buffer <n>', 'records --flow-bulk buffers at most while its destination is slow or down (beyond: dropped, counted in brindle_flow_sink_dropped_records)', '50000')
    .action(async (o: Record<string, string | undefined>) => {
      const flags = parseAgentFlags(o, ctx.datastoreUrl);
      const ds = await ctx.datastore('write'); // the agent registers its Node
      const ac = new AbortController();
      const stop = (sig: string) => ac.abort(new Error(`stopped by ${sig}`));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        await runAgent(flags, ds, ctx.io.stderr, ac.signal);
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
    });
}
