import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BRINDLE_BIN } from '../helpers/paths.js';
import { encodeRuleId } from '../../src/flows/rule-id.js';
import { TOPOLOGY } from '../flows/topology.js';
import { brindle, flowTestSkipReason, makePair, Proc, sh } from './flows-helpers.js';

/**
 * Flow logging on the real kernel: client namespace → node namespace whose nftables input chain
 * logs allowed connections and denied packets with Brindle rule IDs (NFLOG groups 21/20, the
 * denied log rate-limited), `brindle flows collect` running ulogd2 there, and `brindle flows`
 * reading what was recorded. Also: a flood of denied packets is logged only at the limit's rate;
 * a `_bulk` sink that is down drops (counted) without holding up the store.
 */

const skip = flowTestSkipReason();
const tag = `${process.pid % 100000}`;
let dir = '';
let env: NodeJS.ProcessEnv = {};
let pair: ReturnType<typeof makePair> | undefined;
const procs: Proc[] = [];

const ALLOW = encodeRuleId({ verdict: 'allowed', direction: 'ingress', policy: { kind: 'policy', tier: 'default', namespace: 'prod', name: 'allow-web', ruleIndex: 0 } });
const DENY = encodeRuleId({ verdict: 'denied', direction: 'ingress', policy: { kind: 'end-of-tier', tier: 'default' } });

