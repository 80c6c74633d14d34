/**
 * Real `brindle agent`s on two node namespaces sharing one SQLite datastore: with a routed pool
 * the agents run BIRD (routes learned over BGP only), `brindle node status` and CalicoNodeStatus
 * read it; with a VXLAN pool (`--routing auto`) no BIRD runs and the VXLAN manager carries the
 * traffic, with tunnel addresses allocated from IPAM, also through host endpoints that drop
 * everything else.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { NodeSpec, Resource } from '../../src/api/types.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { BRINDLE_BIN } from '../helpers/paths.js';
import { canRunNetns, hasCommand, Topology, waitFor, type NodeNs } from './helpers/topology.js';

const skip = canRunNetns() ?? (hasCommand('bird') ? undefined : 'bird (bird2) is not installed');
const V3 = 'projectcalico.org/v3';

async function withAgents(vxlanMode: 'Never' | 'Always', body: (ctx: { topo: Topology; rc: ResourceClient; dir: string; runDir: (n: NodeNs) => string; ips: string[] }) => Promise<void>): Promise<void> {
  const topo = Topology.create([0, 0]);
  const dir = mkdtempSync(join(tmpdir(), 'brindle-agent-rt-'));
  const url = `sqlite:${join(dir, 'db.sqlite')}`;
  const ds = await openDatastore(url);
  const rc = new ResourceClient(ds);
  const agents: ChildProcess[] = [];
  const runDir = (n: NodeNs) => join(dir, n.name);
  try {
    await rc.apply({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.65.0.0/16', vxlanMode } } as Resource);
    await rc.apply({ apiVersion: V3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: true, asNumber: 64512 } } as Resource);
    for (const n of topo.nodes) {
      agents.push(spawn('ip', ['netns', 'exec', n.ns, process.execPath, BRINDLE_BIN, 'agent', '--node', n.name, '--datastore', url, '--run-dir', runDir(n),
        '--ip', n.cidr, '--metrics-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] }));
    }
    await waitFor('both nodes registered', async () => (await rc.list('Node')).items.length === 2, 30_000);
    const ipam = new IpamClient(ds);
    const ips: string[] = [];
    for (const [i, n] of topo.nodes.entries()) {
      const ip = (await ipam.autoAssign({ node: n.name, handleId: `w${i}`, num4: 1 })).ipv4[0]!.ip;
      const w = topo.addWorkload(n, ip, { routeOnNode: false, ...(vxlanMode === 'Always' ? { mtu: 1450 } : {}) });
      await rc.create({ apiVersion: V3, kind: 'WorkloadEndpoint', metadata: { name: `${n.name}-k8s-w${i}-eth0`, namespace: 'default' },
        spec: { orchestrator: 'k8s', node: n.name, pod: `w${i}`, endpoint: 'eth0', interfaceName: w.hostIface, ipNetworks: [`${ip}/32`], profiles: ['projectcalico-default-allow'] } } as Resource);
      ips.push(ip);
    }
    await body({ topo, rc, dir, runDir, ips });
  } finally {
    for (const a of agents) a.kill('SIGTERM');
    await Promise.all(agents.map((a) => new Promise((r) => (a.exitCode !== null ? r(null) : a.once('exit', r)))));
    for (const n of topo.nodes) {
      // BIRD is left running with its routes when an agent stops (fail static): stop it by its pid file.
      const pidFile = join(runDir(n), 'bird.pid');
      if (existsSync(pidFile)) spawnSync('kill', ['-9', readFileSync(pidFile, 'utf8').trim()]);
    }
    await ds.close();
    topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('agents with a routed pool: BIRD per node, workloads reach each other over BGP routes, node status and CalicoNodeStatus', { skip, timeout: 120_000 }, async () => {
  await withAgents('Never', async ({ topo, rc, runDir, ips }) => {
    const [n1, n2] = topo.nodes as [NodeNs, NodeNs];
    await waitFor('node-1 learned node-2\'s block over BGP', () => new RegExp(`${ips[1]!.split('.').slice(0, 3).join('\\.')}\\.\\d+/26 via ${n2.ip.replace(/\./g, '\\.')} .*proto bird`).test(topo.routes(n1.ns)), 60_000);
    await waitFor('w1 → w2', () => topo.ping(topo.workloads[0]!.ns, ips[1]!), 30_000);
    assert.ok(topo.ping(topo.workloads[1]!.ns, ips[0]!), 'w2 → w1');
    const st = spawnSync(process.execPath, [BRINDLE_BIN, 'node', 'status', '--node', n1.name, '--run-dir', runDir(n1)], { encoding: 'utf8' });
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`\\| ${n2.ip.replace(/\./g, '\\.')} +\\| node-to-node mesh \\| up +\\| .* \\| Established \\|`));
    await rc.create({ apiVersion: V3, kind: 'CalicoNodeStatus', metadata: { name: 'n1-status' }, spec: { node: n1.name, classes: ['BGP'], updatePeriodSeconds: 1 } } as Resource);
    await waitFor('CalicoNodeStatus filled', async () => {
      const r = (await rc.get('CalicoNodeStatus', 'n1-status')) as unknown as { status?: { bgp?: { numberEstablishedV4: number } } };
      return r.status?.bgp?.numberEstablishedV4 === 1;
    }, 20_000);
  });
});

test('agents with a VXLAN pool (--routing auto): no BIRD, tunnel addresses from IPAM, traffic through vxlan.calico', { skip, timeout: 120_000 }, async () => {
  await withAgents('Always', async ({ topo, rc, runDir, ips }) => {
    const [n1] = topo.nodes as [NodeNs, NodeNs];
    await waitFor('tunnel addresses written to both Nodes', async () => (await rc.list('Node')).items.every((n) => (n.spec as NodeSpec).ipv4VXLANTunnelAddr), 30_000);
    await waitFor('w1 → w2 over VXLAN', () => topo.ping(topo.workloads[0]!.ns, ips[1]!), 60_000);
    assert.ok(topo.ping(topo.workloads[1]!.ns, ips[0]!), 'w2 → w1');
    assert.match(topo.routes(n1.ns), /dev vxlan\.calico proto 81 onlink/);
    assert.equal(existsSync(join(runDir(n1), 'bird.ctl')), false, 'no BIRD when every pool is VXLAN');

    // All-interfaces host endpoints with no policy on both nodes: the hosts drop all but the
    // failsafe ports (node to node ping stops), and the VXLAN tunnel between them still carries
    // the workloads' traffic.
    for (const n of topo.nodes) {
      await rc.apply({ apiVersion: V3, kind: 'HostEndpoint', metadata: { name: `${n.name}-all`, labels: { role: 'host' } }, spec: { node: n.name, interfaceName: '*' } } as Resource);
    }
    const n2ip = topo.nodes[1]!.cidr.split('/')[0]!;
    await waitFor('host endpoints enforced (node to node ping dropped)', () => !topo.ping(n1.ns, n2ip), 60_000);
    assert.ok(topo.ping(topo.workloads[0]!.ns, ips[1]!), 'w1 → w2 over VXLAN through the host endpoints');
    assert.ok(topo.ping(topo.workloads[1]!.ns, ips[0]!), 'w2 → w1');
  });
});
