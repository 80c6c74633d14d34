/**
 * Flow logging through the real agent (`brindle agent --flow-logs`) in a node namespace: the
 * agent's own rules log to NFLOG, its ulogd2 component records, and `brindle flows` shows an
 * allowed and a denied connection with the tier/policy/rule that decided, as policy explain says.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { prepareResource } from '../../src/api/prepare.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { BRINDLE_BIN, REPO_ROOT } from '../helpers/paths.js';
import { flowTestSkipReason } from './flows-helpers.js';
import { canRunNetns, sh, Topology, type Workload } from './topology.js';

const skip = canRunNetns() ?? flowTestSkipReason(['nft', 'ip', 'ulogd', 'socat', 'conntrack']);
let topo: Topology;
let dir: string;
let ds: Datastore;
let agent: ChildProcess | undefined;
let w1: Workload, w2: Workload, w3: Workload;

function flows(...args: string[]): Record<string, any>[] {
  const r = spawnSync(process.execPath, [BRINDLE_BIN, 'flows', '-o', 'json', ...args], { cwd: REPO_ROOT, env: { ...process.env, BRINDLE_DATASTORE: `sqlite:${join(dir, 'db.sqlite')}` }, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

async function until<T>(f: () => T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  if (skip) return;
  topo = new Topology();
  dir = mkdtempSync(join(tmpdir(), 'brl-agent-flows-'));
  ds = await openDatastore(`sqlite:${join(dir, 'db.sqlite')}`);
  const client = new ResourceClient(ds);
  w1 = topo.addWorkload('w1', '10.65.0.1');
  w2 = topo.addWorkload('w2', '10.65.0.2');
  w3 = topo.addWorkload('w3', '10.65.0.3');
  const wep = (w: Workload) => `apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-${w.name}-eth0, namespace: ns1, labels: {app: ${w.name}}}
spec: {orchestrator: k8s, node: node1, pod: ${w.name}, endpoint: eth0, interfaceName: ${w.iface}, ipNetworks: [${w.ip}/32], profiles: [kns.ns1]}
---
`;
  const yaml = `apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.ns1}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
---
${wep(w1)}${wep(w2)}${wep(w3)}apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: w2-from-w1, namespace: ns1}
spec:
  selector: app == "w2"
  types: [Ingress]
  ingress: [{action: Allow, protocol: TCP, source: {selector: app == "w1"}, destination: {ports: [8080]}}]
`;
  for (const d of parseAllDocuments(yaml)) if (d.toJS()) await client.apply(prepareResource(d.toJS()));
  // Prompt DESTROY events for closed connections (the test owns this namespace).
  sh(['ip', 'netns', 'exec', topo.node, 'sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_timeout_time_wait=1']);
  agent = spawn('ip', ['netns', 'exec', topo.node, process.execPath, BRINDLE_BIN, 'agent', '--node', 'node1', '--datastore', `sqlite:${join(dir, 'db.sqlite')}`,
    '--run-dir', join(dir, 'run'), '--metrics-port', '0', '--resync-interval', '0', '--log-level', 'warn', '--flow-logs'], { stdio: ['ignore', 'ignore', 'inherit'] });
});

after(async () => {
  if (skip) return;
  if (agent?.pid && agent.exitCode === null) {
    const done = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await Promise.race([done, new Promise((r) => setTimeout(r, 3_000))]);
    if (agent.exitCode === null) agent.kill('SIGKILL');
  }
  await ds?.close();
  topo?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('agent --flow-logs: allowed and denied connections recorded with their deciding rule', { skip, timeout: 90_000 }, async () => {
  await until(() => (topo.probe(w1, w2, 'tcp') && !topo.probe(w3, w2, 'tcp') ? true : undefined), 45_000, 'the agent to program policy');
  const t0 = Date.now();
  assert.equal(topo.probe(w3, w2, 'tcp'), false);
  const denied = await until(() => flows('--verdict', 'denied', '--from', 'ns1/node1-k8s-w3-eth0', '--since', '1m').find((f) => f.dstPort === 8080 && Date.parse(f.end) >= t0 - 1_000), 15_000, 'the denied record');
  assert.deepEqual([denied.dst.name, denied.dst.endpoint, denied.direction, denied.policy, denied.node], ['w2', 'node1-k8s-w2-eth0', 'ingress', { kind: 'end-of-tier', tier: 'default' }, 'node1']);
  assert.equal(topo.probe(w1, w2, 'tcp'), true);
  const allowed = await until(() => flows('--verdict', 'allowed', '--policy', 'ns1/w2-from-w1', '--from', 'ns1/w1', '--to', 'ns1/w2').find((f) => f.dstPort === 8080), 20_000, 'the allowed record');
  assert.deepEqual([allowed.src.name, allowed.dst.name, allowed.policy], ['w1', 'w2', { kind: 'policy', tier: 'default', namespace: 'ns1', name: 'w2-from-w1', ruleIndex: 0 }]);
  assert.ok(allowed.packets >= 4 && allowed.bytes > 0, JSON.stringify(allowed));
});
