/**
 * The real agent in a node namespace against SQLite: workloads wired as the CNI plugin does, a TCP
 * and UDP connectivity matrix probed after each datastore change (policies added, changed,
 * deleted; tiers with Pass; named ports; network sets; egress), drift repair, and `kill -9` +
 * restart with an established TCP connection surviving and no probe gap.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { prepareResource } from '../../src/api/prepare.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { BRINDLE_BIN } from '../helpers/paths.js';
import { canRunNetns, sh, Topology, type Workload } from './topology.js';

const skip = canRunNetns();
let topo: Topology;
let dir: string;
let ds: Datastore;
let client: ResourceClient;
let agent: ChildProcess | undefined;
let w1: Workload, w2: Workload, w3: Workload;

function get(path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ socketPath: join(dir, 'run', 'agent.sock'), path, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ code: 0, body: '' }));
    req.end();
  });
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function startAgent(): ChildProcess {
  const p = spawn('ip', ['netns', 'exec', topo.node, process.execPath, BRINDLE_BIN, 'agent', '--node', 'node1', '--datastore', `sqlite:${join(dir, 'db.sqlite')}`,
    '--run-dir', join(dir, 'run'), '--metrics-port', '0', '--resync-interval', '1', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return p;
}

async function apply(yaml: string): Promise<void> {
  for (const d of parseAllDocuments(yaml)) await client.apply(prepareResource(d.toJS()));
}

const wep = (w: Workload, labels: string, extra = '') => `
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-${w.name}-eth0, namespace: ns1, labels: ${labels}}
spec: {orchestrator: k8s, node: node1, pod: ${w.name}, endpoint: eth0, interfaceName: ${w.iface}, ipNetworks: [${w.ip}/32], profiles: [kns.ns1]${extra}}
`;

type Cell = 'tcp' | 'udp';
/** Probes every ordered pair; returns lines like `w1→w2 tcp:yes udp:no`. */
function matrix(): string[] {
  const ws = [w1, w2, w3];
  const out: string[] = [];
  for (const a of ws) for (const b of ws) {
    if (a === b) continue;
    const c = (p: Cell) => `${p}:${topo.probe(a, b, p) ? 'yes' : 'no'}`;
    out.push(`${a.name}→${b.name} ${c('tcp')} ${c('udp')}`);
  }
  return out;
}

function expectAll(yes: boolean): string[] {
  return ['w1→w2', 'w1→w3', 'w2→w1', 'w2→w3', 'w3→w1', 'w3→w2'].map((p) => `${p} tcp:${yes ? 'yes' : 'no'} udp:${yes ? 'yes' : 'no'}`);
}

function expectMatrix(overrides: Record<string, string>): string[] {
  return expectAll(true).map((l) => {
    const pair = l.split(' ')[0]!;
    return overrides[pair] ? `${pair} ${overrides[pair]}` : l;
  });
}

