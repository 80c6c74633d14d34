/**
 * Flow logs on the lab: a 2-node BGP lab with `flowLogs` (every agent runs --flow-logs into the
 * lab's store, and ships to a `_bulk` URL that is down), workloads x/a and y/c on node-1 and x/b on
 * node-2, a tier `security` with a policy that denies UDP 81 from c to b and passes the rest, and a
 * default-tier policy that allows TCP/UDP 80 from a to b. Traffic of known shape (bytes, packets,
 * source ports) is generated from inside the workloads; `brindle flows -o json` (and its filters)
 * must show who sent what, which tier/policy/rule decided, on which node, with the counts the kernel
 * saw. Then a flood of denied packets (NFLOG stays near the configured rate, the node keeps
 * forwarding allowed traffic), and the dead sink (the agent keeps enforcing, drops are counted).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Resource, WorkloadEndpointSpec } from '../../src/api/types.js';
import { agentGet } from '../../src/lab/lab-agents.js';
import type { LabNode, LabWorkload } from '../../src/lab/lab-state.js';
import { LabWorkloads } from '../../src/lab/lab-workloads.js';
import { BRINDLE_BIN } from '../helpers/paths.js';
import { E2eLab, labUnavailable } from './lab-fixture.js';

const TRAFFIC = fileURLToPath(new URL('./flows-traffic-main.js', import.meta.url));
const RATE = 50;
const BURST = Math.max(5, Math.ceil(RATE / 5));
const BUFFER = 5;
const SINK_PORT = 20_000 + Math.floor(Math.random() * 30_000);
const SINK = `http://127.0.0.1:${SINK_PORT}`;

const skip = await labUnavailable({ routing: true });
let lab: E2eLab;
let hang: ChildProcess | undefined;
const wep = new Map<string, string>(); // pod x/a → its WorkloadEndpoint name
let t0 = 0;

interface FlowJson {
  src: { namespace?: string; name?: string; endpoint?: string; ip: string };
  dst: { namespace?: string; name?: string; endpoint?: string; ip: string };
  protocol: string;
  srcPort?: number;
  dstPort?: number;
  direction: string;
  verdict: string;
  policy: { kind: string; tier?: string; namespace?: string; name?: string; ruleIndex?: number };
  packets: number;
  bytes: number;
  start: string;
  end: string;
  node: string;
}

function w(pod: string): LabWorkload {
  return lab.workload(pod);
}

async function traffic(pod: string, mode: string, args: Record<string, unknown>): Promise<Record<string, any>> {
  const { stdout } = await lab.exec.run(process.execPath, [TRAFFIC, mode, JSON.stringify(args)], { netns: w(pod).netns, timeoutMs: 45_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, any>;
}

async function flows(...args: string[]): Promise<FlowJson[]> {
  const { stdout } = await lab.exec.run(process.execPath, [BRINDLE_BIN, 'flows', '-o', 'json', '--last', '100000', ...args], { env: { BRINDLE_DATASTORE: lab.state.datastore.url }, timeoutMs: 30_000 });
  return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as FlowJson);
}

/** Polls until `pick` returns something (bounded); fails with what was last seen. */
async function until<T>(what: string, ms: number, pick: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pick();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function node(name: string): LabNode {
  return lab.state.nodes.find((n) => n.name === name)!;
}

/** The value of a Prometheus sample `name{…label="value"…}` in the agent's /metrics, or undefined. */
async function metric(nodeName: string, name: string, label: string): Promise<number | undefined> {
  const r = await agentGet(node(nodeName), '/metrics', 3_000);
  const line = r?.body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** A workload as flow records name it: its namespace, the pod's name, and its WorkloadEndpoint. */
const peer = (pod: string) => ({ namespace: pod.split('/')[0], name: pod.split('/')[1], endpoint: wep.get(pod) });
const from = (pod: string, srcPort: number) => (f: FlowJson) => f.src.name === peer(pod).name && f.srcPort === srcPort;
const sum = (fs: FlowJson[]) => ({ packets: fs.reduce((s, f) => s + f.packets, 0), bytes: fs.reduce((s, f) => s + f.bytes, 0) });

const POLICIES = `
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.guard}
spec:
  tier: security
  order: 10
  selector: pod == "b"
  types: [Ingress]
  ingress:
  - {action: Deny, protocol: UDP, source: {selector: pod == "c"}, destination: {ports: [81]}}
  - {action: Pass}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-a, namespace: x}
spec:
  selector: pod == "b"
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, source: {selector: pod == "a"}, destination: {ports: [80]}}
  - {action: Allow, protocol: UDP, source: {selector: pod == "a"}, destination: {ports: [80]}}
`;

async function applyYaml(text: string): Promise<void> {
  await lab.exec.run(process.execPath, [BRINDLE_BIN, 'apply', '-f', '-'], { stdin: text, env: { BRINDLE_DATASTORE: lab.state.datastore.url }, timeoutMs: 30_000 });
}

describe('flow logs on the lab', { skip, timeout: 240_000 }, () => {
  before(async () => {
    lab = new E2eLab('fl', 'bgp');
    await lab.up(2, { flowLogs: { ratePerSecond: RATE, bulk: SINK, buffer: BUFFER } });
    for (const ns of ['x', 'y']) await lab.client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } } as unknown as Resource);
    const workloads = new LabWorkloads(lab.exec, lab.cluster.network, () => lab.cluster.datastore(), lab.cluster.logDir);
    const pods: [string, string, string][] = [['x/a', 'node-1', '80/tcp'], ['y/c', 'node-1', '80/tcp'], ['x/b', 'node-2', '80/tcp,80/udp,81/udp']];
    for (const [pod, nodeName, serve] of pods) {
      const [namespace, name] = pod.split('/') as [string, string];
      await lab.cluster.store.update((s) => workloads.add(s, { namespace, name }, {
        node: nodeName, labels: { pod: name }, serve: serve.split(',').map((p) => ({ port: Number(p.split('/')[0]), protocol: p.split('/')[1] as 'tcp' | 'udp' })),
      }, () => lab.cluster.store.save(s)));
    }
    for (const ns of ['x', 'y']) {
      for (const r of (await lab.client.list('WorkloadEndpoint', ns)).items) wep.set(`${ns}/${(r.spec as WorkloadEndpointSpec).pod}`, r.metadata.name);
    }
    await applyYaml(POLICIES);
    // The sink on node-1 accepts and never answers; on node-2 nothing listens (connection refused).
    hang = spawn('ip', ['netns', 'exec', node('node-1').netns, process.execPath, TRAFFIC, 'hang', JSON.stringify({ port: SINK_PORT })], { stdio: 'ignore' });
    // Policy in force on both nodes, and the agents' flow contexts know every workload (2 s refresh).
    const probe = (src: string, dst: string, port: number, protocol: 'tcp' | 'udp') => lab.prober.probe(w(src).netns, [{ ip: w(dst).ip!, port, protocol }]).then((r) => r[0]);
    await until('policy in force (a→b TCP 80 open, c→b UDP 81 closed)', 60_000, async () => ((await probe('x/a', 'x/b', 80, 'tcp')) && !(await probe('y/c', 'x/b', 81, 'udp')) ? true : undefined));
    await new Promise((r) => setTimeout(r, 3_000));
    t0 = Date.now();
  });

  after(async () => {
    if (hang?.pid && hang.exitCode === null) process.kill(hang.pid, 'SIGTERM');
    await lab?.down();
  });

  test('allowed and denied TCP/UDP: verdict, deciding tier/policy/rule, identities, node, counts', { timeout: 90_000 }, async () => {
    const b = w('x/b').ip!;
    const c = w('y/c').ip!;
    assert.deepEqual(await traffic('x/a', 'tcp', { ip: b, port: 80, srcPort: 40080, bytes: 1000 }), { ok: true, received: 1000 });
    assert.deepEqual(await traffic('x/a', 'udp', { ip: b, port: 80, srcPort: 40081, count: 3, size: 200, reply: true }), { sent: 3, replies: 3 });
    assert.deepEqual(await traffic('y/c', 'udp', { ip: b, port: 81, srcPort: 40082, count: 4, size: 100 }), { sent: 4, replies: 0 });
    assert.deepEqual(await traffic('y/c', 'syn', { ip: b, port: 80, srcPort: 40083, timeoutMs: 1_500 }), { connected: false });
    assert.deepEqual(await traffic('x/a', 'tcp', { ip: c, port: 80, srcPort: 40084, bytes: 300 }), { ok: true, received: 300 });

    const find = (fs: FlowJson[], pod: string, port: number, nodeName: string, direction: string) => fs.filter((f) => from(pod, port)(f) && f.node === nodeName && f.direction === direction);
    const all = await until('records of all five flows on both nodes', 60_000, async () => {
      const fs = await flows('--since', '5m');
      const want = [find(fs, 'x/a', 40080, 'node-2', 'ingress'), find(fs, 'x/a', 40080, 'node-1', 'egress'), find(fs, 'x/a', 40081, 'node-2', 'ingress'), find(fs, 'x/a', 40081, 'node-1', 'egress'),
        find(fs, 'y/c', 40082, 'node-2', 'ingress'), find(fs, 'y/c', 40083, 'node-2', 'ingress'), fs.filter((f) => from('x/a', 40084)(f) && f.node === 'node-1')];
      return want.every((x) => x.length > 0) ? fs : undefined;
    });

    // a → b TCP 80: allowed at b's ingress (node-2) by default/x/allow-a rule 0, at a's egress (node-1) by its profile.
    const [tcpIn] = find(all, 'x/a', 40080, 'node-2', 'ingress');
    assert.deepEqual([tcpIn!.src.namespace, tcpIn!.src.name, tcpIn!.src.endpoint, tcpIn!.dst.namespace, tcpIn!.dst.name, tcpIn!.dst.endpoint], [peer('x/a').namespace, peer('x/a').name, peer('x/a').endpoint, peer('x/b').namespace, peer('x/b').name, peer('x/b').endpoint]);
    assert.deepEqual([tcpIn!.verdict, tcpIn!.protocol, tcpIn!.dstPort, tcpIn!.policy], ['allowed', 'TCP', 80, { kind: 'policy', tier: 'default', namespace: 'x', name: 'allow-a', ruleIndex: 0 }]);
    // Both directions' IP packets: 1000 payload bytes each way, plus 40-60 bytes of IP+TCP header per packet.
    assert.ok(tcpIn!.packets >= 6 && tcpIn!.packets <= 20, `TCP packets ${tcpIn!.packets}`);
    assert.ok(tcpIn!.bytes >= 2000 + 40 * tcpIn!.packets && tcpIn!.bytes <= 2000 + 60 * tcpIn!.packets, `TCP bytes ${tcpIn!.bytes} for ${tcpIn!.packets} packets`);
    const [tcpOut] = find(all, 'x/a', 40080, 'node-1', 'egress');
    assert.deepEqual([tcpOut!.verdict, tcpOut!.policy, tcpOut!.packets, tcpOut!.bytes], ['allowed', { kind: 'profile', name: 'kns.x', ruleIndex: 0 }, tcpIn!.packets, tcpIn!.bytes]);

    // a → b UDP 80: 3 datagrams of 200 bytes and their 3 echoes, 228 bytes each at the IP layer.
    for (const [nodeName, dir, policy] of [['node-2', 'ingress', { kind: 'policy', tier: 'default', namespace: 'x', name: 'allow-a', ruleIndex: 1 }], ['node-1', 'egress', { kind: 'profile', name: 'kns.x', ruleIndex: 0 }]] as const) {
      const fs = find(all, 'x/a', 40081, nodeName, dir);
      assert.deepEqual([fs[0]!.verdict, fs[0]!.protocol, fs[0]!.dstPort, fs[0]!.policy, sum(fs)], ['allowed', 'UDP', 80, policy, { packets: 6, bytes: 6 * 228 }], `${nodeName} ${dir}`);
    }

    // c → b UDP 81: denied in tier security by security.guard rule 0, every datagram logged (within the burst).
    const udpDenied = find(all, 'y/c', 40082, 'node-2', 'ingress');
    assert.deepEqual([...new Set(udpDenied.map((f) => JSON.stringify([f.verdict, f.protocol, f.dstPort, f.policy, f.dst.name])))], [JSON.stringify(['denied', 'UDP', 81, { kind: 'policy', tier: 'security', name: 'security.guard', ruleIndex: 0 }, 'b'])]);
    assert.deepEqual(sum(udpDenied), { packets: 4, bytes: 4 * 128 });

    // c → b TCP 80: passed by the security tier, allowed by nothing in default: the end of tier default; SYNs of 60 bytes.
    const synDenied = find(all, 'y/c', 40083, 'node-2', 'ingress');
    assert.deepEqual([...new Set(synDenied.map((f) => JSON.stringify([f.verdict, f.protocol, f.dstPort, f.policy])))], [JSON.stringify(['denied', 'TCP', 80, { kind: 'end-of-tier', tier: 'default' }])]);
    const syns = sum(synDenied);
    assert.ok(syns.packets >= 1 && syns.packets <= 3 && syns.bytes === 60 * syns.packets, JSON.stringify(syns));

    // a → c TCP 80 (both on node-1): c has no policy, its namespace profile allows.
    const toC = all.filter((f) => from('x/a', 40084)(f) && f.node === 'node-1');
    assert.ok(toC.every((f) => f.verdict === 'allowed' && f.dst.name === 'c' && f.policy.kind === 'profile'), JSON.stringify(toC));
    assert.ok(toC.some((f) => f.policy.name === 'kns.y' || f.policy.name === 'kns.x'), JSON.stringify(toC));
    assert.ok(toC[0]!.bytes >= 600 + 40 * toC[0]!.packets, JSON.stringify(toC[0]));
  });

  test('brindle flows filters: --verdict, --from, --to, --policy', { timeout: 60_000 }, async () => {
    const since = new Date(t0 - 1_000).toISOString();
    const denied = await flows('--since', since, '--verdict', 'denied');
    assert.ok(denied.length >= 2 && denied.every((f) => f.verdict === 'denied'), JSON.stringify(denied.map((f) => f.verdict)));
    assert.ok(denied.some(from('y/c', 40082)) && denied.some(from('y/c', 40083)) && !denied.some(from('x/a', 40080)));
    const fromC = await flows('--since', since, '--from', 'y/c');
    assert.ok(fromC.length >= 2 && fromC.every((f) => f.src.name === 'c'));
    // The WorkloadEndpoint name selects the same records.
    assert.equal((await flows('--since', since, '--from', `y/${wep.get('y/c')}`)).length, fromC.length);
    assert.ok(fromC.some((f) => f.verdict === 'allowed' && f.node === 'node-1') && fromC.some((f) => f.verdict === 'denied' && f.node === 'node-2'), 'c\'s egress allowed on node-1, denied at b on node-2');
    const toB = await flows('--since', since, '--to', 'x/b', '--verdict', 'allowed');
    assert.ok(toB.length >= 4 && toB.every((f) => f.dst.name === 'b' && f.verdict === 'allowed'));
    const bySelector = await flows('--since', since, '--from', 'pod == "a"', '--to', 'pod == "b"');
    assert.deepEqual([...new Set(bySelector.map((f) => f.srcPort))].sort(), [40080, 40081]);
    const guard = await flows('--since', since, '--policy', 'security/security.guard');
    assert.ok(guard.length >= 1 && guard.every((f) => f.policy.name === 'security.guard' && f.src.name === 'c' && f.dstPort === 81));
    const allowA = await flows('--since', since, '--policy', 'x/allow-a');
    assert.deepEqual([...new Set(allowA.map((f) => `${f.node} ${f.direction} ${f.protocol} ${f.policy.ruleIndex}`))].sort(), ['node-2 ingress TCP 0', 'node-2 ingress UDP 1']);
    assert.deepEqual(await flows('--since', since, '--policy', 'no-such-policy'), []);
  });

  test('a flood of denied packets: NFLOG stays near the rate limit, the node keeps forwarding', { timeout: 60_000 }, async (t) => {
    const b = w('x/b').ip!;
    const floodP = traffic('y/c', 'flood', { ip: b, port: 81, srcPort: 40090, size: 64, durationMs: 4_000 });
    const probes: boolean[] = [];
    const ready: number[] = [];
    const deadline = Date.now() + 3_500;
    while (Date.now() < deadline) {
      probes.push(...(await lab.prober.probe(w('x/a').netns, [{ ip: b, port: 80, protocol: 'tcp' }, { ip: b, port: 80, protocol: 'udp' }])));
      ready.push((await agentGet(node('node-2'), '/readyz', 2_000))?.status ?? 0);
    }
    const flood = await floodP;
    assert.ok(probes.length >= 2 && probes.every(Boolean), `allowed probes during the flood: ${probes}`);
    assert.ok(ready.every((s) => s === 200), `node-2 agent /readyz during the flood: ${ready}`);
    const seconds = flood['durationMs'] / 1000;
    const logged = await until('the flood\'s denied records', 30_000, async () => {
      const fs = (await flows('--since', '2m', '--verdict', 'denied')).filter(from('y/c', 40090));
      // Records are per 5 s interval: wait until the one after the flood has been written too.
      return fs.length > 0 && Date.parse(fs[fs.length - 1]!.end) < Date.now() - 6_000 ? sum(fs).packets : undefined;
    });
    const ceiling = RATE * (seconds + 1) + BURST;
    assert.ok(flood['sent'] >= 10 * ceiling, `the flood is a flood: ${flood['sent']} datagrams in ${seconds} s`);
    assert.ok(logged <= ceiling && logged >= RATE * seconds * 0.5, `${logged} denied packets logged of ${flood['sent']} sent in ${seconds} s at ${RATE}/s (burst ${BURST})`);
    const perSecond = logged / seconds;
    t.diagnostic(`flood: ${flood['sent']} datagrams in ${seconds} s; ${logged} logged (${perSecond.toFixed(1)}/s, limit ${RATE}/s burst ${BURST}); ${probes.length} allowed probes all answered`);
    assert.ok(perSecond <= RATE * 1.5, `${perSecond.toFixed(1)} records' packets/s`);
  });

  test('a _bulk sink that is down does not stall the agent: policy changes apply, drops are counted', { timeout: 90_000 }, async (t) => {
    const b = w('x/b').ip!;
    // More distinct flows than the sink buffers: denied at node-2, allowed egress at node-1.
    assert.deepEqual(await traffic('y/c', 'many', { ip: b, port: 81, firstPort: 41000, count: 20, gapMs: 40 }), { sent: 20 });
    const label = `sink="bulk:${SINK}/_bulk"`;
    for (const n of ['node-1', 'node-2']) {
      const dropped = await until(`dropped records counted on ${n}`, 45_000, async () => {
        const d = await metric(n, 'brindle_flow_sink_dropped_records', label);
        return d !== undefined && d > 0 ? d : undefined;
      });
      t.diagnostic(`${n}: ${dropped} records dropped by the dead sink (buffer ${BUFFER})`);
      assert.equal(await metric(n, 'brindle_flow_sink_sent_records', label), 0, `${n}: nothing reached the dead sink`);
      assert.ok(((await metric(n, 'brindle_flow_sink_sent_records', 'sink="sqlite:')) ?? 0) > 0, `${n}: the store still gets records`);
    }
    // A policy change while the sink is down: a → b TCP 80 no longer allowed.
    const before = Date.now();
    await applyYaml(POLICIES.replace('  - {action: Allow, protocol: TCP, source: {selector: pod == "a"}, destination: {ports: [80]}}\n', '  - {action: Allow, protocol: TCP, source: {selector: pod == "a"}, destination: {ports: [8080]}}\n'));
    await until('the change in force', 15_000, async () => (!(await lab.prober.probe(w('x/a').netns, [{ ip: b, port: 80, protocol: 'tcp' }]))[0] ? true : undefined));
    const tookMs = Date.now() - before;
    assert.ok(tookMs < 15_000, `policy change took ${tookMs} ms`);
    t.diagnostic(`policy change in force ${tookMs} ms after apply, with the sink down`);
    const denied = await until('the newly denied flow in the store', 30_000, async () => (await flows('--since', new Date(before).toISOString(), '--verdict', 'denied', '--from', 'x/a')).find((f) => f.dstPort === 80 && f.protocol === 'TCP'));
    assert.deepEqual([denied.node, denied.policy], ['node-2', { kind: 'end-of-tier', tier: 'default' }]);
    for (const n of ['node-1', 'node-2']) assert.equal((await agentGet(node(n), '/readyz', 2_000))?.status, 200, `${n} ready`);
  });
});
