/**
 * Flow logging costs (needs root, nft, ulogd, conntrack; otherwise reports itself skipped):
 *  - storage: bytes of the SQLite flow store per million records (written in batches, as the
 *    pipeline does), and the write rate; plus the bytes per record the real agent wrote below;
 *  - CPU: the real agent (`brindle agent`, in a node namespace with two workloads web → db and a
 *    policy allowing TCP 8090) while web opens as many short TCP connections as this machine
 *    manages (the new-connection generator of agent-dataplane.bench, several processes), once with
 *    `--flow-logs` and once without, in one run: connections/s achieved, CPU (utime+stime of the
 *    agent, with its reaped children such as `conntrack -L` and `nft`, and of ulogd) as % of a core
 *    over the window, CPU per 1,000 connections, the figure scaled to 10,000 connections/s, and the
 *    on/off ratio. Kernel work (NFLOG, conntrack events) runs in softirq and is in no process's CPU;
 *  - latency: a denied and an allowed connection → its record visible to `brindle flows` (the
 *    store query it runs), median of a few.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareResource } from '../src/api/prepare.js';
import type { Resource } from '../src/api/types.js';
import { openDatastore } from '../src/datastore/open.js';
import { ResourceClient } from '../src/datastore/resource-client.js';
import type { FlowRecord } from '../src/flows/flow-record.js';
import { SqliteFlowStore } from '../src/flows/flow-store.js';
import { BenchNet, sh } from './agent/netns.js';
import { endpoint, profile } from './agent/scenario.js';
import { percentiles, type BenchRow } from './table.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, '..', '..', 'bin', 'brindle.js');

function storage(): BenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'brl-flowbench-'));
  try {
    const store = new SqliteFlowStore(join(dir, 'f.db'));
    const n = 200_000;
    const now = Date.now();
    const t0 = performance.now();
    for (let b = 0; b < n; b += 1_000) {
      const batch: FlowRecord[] = [];
      for (let i = b; i < b + 1_000; i++) {
        batch.push({
          node: 'node-1', src: { ip: `10.65.0.${(i % 50) + 1}`, kind: 'workload', namespace: 'shop', name: `frontend-${i % 50}`, labels: { app: 'frontend', 'projectcalico.org/namespace': 'shop' } },
          dst: { ip: '10.65.1.10', kind: 'workload', namespace: 'shop', name: 'api', labels: { app: 'api', 'projectcalico.org/namespace': 'shop' } },
          protocol: 'TCP', srcPort: 32768 + (i % 28000), dstPort: 8080, direction: 'ingress', verdict: i % 10 ? 'allowed' : 'denied',
          policy: { kind: 'policy', tier: 'default', namespace: 'shop', name: 'api-from-frontend', ruleIndex: 0 }, packets: 10, bytes: 1200, start: now + i, end: now + i + 5,
        });
      }
      store.writeSync(batch);
    }
    const secs = (performance.now() - t0) / 1000;
    void store.close();
    const bytes = ['f.db', 'f.db-wal'].reduce((s, f) => s + (spawnSync('test', ['-e', join(dir, f)]).status === 0 ? statSync(join(dir, f)).size : 0), 0);
    return [
      { bench: 'flow-store', metric: 'storage per 1M flow records', value: (bytes / n) * 1e6 / 1e6, unit: 'MB', note: `${n} records, 50 labelled clients → 1 server, SQLite` },
      { bench: 'flow-store', metric: 'write rate', value: n / secs, unit: 'records/s' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** utime+stime (+ cutime+cstime: children it waited for) of a process, in seconds. */
const cpuOf = (pid: number, children = false): number => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const t = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
    return t / 100; // clock ticks (100/s)
  } catch {
    return 0;
  }
};

const WINDOW = Number(process.env['FLOW_BENCH_SECONDS'] ?? 10);
const CLIENTS = Number(process.env['FLOW_BENCH_CLIENTS'] ?? 2);
const DRAIN_MS = 8_000;

