import type { Command } from 'commander';
import { createServer } from 'node:http';
import { Registry } from 'prom-client';
import { ProcessExec } from '../../base/exec.js';
import { systemClock } from '../../base/clock.js';
import { UsageError } from '../../errors.js';
import { BulkHttpSink } from '../../flows/bulk-http-sink.js';
import { parsePeerFilter, parseSince, parseVerdict, type FlowFilter } from '../../flows/flow-filter.js';
import { FlowService } from '../../flows/flow-service.js';
import { flowToJson, peerLabel, policyLabel, type FlowRecord } from '../../flows/flow-record.js';
import type { FlowSink } from '../../flows/flow-sink.js';
import { defaultFlowStorePath, SqliteFlowStore } from '../../flows/flow-store.js';
import { JsonLinesSink } from '../../flows/jsonl-sink.js';
import type { CliContext } from '../context.js';

/**
 * `brindle flows`: the recorded flows, filtered, in the spirit of `hubble observe`; and
 * `brindle flows collect`: one node's flow logging (ulogd2 in the node's namespace → records →
 * store and sinks), what the node agent runs as a component, runnable on its own.
 */
export function register(program: Command, ctx: CliContext): void {
  const flows = program
    .command('flows')
    .description('show recorded flows: 5-tuple, identities, verdict and the tier/policy/rule that decided')
    .option('--follow', 'keep printing new flows as they are recorded (until interrupted)')
    .option('--verdict <v>', 'allowed or denied')
    .option('--from <peer>', 'source: NAMESPACE/NAME (NAMESPACE/* for all), an address or CIDR, or a label selector')
    .option('--to <peer>', 'destination, as --from')
    .option('--policy <name>', 'deciding (or staged) policy: NAME, NAMESPACE/NAME or TIER/NAME')
    .option('--node <name>', 'only flows recorded by this node')
    .option('--since <t>', 'only flows that ended since: 30s, 5m, 2h, 1d or a time')
    .option('--last <n>', 'only the last N matching flows (before following)', '1000')
    .option('--flow-store <path>', 'SQLite file of flow records (default: the embedded datastore file)')
    .option('-o, --output <format>', 'text or json (one object per line)', 'text')
    .action(async (o: { follow?: boolean; verdict?: string; from?: string; to?: string; policy?: string; node?: string; since?: string; last: string; flowStore?: string; output: string }) => {
      if (o.output !== 'text' && o.output !== 'json') throw new UsageError(`-o/--output must be text or json, got "${o.output}"`);
      if (!/^\d+$/.test(o.last)) throw new UsageError(`--last must be a number, got "${o.last}"`);
      const filter: FlowFilter = {
        ...(o.verdict ? { verdict: parseVerdict(o.verdict) } : {}),
        ...(o.from ? { from: parsePeerFilter(o.from, '--from') } : {}),
        ...(o.to ? { to: parsePeerFilter(o.to, '--to') } : {}),
        ...(o.policy ? { policy: o.policy } : {}),
        ...(o.node ? { node: o.node } : {}),
        ...(o.since ? { since: parseSince(o.since, Date.now()) } : {}),
      };
      const store = new SqliteFlowStore(o.flowStore ?? defaultFlowStorePath(ctx.datastoreUrl));
      const print = (r: FlowRecord): void => ctx.out(o.output === 'json' ? JSON.stringify(flowToJson(r)) : flowLine(r));
      try {
        let last = 0;
        for (const f of store.query(filter, { limit: Number(o.last) })) {
          print(f.record);
          last = f.id;
        }
        warnOverruns(ctx, store, filter);
        if (!o.follow) return;
        last = Math.max(last, store.lastId());
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            clearInterval(timer);
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          const timer = setInterval(() => {
            for (const f of store.query(filter, { afterId: last })) {
              print(f.record);
              last = f.id;
            }
          }, 200);
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      } finally {
        await store.close();
      }
    });

  flows
    .command('collect')
    .description("record this node's flows: runs ulogd2 (NFLOG + conntrack events) in the node's namespace and stores aggregated records (runs until interrupted)")
    .option('--node <name>', 'node name recorded with each flow (required)')
    .option('--netns <name>', "the node's network namespace (default: the current one)")
    .option('--run-dir <dir>', 'directory for ulogd config, log and socket', '/run/brindle/flows')
    .option('--flow-store <path>', 'SQLite file for flow records (default: the embedded datastore file)')
    .option('--no-store', 'do not store records (sinks only)')
    .option('--jsonl <file>', 'also append records as JSON lines to FILE')
    .option('--bulk <url>', 'also ship records to Elasticsearch/OpenSearch at URL (_bulk API)')
    .option('--bulk-index <name>', 'index name prefix for --bulk', 'brindle-flows')
    .option('--interval <ms>', 'aggregation interval in milliseconds', '5000')
    .option('--retention <t>', 'keep stored records this long (30m, 12h, 7d)', '7d')
    .option('--buffer <n>', 'records each external sink (--jsonl, --bulk) buffers at most while its destination is down', '50000')
    .option('--no-conntrack', 'only logged packets (no conntrack accounting for allowed flows)')
    .option('--ct-sweep <ms>', 'list conntrack every MS so ended connections are reported at once, not when the kernel collects them (costs a table dump)')
    .option('--metrics-listen <addr>', 'serve Prometheus metrics on HOST:PORT (loopback)')
    .option('--sysctl <k=v...>', 'extra sysctls for the namespace (tests: a short TIME_WAIT)')
    .action(async (o: { node?: string; netns?: string; runDir: string; flowStore?: string; store: boolean; jsonl?: string; bulk?: string; bulkIndex: string; interval: string; retention: string; buffer: string; conntrack: boolean; metricsListen?: string; sysctl?: string[]; ctSweep?: string }, cmd: Command) => {
      // `flows --node` (a filter) and `flows collect --node` share the flag: commander hands it to the parent.
      const node = o.node ?? (cmd.optsWithGlobals() as { node?: string }).node;
      if (!node) throw new UsageError('flows collect: --node <name> is required');
      const retentionMs = Date.now() - parseSince(o.retention, Date.now(), '--retention');
      const interval = positive(o.interval, '--interval');
      // The datastore first: a missing one is an error, before the flow store creates the file.
      const datastore = await ctx.datastore('read');
      const sinks: FlowSink[] = [];
      const store = o.store ? new SqliteFlowStore(o.flowStore ?? defaultFlowStorePath(ctx.datastoreUrl), retentionMs) : undefined;
      if (store) sinks.push(store);
      if (o.jsonl) sinks.push(new JsonLinesSink(o.jsonl));
      if (o.bulk) sinks.push(new BulkHttpSink(o.bulk, o.bulkIndex));
      const registry = new Registry();
      const sysctls = Object.fromEntries((o.sysctl ?? []).map((kv) => {
        const i = kv.indexOf('=');
        if (i <= 0) throw new UsageError(`--sysctl must be KEY=VALUE, got "${kv}"`);
        return [kv.slice(0, i), kv.slice(i + 1)];
      }));
      let failed: Error | undefined;
      let stop: () => void = () => undefined;
      const service = new FlowService({
        node, datastore, exec: new ProcessExec(), clock: systemClock, runDir: o.runDir, ...(o.netns ? { netns: o.netns } : {}),
        sinks, ...(store ? { store } : {}), registry, intervalMs: interval, buffer: { capacity: positive(o.buffer, '--buffer') }, conntrack: o.conntrack, sysctls,
        ...(o.ctSweep ? { conntrackSweepMs: positive(o.ctSweep, '--ct-sweep') } : {}),
        onError: (e) => { failed = e; stop(); },
        onOverrun: (r) => ctx.err(`warning: the kernel dropped ${r.source} events (netlink receive buffer overrun, ${r.overruns} time(s), ${r.total} in all): some flows have no record`),
      });
      const server = o.metricsListen ? await serveMetrics(o.metricsListen, registry) : undefined;
      try {
        await service.start();
        ctx.err(`collecting flows of node ${node}${o.netns ? ` (netns ${o.netns})` : ''}; ulogd pid ${service.ulogdPid}`);
        await new Promise<void>((resolve) => {
          stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
      } finally {
        await service.close();
        server?.close();
      }
      if (failed) throw failed;
    });
}

function positive(s: string, flag: string): number {
  if (!/^\d+$/.test(s) || Number(s) <= 0) throw new UsageError(`${flag} must be a positive number, got "${s}"`);
  return Number(s);
}

async function serveMetrics(listen: string, registry: Registry): Promise<import('node:http').Server> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new UsageError(`--metrics-listen must be HOST:PORT, got "${listen}"`);
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(m[2]), m[1], () => resolve()));
  return server;
}

