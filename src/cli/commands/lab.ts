import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { ProcessExec } from '../../base/exec.js';
import { matrixToJson, renderMatrix } from '../../calc/matrix.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { renderMismatches } from '../../lab/conncheck.js';
import { LabCluster } from '../../lab/lab-cluster.js';
import { labMatrix } from '../../lab/lab-matrix.js';
import { checkLabName, DEFAULT_LAB_NAME, DEFAULT_STATE_ROOT, MAX_NODES, parseWorkloadRef, workloadKey } from '../../lab/lab-names.js';
import { LabProgress } from '../../lab/lab-progress.js';
import type { DatastoreKind, LabState, Routing } from '../../lab/lab-state.js';
import { labStatus, renderLabStatus } from '../../lab/lab-status.js';
import { LabWorkloads, parseLabels, parseServe } from '../../lab/lab-workloads.js';
import { ProbeClient } from '../../lab/probe-client.js';
import type { CliContext } from '../context.js';

/**
 * `brindle lab …`: a whole Brindle cluster on this machine, in network namespaces (needs root).
 * The lab is named by `--name` (env BRINDLE_LAB, default `demo`); its state lives under
 * BRINDLE_LAB_DIR (default /run/brindle/lab). Progress goes to stderr, results to stdout.
 */