/** Waits until the probed matrix equals the expected one (the agent applies asynchronously). */
async function assertMatrix(expected: string[]): Promise<void> {
  let got: string[] = [];
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    got = matrix();
    if (got.join('\n') === expected.join('\n')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  let diag = '';
  try {
    diag = sh(['ip', 'netns', 'exec', topo.node, 'nft', 'list', 'table', 'inet', 'brindle']) + sh(['ip', 'netns', 'exec', topo.node, 'conntrack', '-L']);
  } catch (err) {
    diag = String(err);
  }
  assert.deepEqual(got, expected, `connectivity differs; the node's table and conntrack:\n${diag}`);
}

before(async () => {
  if (skip) return;
  topo = new Topology();
  dir = mkdtempSync(join(tmpdir(), 'brl-agent-'));
  ds = await openDatastore(`sqlite:${join(dir, 'db.sqlite')}`);
  client = new ResourceClient(ds);
  w1 = topo.addWorkload('w1', '10.65.0.1');
  w2 = topo.addWorkload('w2', '10.65.0.2');
  w3 = topo.addWorkload('w3', '10.65.0.3');
  await apply(`
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.ns1}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
`);
});

after(async () => {
  if (skip) return;
  if (agent?.pid) agent.kill('SIGKILL');
  await ds?.close();
  topo?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('agent: fail closed before endpoints, then the connectivity matrix follows each change', { skip, timeout: 400_000 }, async () => {
  agent = startAgent();
  await waitFor('readyz', async () => (await get('/readyz')).code === 200);
  // Workload interfaces with no endpoint yet are dropped.
  await assertMatrix(expectAll(false));
  await apply(wep(w1, '{app: web}') + '---' + wep(w2, '{app: db}', ', ports: [{name: pg, protocol: TCP, port: 8080}]') + '---' + wep(w3, '{app: other}'));
  await assertMatrix(expectAll(true));
  // Routes and sysctls are the agent's.
  assert.match(sh(['ip', '-n', topo.node, 'route', 'show', 'proto', '76']), new RegExp(`10.65.0.2 dev ${w2.iface}`));
  assert.equal(sh(['ip', 'netns', 'exec', topo.node, 'cat', `/proc/sys/net/ipv4/conf/${w2.iface}/proxy_arp`]).trim(), '1');

  // Ingress policy: only TCP from web to db.
  await apply(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: db-ingress}
spec:
  selector: app == 'db'
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, source: {selector: app == 'web'}, destination: {ports: [8080]}}]
`);
  await assertMatrix(expectMatrix({ 'w1→w2': 'tcp:yes udp:no', 'w3→w2': 'tcp:no udp:no' }));

  // Changed: a named port and UDP from anyone.
  await apply(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: db-ingress}
spec:
  selector: app == 'db'
  types: [Ingress]
  ingress:
  - {action: Allow, protocol: TCP, source: {selector: app == 'web'}, destination: {ports: [pg]}}
  - {action: Allow, protocol: UDP}
`);
  await assertMatrix(expectMatrix({ 'w1→w2': 'tcp:yes udp:yes', 'w3→w2': 'tcp:no udp:yes' }));

  // A tier before default: Pass for the network set, Deny the rest of TCP into db.
  await apply(`
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 10}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: trusted, labels: {trusted: 'yes'}}
spec: {nets: [10.65.0.3/32, 10.99.0.0/16]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.db}
spec:
  tier: security
  selector: app == 'db'
  types: [Ingress]
  ingress:
  - {action: Pass, source: {selector: trusted == 'yes'}}
  - {action: Pass, source: {selector: app == 'web'}}
  - {action: Deny, protocol: TCP}
`);
  // w3 is passed to the default tier (TCP not allowed there, UDP allowed), w1 too.
  await assertMatrix(expectMatrix({ 'w1→w2': 'tcp:yes udp:yes', 'w3→w2': 'tcp:no udp:yes' }));

  // Egress: web may not send UDP to other.
  await apply(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web-egress}
spec:
  selector: app == 'web'
  types: [Egress]
  egress: [{action: Deny, protocol: UDP, destination: {selector: app == 'other'}}, {action: Allow}]
`);
  await assertMatrix(expectMatrix({ 'w1→w2': 'tcp:yes udp:yes', 'w3→w2': 'tcp:no udp:yes', 'w1→w3': 'tcp:yes udp:no' }));

  // Per-rule counters through the CLI.
  const counters = JSON.parse(sh([process.execPath, BRINDLE_BIN, 'policy', 'counters', '--node', 'node1', '--run-dir', join(dir, 'run'), '-o', 'json'])) as { rules: { key: string; ruleIndex: number; packets: number }[] };
  const deny = counters.rules.find((r) => r.key === 'default/_/web-egress' && r.ruleIndex === 0);
  assert.ok(deny && deny.packets > 0, `web-egress rule 0 counted drops: ${JSON.stringify(deny)}`);

  // Deleted: back to open.
  for (const [k, n] of [['GlobalNetworkPolicy', 'web-egress'], ['GlobalNetworkPolicy', 'security.db'], ['GlobalNetworkPolicy', 'db-ingress']] as const) await client.delete(k, n);
  await assertMatrix(expectAll(true));
});

test('agent: drift in the table is repaired', { skip, timeout: 200_000 }, async () => {
  assert.ok(agent, 'runs after the matrix test');
  await apply(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: db-deny}
spec: {selector: app == 'db', types: [Ingress], ingress: [{action: Deny}]}
`);
  await assertMatrix(expectMatrix({ 'w1→w2': 'tcp:no udp:no', 'w3→w2': 'tcp:no udp:no' }));
  const chain = `tw-${w2.iface}`;
  sh(['ip', 'netns', 'exec', topo.node, 'nft', 'flush', 'chain', 'inet', 'brindle', chain]);
  sh(['ip', 'netns', 'exec', topo.node, 'nft', 'add', 'chain', 'inet', 'brindle', 'intruder']);
  // A flushed chain falls through to accept; the resync (1 s) puts the rules back.
  await waitFor('drift repaired', () => {
    const t = sh(['ip', 'netns', 'exec', topo.node, 'nft', 'list', 'table', 'inet', 'brindle']);
    return !t.includes('chain intruder') && new RegExp(`chain ${chain} \\{[^}]*drop`).test(t);
  });
  await assertMatrix(expectMatrix({ 'w1→w2': 'tcp:no udp:no', 'w3→w2': 'tcp:no udp:no' }));
  // The repair shows in the metrics (served on the socket as on the metrics port).
  const metrics = (await get('/metrics')).body;
  assert.match(metrics, /^brindle_dataplane_drift_repairs_total [1-9]/m);
  assert.match(metrics, /^brindle_endpoints 3$/m);
  assert.match(metrics, /^brindle_datastore_status\{status="in-sync"\} 1$/m);
  assert.match(metrics, /^brindle_dataplane_apply_seconds_count [1-9]/m);
  await client.delete('GlobalNetworkPolicy', 'db-deny');
  await assertMatrix(expectAll(true));
});