interface CpuRun {
  rate: number;
  failed: number;
  agentCpu: number;
  ulogdCpu: number;
  records?: number;
  /** Connections the stored allowed records to db stand for (records sum the connections of a 5-tuple reused within an interval). */
  connectionsRecorded?: number;
  /** Connection ends the recorder turned into records (the agent's brindle_flow_records_total{verdict="allowed"}). */
  endsRecorded?: number;
  /** Records summed into another of the same 5-tuple in its interval (brindle_flow_records_merged_total). */
  merged?: number;
  /** Netlink overruns ulogd reported (brindle_flow_kernel_overruns_total, all sources). */
  ulogdLosses?: number;
  storeBytes?: number;
  deniedLatency?: number[];
  allowedLatency?: number[];
}

const allowWebToDb = (): Resource => prepareResource({
  apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'db-from-web' },
  spec: { order: 10, selector: "app == 'db'", types: ['Ingress'], ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: "app == 'web'" }, destination: { ports: [8090] } }] },
});

/** One TCP connect from the workload; prints the epoch ms it was sent and whether it connected. */
const ONE_CONNECT = (ip: string, port: number) => `const s = require('node:net').connect(${port}, '${ip}'); const t = Date.now();
const out = (ok) => { console.log(JSON.stringify({ t, ok })); s.destroy(); process.exit(0); };
s.on('connect', () => { s.end(); s.on('close', () => out(true)); }); s.on('error', () => out(false)); setTimeout(() => out(false), 1500);`;

