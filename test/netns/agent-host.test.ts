/**
 * The real agent with a host endpoint, natOutgoing and etcd: a node namespace with an uplink to
 * an "outside" namespace (which has no route back to the pods), one workload, and etcd running
 * inside the node namespace (so only the node can reach it; the test writes through
 * `ip netns exec <node> brindle apply`). Checks: a host endpoint without policy drops everything
 * but the failsafe ports; a policy opens a port; workload traffic leaving the pool is
 * masqueraded; with etcd killed the programmed state stays in force, and changes made after it
 * is restarted are applied; an all-interfaces host endpoint protects the uplink like eth0's own
 * did, leaving loopback alone.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BRINDLE_BIN } from '../helpers/paths.js';
import { canRunNetns, sh, Topology, type Workload } from './topology.js';

const skip = canRunNetns() ?? (() => {
  try {
    execFileSync('sh', ['-c', 'command -v etcd']);
    return undefined;
  } catch {
    return 'etcd is not installed';
  }
})();

let topo: Topology;
let dir: string;
let ext: string;
let w1: Workload;
let etcd: ChildProcess | undefined;
let agent: ChildProcess | undefined;
const ETCD = 'etcd://127.0.0.1:23790';

/** Opens TCP 8443 on whatever host endpoint carries role=host. */
const HOST_8443 = `
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: host-8443}
spec:
  selector: role == 'host'
  types: [Ingress, Egress]
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8443]}}]
  egress: [{action: Allow}]
`;

function startEtcd(): ChildProcess {
  return spawn('ip', ['netns', 'exec', topo.node, 'etcd', '--name', 'n', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', 'http://127.0.0.1:23790',
    '--advertise-client-urls', 'http://127.0.0.1:23790', '--listen-peer-urls', 'http://127.0.0.1:23800', '--initial-advertise-peer-urls', 'http://127.0.0.1:23800',
    '--initial-cluster', 'n=http://127.0.0.1:23800', '--log-level', 'error'], { stdio: 'ignore' });
}

function brindle(args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', topo.node, process.execPath, BRINDLE_BIN, '--datastore', ETCD, ...args], { input, encoding: 'utf8', timeout: 60_000 });
}

function applyYaml(yaml: string): void {
  const f = join(dir, `m${Date.now()}${Math.random()}.yaml`);
  writeFileSync(f, yaml);
  brindle(['apply', '-f', f]);
}

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
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** TCP from the outside namespace to the node's uplink address. */
function extToNode(port: number): boolean {
  try {
    return execFileSync('ip', ['netns', 'exec', ext, 'socat', '-T1.5', '-', `TCP4:172.31.0.1:${port},connect-timeout=1.5`], { input: 'hi\n', encoding: 'utf8', timeout: 5000, stdio: ['pipe', 'pipe', 'ignore'] }).includes('hi');
  } catch {
    return false;
  }
}