test('agent: kill -9 and restart keep enforcement and established connections', { skip, timeout: 200_000 }, async () => {
  assert.ok(agent, 'runs after the matrix test');
  await apply(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: db-web-only}
spec: {selector: app == 'db', types: [Ingress], ingress: [{action: Allow, source: {selector: app == 'web'}}]}
`);
  await assertMatrix(expectMatrix({ 'w3→w2': 'tcp:no udp:no' }));
  // An established connection w1→w2 that keeps echoing.
  const conn = spawn('ip', ['netns', 'exec', w1.ns, 'socat', '-', `TCP4:${w2.ip}:8080`], { stdio: ['pipe', 'pipe', 'ignore'] });
  let echoed = '';
  conn.stdout!.on('data', (b: Buffer) => (echoed += b.toString()));
  conn.stdin!.write('before\n');
  await waitFor('echo before', () => echoed.includes('before'));
  // Probe continuously while the agent is killed and restarted.
  let gaps = 0;
  let leaks = 0;
  let probes = 0;
  let stop = false;
  const prober = (async () => {
    while (!stop) {
      probes++;
      if (!topo.probe(w1, w2, 'tcp')) gaps++;
      if (topo.probe(w3, w2, 'tcp')) leaks++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  agent!.kill('SIGKILL');
  await new Promise((r) => agent!.once('exit', r));
  await new Promise((r) => setTimeout(r, 500));
  conn.stdin!.write('while-dead\n');
  await waitFor('echo while agent is dead', () => echoed.includes('while-dead'));
  agent = startAgent();
  await waitFor('readyz after restart', async () => (await get('/readyz')).code === 200);
  await new Promise((r) => setTimeout(r, 1500));
  stop = true;
  await prober;
  conn.stdin!.write('after\n');
  await waitFor('echo after restart', () => echoed.includes('after'));
  conn.kill('SIGKILL');
  assert.equal(gaps, 0, `allowed probes failed ${gaps} of ${probes} times`);
  assert.equal(leaks, 0, `denied probes got through ${leaks} of ${probes} times`);
  await client.delete('GlobalNetworkPolicy', 'db-web-only');
});
