/**
 * Node agent dataplane benchmarks (root; real nftables in namespaces created here):
 *  1. The nft side in-process (calc graph → driver → `nft -f` in a namespace) at 100/1,000/5,000
 *     local endpoints with 1,000 policies: initial load, then a policy change and an endpoint
 *     add — whole apply pass and the `nft -f` transaction alone (median, p99).
 *  2. The real agent at 1,000 endpoints / 1,000 policies: datastore write → enforced, observed by
 *     a UDP probe flipping in a workload namespace (median, p99; target p99 < 50 ms).
 *  3. Forwarding with that ruleset vs no ruleset: iperf3 throughput (target ≥ 95 %) and
 *     short-connection rate (target ≥ 90 %).
 *  4. The agent at 10,000 local endpoints: start → first in-sync apply (full resync), and RSS.
 * BENCH_AGENT_QUICK=1 scales the endpoint counts down by 10.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { ProcessExec } from '../src/base/exec.js';
import { systemClock } from '../src/base/clock.js';
import { CalculationGraph } from '../src/calc/graph.js';
import { keyOf } from '../src/calc/snapshot.js';
import type { Resource } from '../src/api/types.js';
import { openDatastore } from '../src/datastore/open.js';
import type { Datastore } from '../src/datastore/datastore.js';
import { encodeResource } from '../src/datastore/resource-codec.js';
import { ResourceClient } from '../src/datastore/resource-client.js';
import { DataplaneDriver } from '../src/dataplane/driver.js';
import { ExecNftClient, type NftClient } from '../src/dataplane/nftables/client.js';
import { NftSession } from '../src/dataplane/nftables/nft-session.js';
import { BenchNet, missingTool, sh } from './agent/netns.js';
import { bulkEndpoints, endpoint, ifaceFor, policies, profile, toggle } from './agent/scenario.js';
import { percentiles, type BenchRow } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', '..', 'bin', 'brindle.js');
const QUICK = process.env['BENCH_AGENT_QUICK'] === '1';
const scale = (n: number) => (QUICK ? Math.max(10, Math.round(n / 10)) : n);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function seed(ds: Datastore, rs: Resource[]): Promise<void> {
  for (const r of rs) await ds.create(keyOf(r), encodeResource(r));
}

/** 1. In-process: graph → driver → nft in a namespace. */
async function nftScaling(n: number, p: number): Promise<BenchRow[]> {
  const net = new BenchNet('s');
  try {
    const applies: { durationMs: number; nftMs: number }[] = [];
    // The agent's client (small transactions through one `nft -i` session) and a plain `nft -f`
    // client, switched between runs so both are measured on the same table.
    const session = new NftSession({ netns: net.node });
    const viaSession = new ExecNftClient(new ProcessExec(), { netns: net.node, session });
    const viaFile = new ExecNftClient(new ProcessExec(), { netns: net.node });
    let useSession = true;
    const nft: NftClient = { run: (tx) => (useSession ? viaSession : viaFile).run(tx), list: () => viaFile.list() };
    const driver = new DataplaneDriver({
      nft, clock: systemClock, log: quiet, resyncIntervalMs: 0,
      observer: { onApply: (r) => applies.push(r), onDrift() {} },
    });
    const graph = new CalculationGraph({ hostname: 'node1' }, driver);
    const put = (rs: Resource[]) => graph.onUpdates(rs.map((r) => ({ key: keyOf(r), value: r })));
    put([profile(), ...bulkEndpoints(n), ...policies(p)]);
    const t0 = performance.now();
    graph.onInSync();
    await driver.flushed();
    const initial = performance.now() - t0;
    const rules = driver.stats().rules;
    const changes = async (from: number) => {
      const got: { durationMs: number; nftMs: number }[] = [];
      for (let i = from; i < from + 30; i++) {
        applies.length = 0;
        put(policies(p, 2000 + i * 1000).slice(i % 10, (i % 10) + 1)); // one (active) policy's port changes
        graph.flush();
        await driver.flushed();
        if (applies[0]) got.push(applies[0]);
      }
      return got;
    };
    useSession = false;
    const changeFile = await changes(30);
    useSession = true;
    const change = await changes(0);
    const add: { durationMs: number; nftMs: number }[] = [];
    for (let i = 0; i < 30; i++) {
      applies.length = 0;
      put([endpoint(`x${i}`, ifaceFor(900_000 + i), `10.67.0.${i + 1}`, { app: `e${i % 50}` })]);
      graph.flush();
      await driver.flushed();
      if (applies[0]) add.push(applies[0]);
    }
    await driver.dispose();
    session.dispose();
    const pf = percentiles(changeFile.map((a) => a.nftMs));
    const pc = percentiles(change.map((a) => a.durationMs));
    const pn = percentiles(change.map((a) => a.nftMs));
    const ac = percentiles(add.map((a) => a.durationMs));
    const an = percentiles(add.map((a) => a.nftMs));
    const b = `dataplane ${n} ep/${p} pol`;
    return [
      { bench: b, metric: 'initial load (apply pass)', value: initial, unit: 'ms', note: `${rules} rules` },
      { bench: b, metric: 'policy change: apply pass median', value: pc.median, unit: 'ms' },
      { bench: b, metric: 'policy change: apply pass p99', value: pc.p99, unit: 'ms' },
      { bench: b, metric: 'policy change: nft transaction median', value: pn.median, unit: 'ms' },
      { bench: b, metric: 'policy change: nft transaction p99', value: pn.p99, unit: 'ms', note: 'through the agent\'s nft -i session' },
      { bench: b, metric: 'policy change: fresh nft -f median', value: pf.median, unit: 'ms', note: 'one nft process per transaction' },
      { bench: b, metric: 'policy change: fresh nft -f p99', value: pf.p99, unit: 'ms' },
      { bench: b, metric: 'policy change: session / fresh nft -f', value: pn.median / pf.median, unit: 'ratio', note: 'median' },
      { bench: b, metric: 'endpoint add: apply pass median', value: ac.median, unit: 'ms' },
      { bench: b, metric: 'endpoint add: nft transaction median', value: an.median, unit: 'ms' },
    ];
  } finally {
    net.destroy();
  }
}