export function register(program: Command, ctx: CliContext): void {
  const lab = program.command('lab').description('a whole cluster on this machine in network namespaces: up, down, status, workloads, probes (needs root)');
  const exec = new ProcessExec();
  const nameOf = (o: { name?: string }) => checkLabName(o.name ?? ctx.env['BRINDLE_LAB'] ?? DEFAULT_LAB_NAME);
  const cluster = (o: { name?: string }, quiet = false) => new LabCluster(exec, ctx.env['BRINDLE_LAB_DIR'] ?? DEFAULT_STATE_ROOT, nameOf(o), new LabProgress(quiet ? undefined : (l) => ctx.err(l)));
  const loaded = (c: LabCluster): LabState => {
    const s = c.store.load();
    if (!s) throw new NotFoundError(`lab "${c.name}" is not up; run brindle lab up --name ${c.name}`);
    return s;
  };
  const nameOpt = (cmd: Command) => cmd.option('--name <lab>', 'lab name, 1-8 lowercase letters or digits (env BRINDLE_LAB, default demo)');

  nameOpt(lab.command('up').description('build the lab (idempotent: repairs what is missing or stopped)'))
    .option('--nodes <n>', 'number of nodes', '3')
    .option('--routing <mode>', 'bgp (BIRD full mesh) or vxlan', 'bgp')
    .option('--datastore <kind>', 'sqlite (a file in the lab directory) or etcd (3 members on 127.0.0.1)', 'sqlite')
    .option('--flow-logs', 'agents record flows (NFLOG + conntrack via ulogd2) into one store: brindle flows shows every node')
    .option('--flow-log-rate <n>', 'with --flow-logs: NFLOG packets per second per rule at most', '100')
    .option('--flow-bulk <url>', 'with --flow-logs: agents also ship records to this _bulk URL (as seen from a node namespace)')
    .option('--flow-buffer <n>', 'with --flow-bulk: records each agent buffers at most while the URL is down')
    .action(async (o: { name?: string; nodes: string; routing: string; datastore: string; flowLogs?: boolean; flowLogRate: string; flowBulk?: string; flowBuffer?: string }) => {
      const nodes = Number(o.nodes);
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new UsageError(`--nodes must be a number 1-${MAX_NODES}, got "${o.nodes}"`);
      if (o.routing !== 'bgp' && o.routing !== 'vxlan') throw new UsageError(`--routing must be bgp or vxlan, got "${o.routing}"`);
      if (o.datastore !== 'sqlite' && o.datastore !== 'etcd') throw new UsageError(`--datastore must be sqlite or etcd, got "${o.datastore}"`);
      if (!o.flowLogs && (o.flowBulk !== undefined || o.flowBuffer !== undefined)) throw new UsageError('--flow-bulk and --flow-buffer need --flow-logs');
      const num = (v: string, flag: string) => {
        if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${flag} must be a positive number, got "${v}"`);
        return Number(v);
      };
      const flowLogs = o.flowLogs ? { ratePerSecond: num(o.flowLogRate, '--flow-log-rate'), ...(o.flowBulk ? { bulk: o.flowBulk } : {}), ...(o.flowBuffer ? { buffer: num(o.flowBuffer, '--flow-buffer') } : {}) } : undefined;
      const c = cluster(o);
      const t = Date.now();
      const s = await c.up({ nodes, routing: o.routing as Routing, datastore: o.datastore as DatastoreKind, ...(flowLogs ? { flowLogs } : {}) });
      const flowsLine = s.flowLogs ? `  brindle flows${s.datastore.kind === 'sqlite' ? '' : ` --flow-store ${s.flowLogs.store}`} --last 20   # flows recorded on every node\n` : '';
      ctx.out(`Lab ${s.name} is up (${((Date.now() - t) / 1000).toFixed(1)} s): ${s.nodes.length} node(s), routing ${s.routing}.\n` +
        `  export BRINDLE_DATASTORE=${s.datastore.url}   # for brindle apply/get/policy …\n` +
        `  brindle lab workload add --node node-1 x/a --serve 80/tcp   then   brindle lab matrix --port 80 --protocol tcp\n` + flowsLine +
        `  brindle lab down${s.name === DEFAULT_LAB_NAME ? '' : ` --name ${s.name}`}`);
    });

  nameOpt(lab.command('down').description('remove every namespace, process and file of the lab (also after a crash; idempotent)'))
    .action(async (o: { name?: string }) => {
      const c = cluster(o);
      ctx.out((await c.down()) ? `Lab ${c.name} is down.` : `Lab ${c.name} is not up; nothing to remove.`);
    });

  nameOpt(lab.command('status').description('nodes, agents, BGP sessions, workloads and their addresses'))
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o: { name?: string; output: string }) => {
      const st = await labStatus(exec, loaded(cluster(o, true)));
      ctx.out(format(o.output) === 'json' ? JSON.stringify(st, null, 2) : renderLabStatus(st));
    });

  nameOpt(lab.command('env').description('print the shell line that points brindle at the lab\'s datastore'))
    .action((o: { name?: string }) => ctx.out(`export BRINDLE_DATASTORE=${loaded(cluster(o, true)).datastore.url}`));

  const workload = lab.command('workload').description('add or delete workloads (through the real CNI plugin)');
  nameOpt(workload.command('add').description('create a workload namespace through the node\'s CNI plugin, label it, start its servers').argument('<namespace/name>'))
    .requiredOption('--node <node>', 'node to run on (node-1, node-2, …)')
    .option('--labels <k=v,…>', 'pod labels, set on its WorkloadEndpoint')
    .option('--serve <ports>', 'servers to start, e.g. 80/tcp,81/tcp,80/udp (named ports serve-80-tcp…)')
    .action(async (ref: string, o: { name?: string; node: string; labels?: string; serve?: string }) => {
      const wref = parseWorkloadRef(ref);
      const labels = parseLabels(o.labels);
      const serve = parseServe(o.serve);
      const c = cluster(o, true);
      const w = await c.store.update((s) => new LabWorkloads(exec, c.network, () => c.datastore(), c.logDir).add(s, wref, { node: o.node, labels, serve }, () => c.store.save(s)));
      ctx.out(`workload ${workloadKey(w)} on ${w.node}: ${w.ip} (namespace ${w.netns})${w.serve.length ? `, serving ${w.serve.map((x) => `${x.port}/${x.protocol}`).join(',')}` : ''}`);
    });
  nameOpt(workload.command('del').description('stop the workload\'s servers, CNI DEL, delete its namespace').argument('<namespace/name>'))
    .action(async (ref: string, o: { name?: string }) => {
      const wref = parseWorkloadRef(ref);
      const c = cluster(o, true);
      await c.store.update((s) => new LabWorkloads(exec, c.network, () => c.datastore(), c.logDir).del(s, wref));
      ctx.out(`workload ${workloadKey(wref)} deleted`);
    });

  nameOpt(lab.command('exec').description('run a command inside a workload\'s network namespace').argument('<namespace/name>').argument('<cmd...>'))
    .action(async (ref: string, cmd: string[], o: { name?: string }) => {
      const w = findWorkload(loaded(cluster(o, true)), ref);
      ctx.exitCode = await runIn(w.netns, cmd, ctx);
    });

  nameOpt(lab.command('probe').description('exit 0 if FROM reaches TO on the port (1 s timeout), 1 if not').argument('<from>').argument('<to>'))
    .requiredOption('--port <n>', 'destination port')
    .option('--protocol <p>', 'tcp or udp', 'tcp')
    .action(async (from: string, to: string, o: { name?: string; port: string; protocol: string }) => {
      const s = loaded(cluster(o, true));
      const flow = flowOf(o.port, o.protocol);
      const src = findWorkload(s, from);
      const dst = findWorkload(s, to);
      if (!dst.ip) throw new NotFoundError(`workload ${to} has no address`);
      const [ok] = await new ProbeClient(exec).probe(src.netns, [{ ip: dst.ip, ...flow }]);
      ctx.out(`${from} → ${to} (${dst.ip}) ${flow.protocol.toUpperCase()} ${flow.port}: ${ok ? 'reachable' : 'NOT reachable (no answer within 1 s)'}`);
      ctx.exitCode = ok ? 0 : 1;
    });

  nameOpt(lab.command('matrix').description('probe every pair of workloads in parallel; same format as brindle policy matrix'))
    .requiredOption('--port <n>', 'destination port')
    .option('--protocol <p>', 'tcp or udp', 'tcp')
    .option('-n, --namespace <ns>', 'only workloads of this namespace')
    .option('--expect', 'also compute brindle policy matrix and mark every cell where kernel and calculation disagree (exit 1 if any)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o: { name?: string; port: string; protocol: string; namespace?: string; expect?: boolean; output: string }) => {
      const fmt = format(o.output);
      const c = cluster(o, true);
      const s = loaded(c);
      const r = await labMatrix(new ProbeClient(exec), s, flowOf(o.port, o.protocol), { ...(o.namespace ? { namespace: o.namespace } : {}), ...(o.expect ? { expect: () => c.datastore() } : {}) });
      if (fmt === 'json') {
        ctx.out(JSON.stringify({ ...matrixToJson(r.probed), probed: true, elapsedMs: r.elapsedMs, ...(r.computed ? { computed: matrixToJson(r.computed).allowed, mismatches: r.mismatches, missing: r.missing, unserved: r.unserved } : {}) }, null, 2));
      } else {
        const n = r.probed.endpoints.length;
        ctx.out(`Reachability (${r.probed.protocol} port ${r.probed.port}; rows = source, columns = destination; . allowed, X denied; probed on the kernel, 1 s timeout)\n` +
          renderMatrix(r.probed) + `(${n * n} probes in ${r.elapsedMs} ms)` + (r.computed ? '\n' + renderMismatches(r.mismatches ?? [], r.missing ?? [], r.unserved ?? []) : ''));
      }
      if ((r.mismatches ?? []).length > 0) ctx.exitCode = 1;
    });
}