async function agentRun(logging: boolean): Promise<CpuRun> {
  const net = new BenchNet(logging ? 'l' : 'n');
  const dir = mkdtempSync(join(tmpdir(), 'brl-flowbench-'));
  const url = `sqlite:${join(dir, 'db.sqlite')}`;
  const flowDb = join(dir, 'flows.db');
  const ds = await openDatastore(url);
  let agentPid = 0;
  try {
    const web = { iface: 'calibeef00011', ip: '10.68.0.1' };
    const db = { iface: 'calibeef00012', ip: '10.68.0.2' };
    const [wWeb, wDb] = [net.workload(0, web.iface, web.ip), net.workload(1, db.iface, db.ip)];
    const client = new ResourceClient(ds);
    for (const r of [profile(), endpoint('web', web.iface, web.ip, { app: 'web' }), endpoint('db', db.iface, db.ip, { app: 'db' }), allowWebToDb()]) await client.apply(r);
    // Ended connections reach conntrack DESTROY (the allowed records) 1 s after close, not 120 s.
    sh(['ip', 'netns', 'exec', net.node, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_timeout_time_wait=1']);
    sh(['ip', 'netns', 'exec', wWeb, 'sysctl', '-qw', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=10000 65000']);
    const agent = net.spawn(net.node, [process.execPath, BIN, 'agent', '--node', 'node1', '--datastore', url, '--run-dir', join(dir, 'run'), '--metrics-port', '0', '--log-level', 'error', '--resync-interval', '0',
      ...(logging ? ['--flow-logs', '--flow-store', flowDb] : [])]);
    agentPid = agent.pid!;
    await until('agent ready', () => getReady(join(dir, 'run', 'agent.sock')), 120_000);
    net.spawn(wDb, [process.execPath, join(HERE, 'agent', 'tcp-sink.js'), '8090']);
    const ulogdPid = () => Number(spawnSync('pgrep', ['-P', String(agentPid), '-x', 'ulogd']).stdout.toString().trim().split('\n')[0] || 0);
    if (logging) await until('ulogd running', () => ulogdPid() > 0, 20_000);
    await until('web reaches db', () => JSON.parse(sh(['ip', 'netns', 'exec', wWeb, process.execPath, '-e', ONE_CONNECT(db.ip, 8090)])).ok === true, 20_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const u = ulogdPid();
    const a0 = cpuOf(agentPid, true);
    const u0 = u ? cpuOf(u) : 0;
    const outs = await Promise.all(Array.from({ length: CLIENTS }, () => new Promise<string>((resolve) => {
      const p = net.spawn(wWeb, [process.execPath, join(HERE, 'agent', 'conn-rate.js'), db.ip, '8090', String(WINDOW)], 'pipe');
      let out = '';
      p.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      p.on('exit', () => resolve(out));
    })));
    // What the window's connections cost the agent includes their conntrack ends after it (up to
    // TIME_WAIT 1 s + a conntrack sweep 5 s + an aggregation interval 5 s later): with logging on,
    // until the store stops growing for longer than an interval (bounded).
    await new Promise((r) => setTimeout(r, DRAIN_MS));
    if (logging) {
      const store = new SqliteFlowStore(flowDb);
      let [last, stableSince] = [store.count(), Date.now()];
      const deadline = Date.now() + 40_000;
      while (Date.now() - stableSince < 6_000 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        const c = store.count();
        if (c !== last) [last, stableSince] = [c, Date.now()];
      }
      await store.close();
    }
    const agentCpu = (cpuOf(agentPid, true) - a0) / WINDOW;
    const metrics = logging ? await getText(join(dir, 'run', 'agent.sock'), '/metrics') : '';
    const ulogdCpu = u ? (cpuOf(u) - u0) / WINDOW : 0;
    const results = outs.map((o) => JSON.parse(o.trim().split('\n').pop()!) as { perSecond: number; failed: number });
    const run: CpuRun = { rate: results.reduce((s, r) => s + r.perSecond, 0), failed: results.reduce((s, r) => s + r.failed, 0), agentCpu, ulogdCpu };
    if (logging) {
      const metric = (re: RegExp) => metrics.split('\n').filter((l) => re.test(l)).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
      run.ulogdLosses = metric(/^brindle_flow_kernel_overruns_total\{/);
      run.endsRecorded = metric(/^brindle_flow_records_total\{verdict="allowed"\}/);
      run.merged = metric(/^brindle_flow_records_merged_total /);
    }
    if (logging) {
      const store = new SqliteFlowStore(flowDb);
      try {
        run.records = store.count();
        run.connectionsRecorded = store.query({ verdict: 'allowed' }).filter((f) => f.record.dstPort === 8090).reduce((n, f) => n + (f.record.connections ?? 1), 0);
        run.storeBytes = ['flows.db', 'flows.db-wal'].reduce((s, f) => s + (existsSync(join(dir, f)) ? statSync(join(dir, f)).size : 0), 0);
        run.deniedLatency = [];
        run.allowedLatency = [];
        for (let i = 0; i < 4; i++) {
          for (const [port, list, verdict] of [[8091, run.deniedLatency, 'denied'], [8090, run.allowedLatency, 'allowed']] as const) {
            const after = store.lastId();
            const { t } = JSON.parse(sh(['ip', 'netns', 'exec', wWeb, process.execPath, '-e', ONE_CONNECT(db.ip, port)])) as { t: number };
            const deadline = Date.now() + 30_000;
            for (;;) {
              if (store.query({ verdict }, { afterId: after }).some((f) => f.record.dstPort === port)) {
                list.push(Date.now() - t);
                break;
              }
              if (Date.now() > deadline) break;
              await new Promise((r) => setTimeout(r, 25));
            }
          }
        }
      } finally {
        await store.close();
      }
    }
    return run;
  } finally {
    if (agentPid) spawnSync('kill', ['-TERM', String(agentPid)]);
    await new Promise((r) => setTimeout(r, 1_000));
    await ds.close();
    net.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function getText(sock: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ socketPath: sock, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
    req.end();
  });
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
    try {
      if (await cond()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`bench: timed out waiting for ${what}`);
}

export async function run(): Promise<BenchRow[]> {
  const rows = storage();
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v ulogd && command -v nft && command -v conntrack']).status !== 0) {
    rows.push({ bench: 'flow-logging', metric: 'connection-rate cost', value: NaN, unit: '', note: 'skipped: needs root, nft, ulogd and conntrack' });
    return rows;
  }
  const off = await agentRun(false);
  const on = await agentRun(true);
  const pct = (x: number) => x * 100;
  const perK = (cpu: number, rate: number) => (cpu / rate) * 1000 * 1000; // ms of CPU per 1,000 connections
  const onCpu = on.agentCpu + on.ulogdCpu;
  const b = 'flow-logging agent';
  const med = (xs: number[] | undefined) => (xs && xs.length ? percentiles(xs).median : NaN);
  rows.push(
    { bench: b, metric: 'new TCP connections/s, logging off', value: off.rate, unit: 'conn/s', note: `${WINDOW} s, ${CLIENTS}x8 concurrent${off.failed ? `, ${off.failed} failed` : ''}` },
    { bench: b, metric: 'new TCP connections/s, logging on', value: on.rate, unit: 'conn/s', note: `${(100 * on.rate / off.rate).toFixed(0)} % of off${on.failed ? `, ${on.failed} failed` : ''}` },
    { bench: b, metric: 'agent CPU, logging off', value: pct(off.agentCpu), unit: '% of a core' },
    { bench: b, metric: 'agent CPU, logging on', value: pct(on.agentCpu), unit: '% of a core' },
    { bench: b, metric: 'ulogd CPU, logging on', value: pct(on.ulogdCpu), unit: '% of a core' },
    { bench: b, metric: 'agent + ulogd CPU on / agent CPU off', value: onCpu / Math.max(off.agentCpu, 0.001), unit: 'x', note: `at ${on.rate.toFixed(0)} vs ${off.rate.toFixed(0)} conn/s` },
    { bench: b, metric: 'flow logging CPU per 1,000 connections', value: perK(onCpu - off.agentCpu * (on.rate / Math.max(off.rate, 1)), on.rate), unit: 'ms', note: 'on minus off (scaled to the same rate)' },
    { bench: b, metric: 'flow logging CPU at 10,000 conn/s (scaled)', value: pct(((onCpu / on.rate) - (off.agentCpu / Math.max(off.rate, 1))) * 10_000), unit: '% of a core', note: 'linear from the achieved rate' },
    { bench: b, metric: 'records stored', value: on.records ?? NaN, unit: 'records', note: `${((on.records ?? 0) / (on.rate * WINDOW) * 100).toFixed(0)} % of the connections (one per 5-tuple per 5 s interval: ${on.merged ?? 0} connections reused a 5-tuple and were summed)` },
    // Connections made: the window's (counted at connect) plus the one probe before it.
    { bench: b, metric: 'connections recorded', value: pct((on.connectionsRecorded ?? 0) / (on.rate * WINDOW + 1)), unit: '% of connections', note: `${on.connectionsRecorded ?? 0} in the store of ${on.rate * WINDOW + 1} made; ${on.endsRecorded ?? 0} conntrack ends recorded; kernel overruns ${on.ulogdLosses ?? 0}` },
    { bench: b, metric: 'store size per 1M records (real agent)', value: ((on.storeBytes ?? 0) / Math.max(on.records ?? 1, 1)), unit: 'MB', note: 'bytes per record = MB per million' },
    { bench: b, metric: 'denied packet → in brindle flows (median)', value: med(on.deniedLatency), unit: 'ms', note: `${on.deniedLatency?.length ?? 0} samples: ${(on.deniedLatency ?? []).join(', ')}` },
    { bench: b, metric: 'allowed connection → in brindle flows (median)', value: med(on.allowedLatency), unit: 'ms', note: `${on.allowedLatency?.length ?? 0} samples: ${(on.allowedLatency ?? []).join(', ')}` },
  );
  return rows;
}

if (process.argv[1]?.endsWith('flow-logging.bench.js')) {
  const { formatTable } = await import('./table.js');
  console.log(formatTable(await run()));
}