function getReady(sock: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: sock, path: '/readyz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`bench: timed out waiting for ${what}`);
}

interface AgentRun {
  net: BenchNet;
  dir: string;
  ds: Datastore;
  sock: string;
  pid: number;
  stop(): Promise<void>;
}

async function startAgent(kind: string, n: number, p: number, real: { iface: string; ip: string; labels: Record<string, string> }[]): Promise<AgentRun & { readyMs: number; workloads: string[] }> {
  const net = new BenchNet(kind);
  const dir = mkdtempSync(join(tmpdir(), 'brl-bench-agent-'));
  const url = `sqlite:${join(dir, 'db.sqlite')}`;
  const ds = await openDatastore(url);
  try {
    return await startAgentIn(net, dir, url, ds, n, p, real);
  } catch (err) {
    await ds.close();
    net.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startAgentIn(net: BenchNet, dir: string, url: string, ds: Datastore, n: number, p: number, real: { iface: string; ip: string; labels: Record<string, string> }[]): Promise<AgentRun & { readyMs: number; workloads: string[] }> {
  const workloads = real.map((w, i) => net.workload(i, w.iface, w.ip));
  const bulk = bulkEndpoints(n - real.length);
  net.dummies(bulk.map((_, i) => ifaceFor(i)));
  await seed(ds, [profile(), ...bulk, ...real.map((w, i) => endpoint(`r${i}`, w.iface, w.ip, w.labels)), ...policies(p)]);
  const sock = join(dir, 'run', 'agent.sock');
  const t0 = Date.now();
  const agent = net.spawn(net.node, [process.execPath, BIN, 'agent', '--node', 'node1', '--datastore', url, '--run-dir', join(dir, 'run'), '--metrics-port', '0', '--log-level', 'error', '--resync-interval', '0']);
  await until('agent ready', () => getReady(sock), 600_000);
  const readyMs = Date.now() - t0;
  return {
    net, dir, ds, sock, pid: agent.pid!, readyMs, workloads,
    stop: async () => {
      agent.kill('SIGKILL');
      await ds.close();
      net.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** 2 + 3. The real agent: write → enforced, then forwarding with vs without the ruleset. */
async function agentEndToEnd(n: number, p: number): Promise<BenchRow[]> {
  const web = { iface: 'calibeef00001', ip: '10.68.0.1', labels: { app: 'web' } };
  const db = { iface: 'calibeef00002', ip: '10.68.0.2', labels: { app: 'db' } };
  const run = await startAgent('e', n, p, [web, db]);
  const rows: BenchRow[] = [];
  const b = `agent ${n} ep/${p} pol`;
  try {
    const [wWeb, wDb] = run.workloads as [string, string];
    const client = new ResourceClient(run.ds);
    run.net.spawn(wDb, [process.execPath, join(here, 'agent', 'udp-echo.js'), '8081']);
    run.net.spawn(wDb, [process.execPath, join(here, 'agent', 'tcp-sink.js'), '8090']);
    // Every probe is a new flow; a reused source port must not meet a live conntrack entry of an
    // earlier (allowed) probe, or a denied probe would pass as established.
    sh(['ip', 'netns', 'exec', run.net.node, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_udp_timeout=1', 'net.netfilter.nf_conntrack_udp_timeout_stream=1']);
    sh(['ip', 'netns', 'exec', wWeb, 'sysctl', '-qw', 'net.ipv4.ip_local_port_range=10000 65000']);
    const prober = run.net.spawn(wWeb, [process.execPath, join(here, 'agent', 'flip-prober.js'), db.ip, '8081'], 'pipe');
    const flips: { t: number; ok: boolean }[] = [];
    createInterface({ input: prober.stdout! }).on('line', (l) => flips.push(JSON.parse(l) as { t: number; ok: boolean }));
    await client.apply(toggle(true));
    await until('probe sees allowed', () => flips.at(-1)?.ok === true, 60_000);
    const samples: number[] = [];
    for (let i = 0; i < 40; i++) {
      const want = i % 2 === 1;
      const t0 = performance.timeOrigin + performance.now();
      await client.apply(toggle(want));
      await until(`probe flip ${i}`, () => flips.some((f) => f.t >= t0 && f.ok === want), 30_000);
      samples.push(flips.find((f) => f.t >= t0 && f.ok === want)!.t - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
    prober.kill('SIGKILL');
    const s = percentiles(samples);
    rows.push(
      { bench: b, metric: 'write → enforced median', value: s.median, unit: 'ms', note: `${samples.length} flips` },
      { bench: b, metric: 'write → enforced p99', value: s.p99, unit: 'ms', note: 'target < 50 ms' },
      { bench: b, metric: 'agent RSS', value: rssMb(run.pid), unit: 'MiB' },
    );
    // Forwarding: with the ruleset, then with the table removed (agent stopped first: fail static would keep it).
    const iperf = () => {
      const srv = run.net.spawn(wDb, ['iperf3', '-s', '-1', '-p', '5201']);
      sh(['sleep', '0.5']);
      const out = JSON.parse(sh(['ip', 'netns', 'exec', wWeb, 'iperf3', '-c', db.ip, '-p', '5201', '-t', '3', '-J'])) as { end: { sum_received: { bits_per_second: number } } };
      srv.kill('SIGKILL');
      return out.end.sum_received.bits_per_second / 1e9;
    };
    // Short connections leave TIME_WAIT sockets behind: reuse them, or the later runs run out of ports.
    sh(['ip', 'netns', 'exec', wWeb, 'sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=10000 65000']);
    const rate = () => {
      const r = JSON.parse(sh(['ip', 'netns', 'exec', wWeb, process.execPath, join(here, 'agent', 'conn-rate.js'), db.ip, '8090', '3'])) as { perSecond: number; failed: number };
      if (r.failed > 0) process.stderr.write(`conn-rate: ${r.failed} connections failed\n`);
      return r.perSecond;
    };
    // Interleaved rounds (with, without, with, …) so that a change in the machine's load between
    // them does not show up as overhead. The agent is stopped first (fail static keeps its table);
    // the table is saved as text and loaded back for each "with" round.
    process.kill(run.pid, 'SIGKILL');
    const saved = sh(['ip', 'netns', 'exec', run.net.node, 'nft', '-s', 'list', 'table', 'inet', 'brindle']);
    const withRules: number[] = [];
    const withConn: number[] = [];
    const without: number[] = [];
    const withoutConn: number[] = [];
    const ctOnlyConn: number[] = [];
    for (let round = 0; round < 3; round++) {
      withRules.push(iperf());
      withConn.push(rate());
      sh(['ip', 'netns', 'exec', run.net.node, 'nft', 'delete', 'table', 'inet', 'brindle']);
      without.push(iperf());
      withoutConn.push(rate());
      // Conntrack alone (a stateful firewall's floor): one table whose only rule looks at ct state.
      sh(['ip', 'netns', 'exec', run.net.node, 'nft', '-f', '-'], 'table inet brl-ct-only {\n chain f {\n  type filter hook forward priority 0; policy accept;\n  ct state established,related accept\n }\n}\n');
      ctOnlyConn.push(rate());
      sh(['ip', 'netns', 'exec', run.net.node, 'nft', 'delete', 'table', 'inet', 'brl-ct-only']);
      sh(['ip', 'netns', 'exec', run.net.node, 'nft', '-f', '-'], saved);
    }
    const med = (xs: number[]) => percentiles(xs).median;
    rows.push(
      { bench: b, metric: 'iperf3 with 1000 policies', value: med(withRules), unit: 'Gbit/s' },
      { bench: b, metric: 'iperf3 without ruleset', value: med(without), unit: 'Gbit/s' },
      { bench: b, metric: 'iperf3 ratio', value: (100 * Math.max(...withRules)) / Math.max(...without), unit: '%', note: 'best of 3 interleaved rounds each; target ≥ 95 %' },
      { bench: b, metric: 'new connections with policy', value: med(withConn), unit: 'conn/s' },
      { bench: b, metric: 'new connections without', value: med(withoutConn), unit: 'conn/s' },
      { bench: b, metric: 'new-connection ratio', value: (100 * Math.max(...withConn)) / Math.max(...withoutConn), unit: '%', note: 'best of 3 interleaved rounds each; target ≥ 90 %' },
      { bench: b, metric: 'new connections, conntrack only', value: med(ctOnlyConn), unit: 'conn/s', note: 'one ct state rule, no policy' },
      { bench: b, metric: 'new-connection ratio vs conntrack only', value: (100 * Math.max(...withConn)) / Math.max(...ctOnlyConn), unit: '%', note: 'what the policy itself costs' },
    );
  } finally {
    await run.stop();
  }
  return rows;
}

/** 4. Full resync and RSS at many endpoints. */
async function agentAtScale(n: number, p: number): Promise<BenchRow[]> {
  const run = await startAgent('r', n, p, []);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const b = `agent ${n} ep/${p} pol`;
    return [
      { bench: b, metric: 'start → first in-sync apply (full resync)', value: run.readyMs, unit: 'ms', note: 'includes node start-up and reading the datastore' },
      { bench: b, metric: 'agent RSS', value: rssMb(run.pid), unit: 'MiB' },
    ];
  } finally {
    await run.stop();
  }
}

export async function run(): Promise<BenchRow[]> {
  const why = missingTool();
  if (why) return [{ bench: 'agent dataplane', metric: 'skipped', value: NaN, unit: '', note: why }];
  const only = process.env['BENCH_AGENT_ONLY'];
  const rows: BenchRow[] = [];
  // Each stage on its own: one that fails (or times out on a loaded machine) is reported as such.
  const stage = async (name: string, f: () => Promise<BenchRow[]>) => {
    if (only && !name.startsWith(only)) return;
    try {
      const got = await f();
      for (const r of got) process.stderr.write(`  ${r.bench}  ${r.metric}: ${r.value.toFixed(2)} ${r.unit}\n`);
      rows.push(...got);
    } catch (err) {
      rows.push({ bench: `agent dataplane ${name}`, metric: 'failed', value: NaN, unit: '', note: (err as Error).message.slice(0, 80) });
    }
  };
  for (const n of [100, 1000, 5000]) await stage(`nft ${n}`, () => nftScaling(scale(n), 1000));
  await stage('e2e', () => agentEndToEnd(scale(1000), 1000));
  await stage('scale', () => agentAtScale(scale(10_000), 1000));
  return rows;
}