/**
 * Records that were never made are not in any query's answer: say so (stderr) when a node reported
 * kernel overruns (events dropped) in the period asked about.
 */
function warnOverruns(ctx: CliContext, store: SqliteFlowStore, f: FlowFilter): void {
  const per = new Map<string, { count: number; first: number; last: number }>();
  for (const o of store.overruns({ ...(f.since !== undefined ? { since: f.since } : {}), ...(f.node ? { node: f.node } : {}) })) {
    const k = `${o.node} (${o.source})`;
    const cur = per.get(k);
    if (cur) [cur.count, cur.last] = [cur.count + o.count, o.minute];
    else per.set(k, { count: o.count, first: o.minute, last: o.minute });
  }
  for (const [k, v] of per) {
    const when = v.first === v.last ? `in the minute from ${new Date(v.first).toISOString()}` : `between ${new Date(v.first).toISOString()} and ${new Date(v.last + 60_000).toISOString()}`;
    ctx.err(`warning: node ${k} reported ${v.count} kernel event overrun(s) ${when}: some flows of that period have no record`);
  }
}

export function flowLine(r: FlowRecord): string {
  const t = new Date(r.end).toISOString().replace('T', ' ').slice(0, 23);
  const port = r.dstPort !== undefined ? `/${r.dstPort}` : '';
  const verdict = r.verdict === 'allowed' ? 'ALLOWED' : 'DENIED ';
  const staged = (r.staged ?? []).map((s) => ` [staged ${s.tier}/${s.namespace ? `${s.namespace}/` : ''}${s.name}: ${s.action}]`).join('');
  return `${t}  ${r.node}  ${peerLabel(r.src)}${r.srcPort !== undefined ? `:${r.srcPort}` : ''} -> ${peerLabel(r.dst)} ${r.protocol}${port}  ${verdict} ${r.direction}  by ${policyLabel(r.policy)}  ${r.packets} pkts ${r.bytes} B${(r.connections ?? 1) > 1 ? ` in ${r.connections} connections` : ''}${staged}`;
}