function format(o: string): 'text' | 'json' {
  if (o === 'text' || o === 'json') return o;
  throw new UsageError(`-o/--output must be text or json, got "${o}"`);
}

function flowOf(port: string, protocol: string): { port: number; protocol: 'tcp' | 'udp' } {
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new UsageError(`--port must be a number 1-65535, got "${port}"`);
  const p = protocol.toLowerCase();
  if (p !== 'tcp' && p !== 'udp') throw new UsageError(`--protocol must be tcp or udp, got "${protocol}"`);
  return { port: Number(port), protocol: p };
}

function findWorkload(s: LabState, ref: string) {
  const key = workloadKey(parseWorkloadRef(ref));
  const w = s.workloads.find((x) => workloadKey(x) === key);
  if (!w) throw new NotFoundError(`lab ${s.name} has no workload ${key} (brindle lab status lists them)`);
  return w;
}

/** Runs CMD inside the namespace with the CLI's stdout/stderr; resolves to its exit code. */
function runIn(netns: string, cmd: string[], ctx: CliContext): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...cmd], { stdio: ['inherit', 'pipe', 'pipe'] });
    child.stdout.on('data', (b: Buffer) => ctx.io.stdout.write(b));
    child.stderr.on('data', (b: Buffer) => ctx.io.stderr.write(b));
    child.on('error', reject);
    child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}