function ruleset(): string {
  return `table inet brindle {
  chain input {
    type filter hook input priority 0; policy accept;
    ct state established,related accept
    iifname "vb" tcp dport 5001 ct state new log group 21 prefix "${ALLOW}" accept
    iifname "vb" tcp dport 5002 limit rate 20/second burst 10 packets log group 20 prefix "${DENY}"
    iifname "vb" tcp dport 5002 drop
    iifname "vb" udp dport 5003 limit rate 20/second burst 10 packets log group 20 prefix "${DENY}"
    iifname "vb" udp dport 5003 counter drop
  }
}
`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function flowsJson(...args: string[]): Record<string, any>[] {
  const r = brindle(env, 'flows', '-o', 'json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function until<T>(f: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('flow logging on the kernel (netns, nftables NFLOG, ulogd2, conntrack)', { skip, timeout: 120_000 }, () => {
  let metricsPort = 0;
  let bulkPort = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brl-flows-'));
    env = { ...process.env, BRINDLE_DATASTORE: `sqlite:${join(dir, 'brindle.db')}` };
    assert.equal(brindle(env, 'apply', '-f', TOPOLOGY).code, 0);
    pair = makePair(tag);
    sh('ip', ['netns', 'exec', pair.b, 'nft', '-f', '-'], ruleset());
    metricsPort = await freePort();
    bulkPort = await freePort(); // nothing listens: the _bulk sink is down
    const collector = new Proc(process.execPath, [BRINDLE_BIN, 'flows', 'collect', '--node', 'node-a', '--netns', pair.b, '--run-dir', join(dir, 'run'), '--interval', '200',
      '--bulk', `http://127.0.0.1:${bulkPort}`, '--buffer', '1', '--metrics-listen', `127.0.0.1:${metricsPort}`, '--sysctl', 'net.netfilter.nf_conntrack_tcp_timeout_time_wait=1', '--ct-sweep', '300'], env);
    procs.push(collector);
    await collector.waitFor(() => collector.err.includes('collecting flows'), 15_000, 'the collector to start');
    const server = new Proc('ip', ['netns', 'exec', pair.b, 'socat', '-u', 'TCP-LISTEN:5001,fork,reuseaddr', 'OPEN:/dev/null']);
    procs.push(server);
    await new Promise((r) => setTimeout(r, 300));
  });
  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    pair?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a denied connection attempt is recorded with its deciding rule, identities and staged verdict (latency measured)', async () => {
    const follow = new Proc(process.execPath, [BRINDLE_BIN, 'flows', '--follow', '-o', 'json', '--verdict', 'denied'], env);
    procs.push(follow);
    await new Promise((r) => setTimeout(r, 1_000)); // the follower is up and polling
    const t0 = Date.now();
    const client = new Proc('ip', ['netns', 'exec', pair!.a, 'socat', '-u', '/dev/null', 'TCP:10.99.0.2:5002,connect-timeout=0.5']);
    procs.push(client);
    await follow.waitFor(() => follow.out.includes('\n'), 10_000, 'the denied flow on --follow');
    const seen = Date.now();
    const latency = seen - t0;
    await follow.stop();
    const f = JSON.parse(follow.out.split('\n')[0]!) as Record<string, any>;
    assert.equal(f.dstPort, 5002);
    assert.deepEqual({ src: f.src, dst: { namespace: f.dst.namespace, name: f.dst.name }, protocol: f.protocol, verdict: f.verdict, policy: f.policy, node: f.node, direction: f.direction },
      { src: { namespace: 'prod', name: 'client', ip: '10.99.0.1', kind: 'workload', labels: f.src.labels }, dst: { namespace: 'prod', name: 'db' }, protocol: 'TCP', verdict: 'denied', policy: { kind: 'end-of-tier', tier: 'default' }, node: 'node-a', direction: 'ingress' });
    assert.ok(f.packets >= 1 && f.bytes >= 40 * f.packets, JSON.stringify(f));
    assert.deepEqual(f.staged, [{ tier: 'default', namespace: 'prod', name: 'lockdown', action: 'deny', ruleIndex: 0 }]);
    assert.ok(Date.parse(f.end) >= Date.parse(f.start));
    console.log(`# flow-record latency: client start → visible in brindle flows --follow ${latency} ms; kernel packet time → visible ${seen - Date.parse(f.start)} ms`);
  });

  test('an allowed connection is recorded at its end with conntrack counts and the allow rule', async () => {
    sh('ip', ['netns', 'exec', pair!.a, 'sh', '-c', 'head -c 100000 /dev/zero | socat -u - TCP:10.99.0.2:5001']);
    const f = await until(() => flowsJson('--verdict', 'allowed', '--policy', 'prod/allow-web').find((x) => x.dstPort === 5001), 15_000, 'the allowed flow').catch((err: Error) => {
      throw new Error(`${err.message}; recorded: ${brindle(env, 'flows').stdout}; conntrack: ${sh('ip', ['netns', 'exec', pair!.b, 'conntrack', '-L'])}`);
    });
    assert.deepEqual([f.src.name, f.dst.name, f.verdict, f.policy], ['client', 'db', 'allowed', { kind: 'policy', tier: 'default', namespace: 'prod', name: 'allow-web', ruleIndex: 0 }]);
    assert.ok(f.bytes > 100_000 && f.packets >= 5, `counts ${f.packets} packets ${f.bytes} bytes`);
    const text = brindle(env, 'flows', '--verdict', 'allowed');
    assert.match(text.stdout, /prod\/client:\d+ -> prod\/db TCP\/5001 {2}ALLOWED ingress {2}by default\/prod\/allow-web rule 0/);
  });

  test('a flood of denied packets is logged at the rate limit, the kernel still drops them all, and the down _bulk sink only drops', async () => {
    const before = flowsJson('--to', 'prod/db', '--verdict', 'denied').filter((x) => x.dstPort === 5003).reduce((n, x) => n + x.packets, 0);
    const t0 = Date.now();
    sh('ip', ['netns', 'exec', pair!.a, process.execPath, '-e', `
      const s = require('node:dgram').createSocket('udp4'); let n = 0; const buf = Buffer.alloc(20);
      const go = () => { for (let i = 0; i < 500 && n < 5000; i++, n++) s.send(buf, 5003, '10.99.0.2'); if (n < 5000) setImmediate(go); else setTimeout(() => s.close(), 100); };
      go();`]);
    const elapsed = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 800));
    const logged = flowsJson('--to', 'prod/db', '--verdict', 'denied').filter((x) => x.dstPort === 5003).reduce((n, x) => n + x.packets, 0) - before;
    const dropped = Number(/packets (\d+)/.exec(sh('ip', ['netns', 'exec', pair!.b, 'nft', 'list', 'chain', 'inet', 'brindle', 'input']).split('\n').find((l) => l.includes('5003') && l.includes('drop'))!)![1]);
    assert.ok(dropped >= 4_000, `kernel dropped ${dropped}`);
    assert.ok(logged >= 10 && logged <= 10 + 20 * (elapsed + 1.5), `logged ${logged} of ${dropped} in ${elapsed.toFixed(1)} s`);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
    const sinkDrops = Number(/brindle_flow_sink_dropped_records\{sink="bulk:[^"]+"\} (\d+)/.exec(metrics)?.[1] ?? -1);
    const storeSent = Number(/brindle_flow_sink_sent_records\{sink="sqlite:[^"]+"\} (\d+)/.exec(metrics)?.[1] ?? -1);
    assert.ok(sinkDrops > 0, `bulk sink drops ${sinkDrops}`);
    assert.ok(storeSent > 0, `store sent ${storeSent}`);
    assert.match(metrics, /brindle_denied_packets_total\{tier="default",namespace="",policy="end-of-tier",direction="ingress"\} \d+/);
    assert.match(metrics, /brindle_endpoint_denied_packets_total\{namespace="prod",endpoint="db",direction="ingress"\} \d+/);
  });
});