/** What address the outside sees a workload connection come from (undefined: no connection). */
function seenFrom(w: Workload): string | undefined {
  try {
    return execFileSync('ip', ['netns', 'exec', w.ns, 'socat', '-T1.5', '-', 'TCP4:172.31.0.2:9000,connect-timeout=1.5'], { input: '', encoding: 'utf8', timeout: 5000, stdio: ['pipe', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

before(async () => {
  if (skip) return;
  topo = new Topology();
  dir = mkdtempSync(join(tmpdir(), 'brl-agent-host-'));
  ext = `brl-x${topo.tag}`;
  sh(['ip', 'netns', 'add', ext]);
  sh(['ip', '-n', ext, 'link', 'set', 'lo', 'up']);
  sh(['ip', '-n', topo.node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ext]);
  sh(['ip', '-n', topo.node, 'addr', 'add', '172.31.0.1/24', 'dev', 'eth0']);
  sh(['ip', '-n', ext, 'addr', 'add', '172.31.0.2/24', 'dev', 'eth0']);
  sh(['ip', '-n', topo.node, 'link', 'set', 'eth0', 'up']);
  sh(['ip', '-n', ext, 'link', 'set', 'eth0', 'up']);
  w1 = topo.addWorkload('w1', '10.65.0.1');
  // Servers on the node (ports 22 = failsafe, 8443) and outside (9000 answers with the peer address).
  for (const port of [22, 8443]) topo.spawnIn(topo.node, ['socat', `TCP4-LISTEN:${port},fork,reuseaddr`, 'PIPE']);
  topo.spawnIn(ext, ['socat', 'TCP4-LISTEN:9000,fork,reuseaddr', 'SYSTEM:echo $SOCAT_PEERADDR']);
  etcd = startEtcd();
  await waitFor('etcd', () => {
    try {
      brindle(['get', 'ippools']);
      return true;
    } catch {
      return false;
    }
  });
});

after(() => {
  if (skip) return;
  for (const p of [agent, etcd]) if (p?.pid) p.kill('SIGKILL');
  topo?.destroy();
  try {
    sh(['ip', 'netns', 'del', ext]);
  } catch {
    // gone
  }
  rmSync(dir, { recursive: true, force: true });
});

test('host endpoint failsafes and policy, natOutgoing, etcd stopped and restarted', { skip, timeout: 600_000 }, async () => {
  applyYaml(`
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pods}
spec: {cidr: 10.65.0.0/16, natOutgoing: true}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.ns1}
spec: {ingress: [{action: Allow}], egress: [{action: Allow}]}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-w1-eth0, namespace: ns1, labels: {app: w1}}
spec: {orchestrator: k8s, node: node1, pod: w1, endpoint: eth0, interfaceName: ${w1.iface}, ipNetworks: [10.65.0.1/32], profiles: [kns.ns1]}
`);
  agent = spawn('ip', ['netns', 'exec', topo.node, process.execPath, BRINDLE_BIN, 'agent', '--node', 'node1', '--datastore', ETCD, '--run-dir', join(dir, 'run'),
    '--metrics-port', '0', '--resync-interval', '2', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('readyz', async () => (await get('/readyz')).code === 200);
  // The agent registered its node with the detected address.
  assert.match(brindle(['get', 'node', 'node1', '-o', 'yaml']), /172\.31\.0\.1/);

  // natOutgoing: the outside has no route to the pool, so the workload only gets through masqueraded.
  await waitFor('masqueraded connection', () => seenFrom(w1) === '172.31.0.1');

  // No host endpoint yet: the host is open.
  assert.ok(extToNode(8443) && extToNode(22));
  applyYaml(`
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0, labels: {role: host}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [172.31.0.1]}
`);
  // A host endpoint with no policy drops everything except the failsafe ports (22 inbound here).
  await waitFor('8443 closed by the host endpoint', () => !extToNode(8443));
  assert.ok(extToNode(22), 'failsafe port 22 stays open');
  // Forwarded workload traffic is not host-endpoint policed without applyOnForward.
  assert.equal(seenFrom(w1), '172.31.0.1');

  applyYaml(HOST_8443);
  await waitFor('8443 opened by policy', () => extToNode(8443));

  // etcd dies: the agent reports it and enforcement stays as programmed.
  etcd!.kill('SIGKILL');
  await new Promise((r) => etcd!.once('exit', r));
  await waitFor('agent reports the datastore lost', async () => JSON.parse((await get('/status')).body || '{}').datastore === 'wait-for-datastore', 60_000);
  assert.ok(extToNode(8443) && extToNode(22), 'still open while the datastore is gone');
  assert.equal(seenFrom(w1), '172.31.0.1');
  assert.equal((await get('/readyz')).code, 200, 'stays ready (fail static)');

  // etcd is back: the agent re-syncs and applies later changes.
  etcd = startEtcd();
  await waitFor('agent back in sync', async () => JSON.parse((await get('/status')).body || '{}').datastore === 'in-sync', 120_000);
  brindle(['delete', 'globalnetworkpolicy', 'host-8443']);
  await waitFor('8443 closed again after the policy is deleted', () => !extToNode(8443));
  assert.ok(extToNode(22));

  // An all-interfaces host endpoint ("*") in place of eth0's own: the same protection on every
  // host interface, loopback excepted; policy selects it by its labels like any other.
  brindle(['delete', 'hostendpoint', 'node1-eth0']);
  await waitFor('host open without a host endpoint', () => extToNode(8443));
  applyYaml(`
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-all, labels: {role: host}}
spec: {node: node1, interfaceName: "*"}
`);
  await waitFor('8443 closed by the all-interfaces host endpoint', () => !extToNode(8443));
  assert.ok(extToNode(22), 'failsafe port 22 stays open');
  assert.ok(nodeLocal(8443), 'loopback is not policed');
  assert.equal(seenFrom(w1), '172.31.0.1', 'forwarded workload traffic is not policed without applyOnForward');
  applyYaml(HOST_8443);
  await waitFor('8443 opened by policy on the all-interfaces host endpoint', () => extToNode(8443));
  brindle(['delete', 'globalnetworkpolicy', 'host-8443']);
  await waitFor('8443 closed again', () => !extToNode(8443));
  brindle(['delete', 'hostendpoint', 'node1-all']);
  await waitFor('host open once the all-interfaces host endpoint is deleted', () => extToNode(8443));
});

/** TCP from the node to itself over loopback. */
function nodeLocal(port: number): boolean {
  try {
    return execFileSync('ip', ['netns', 'exec', topo.node, 'socat', '-T1.5', '-', `TCP4:127.0.0.1:${port},connect-timeout=1.5`], { input: 'hi\n', encoding: 'utf8', timeout: 5000, stdio: ['pipe', 'pipe', 'ignore'] }).includes('hi');
  } catch {
    return false;
  }
}
