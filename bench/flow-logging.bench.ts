/**
 * Flow logging costs (needs root, nft, ulogd, socat; otherwise reports itself skipped):
 *  - storage: bytes of the SQLite flow store per million records (written in batches, as the
 *    pipeline does) and the write rate;
 *  - CPU: new TCP connections per second between two namespaces for a few seconds, with the node's
 *    rules logging (rate-limited NFLOG on new connections, conntrack DESTROY events) and
 *    `brindle flows collect` recording every connection, against the same rules without logging and
 *    no collector. Reports the achieved rates and the collector's + ulogd's CPU (user+system) per
 *    second of load, and CPU per 1,000 connections.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteFlowStore } from '../src/flows/flow-store.js';
import type { FlowRecord } from '../src/flows/flow-record.js';
import { encodeRuleId } from '../src/flows/rule-id.js';
import type { BenchRow } from './table.js';

const BIN = join(process.cwd(), 'bin', 'brindle.js');
const SECONDS = Number(process.env['FLOW_BENCH_SECONDS'] ?? 8);

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
          node: 'node-1', src: { ip: `10.65.${(i >> 8) & 255}.${i & 255}`, kind: 'workload', namespace: 'shop', name: `frontend-${i % 50}`, labels: { app: 'frontend', 'projectcalico.org/namespace': 'shop' } },
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
      { bench: 'flow-store', metric: 'storage per 1M flow records', value: (bytes / n) * 1e6 / 1e6, unit: 'MB', note: `${n} records with labels, SQLite` },
      { bench: 'flow-store', metric: 'write rate', value: n / secs, unit: 'records/s' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cpuOf = (pid: number): number => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks (100/s)
  } catch {
    return 0;
  }
};

const CLIENT = `
const net = require('node:net'); const end = Date.now() + ${SECONDS * 1000}; let n = 0, err = 0, live = 0;
function one() { if (Date.now() > end) { if (live === 0) { console.log(JSON.stringify({ n, err })); } return; }
  live++; const s = net.connect(5001, '10.98.0.2'); s.on('error', () => { err++; }); s.on('close', () => { live--; n++; one(); }); s.resume(); }
for (let i = 0; i < 64; i++) one();`;
const SERVER = `require('node:net').createServer((s) => { s.on('error', () => {}); s.end(); }).listen(5001, '10.98.0.2');`;

async function connRun(logging: boolean): Promise<{ rate: number; cpu: number; errors: number }> {
  const tag = `${process.pid % 10000}${logging ? 'l' : 'n'}`;
  const a = `brl-ba${tag}`;
  const b = `brl-bb${tag}`;
  const dir = mkdtempSync(join(tmpdir(), 'brl-flowbench-'));
  const procs: number[] = [];
  const run = (args: string[], input?: string) => execFileSync(args[0]!, args.slice(1), { input, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    run(['ip', 'netns', 'add', a]);
    run(['ip', 'netns', 'add', b]);
    run(['ip', '-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b]);
    run(['ip', '-n', a, 'addr', 'add', '10.98.0.1/24', 'dev', 'va']);
    run(['ip', '-n', b, 'addr', 'add', '10.98.0.2/24', 'dev', 'vb']);
    for (const [ns, d] of [[a, 'va'], [b, 'vb']]) for (const l of [d!, 'lo']) run(['ip', '-n', ns!, 'link', 'set', l, 'up']);
    run(['ip', 'netns', 'exec', b, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_timeout_time_wait=1']);
    const prefix = encodeRuleId({ verdict: 'allowed', direction: 'ingress', policy: { kind: 'policy', tier: 'default', namespace: 'b', name: 'allow', ruleIndex: 0 } });
    const log = logging ? `tcp dport 5001 ct state new limit rate 100/second burst 20 packets log group 21 prefix "${prefix}"\n` : '';
    run(['ip', 'netns', 'exec', b, 'nft', '-f', '-'], `table inet brindle {\n chain input {\n type filter hook input priority 0; policy accept;\n ct state established,related accept\n ${log} tcp dport 5001 counter accept\n }\n}\n`);
    const server = spawn('ip', ['netns', 'exec', b, process.execPath, '-e', SERVER], { stdio: 'ignore' });
    procs.push(server.pid!);
    let collector: ReturnType<typeof spawn> | undefined;
    if (logging) {
      const env = { ...process.env, BRINDLE_DATASTORE: `sqlite:${join(dir, 'b.db')}` };
      execFileSync(process.execPath, [BIN, 'apply', '-f', '-'], { env, input: 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: kns.bench}\nspec: {}\n' });
      collector = spawn(process.execPath, [BIN, 'flows', 'collect', '--node', 'bench', '--netns', b, '--run-dir', join(dir, 'run'), '--interval', '1000'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      procs.push(collector.pid!);
      await new Promise<void>((resolve, reject) => {
        let err = '';
        const t = setTimeout(() => reject(new Error(`collector did not start: ${err}`)), 20_000);
        collector!.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('collecting flows')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
    }
    await new Promise((r) => setTimeout(r, 500));
    const pids = () => (collector ? [collector.pid!, ...spawnSync('pgrep', ['-P', String(collector.pid)]).stdout.toString().split('\n').filter(Boolean).map(Number)] : []);
    const watched = pids();
    const cpu0 = watched.reduce((s, p) => s + cpuOf(p), 0);
    const out = execFileSync('ip', ['netns', 'exec', a, process.execPath, '-e', CLIENT], { encoding: 'utf8', timeout: (SECONDS + 30) * 1000 });
    await new Promise((r) => setTimeout(r, 2_500)); // conntrack ends of the last connections
    const cpu = watched.reduce((s, p) => s + cpuOf(p), 0) - cpu0;
    const { n, err } = JSON.parse(out) as { n: number; err: number };
    return { rate: n / SECONDS, cpu: cpu / SECONDS, errors: err };
  } finally {
    for (const p of procs.reverse()) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        // gone
      }
    }
    await new Promise((r) => setTimeout(r, 1_000));
    spawnSync('ip', ['netns', 'del', a]);
    spawnSync('ip', ['netns', 'del', b]);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows = storage();
  if (process.getuid?.() !== 0 || spawnSync('sh', ['-c', 'command -v ulogd && command -v nft']).status !== 0) {
    rows.push({ bench: 'flow-logging', metric: 'connection-rate cost', value: NaN, unit: '', note: 'skipped: needs root, nft and ulogd' });
    return rows;
  }
  const off = await connRun(false);
  const on = await connRun(true);
  rows.push(
    { bench: 'flow-logging', metric: 'new TCP connections/s, logging off', value: off.rate, unit: 'conn/s', note: `${SECONDS} s, 64 concurrent` },
    { bench: 'flow-logging', metric: 'new TCP connections/s, logging on', value: on.rate, unit: 'conn/s', note: `ratio ${(on.rate / off.rate).toFixed(2)}` },
    { bench: 'flow-logging', metric: 'collector + ulogd CPU at that rate', value: on.cpu * 100, unit: '% of a core' },
    { bench: 'flow-logging', metric: 'collector + ulogd CPU per 1,000 connections', value: (on.cpu / on.rate) * 1000 * 1000, unit: 'ms' },
  );
  return rows;
}

if (process.argv[1]?.endsWith('flow-logging.bench.js')) {
  const { formatTable } = await import('./table.js');
  console.log(formatTable(await run()));
}
