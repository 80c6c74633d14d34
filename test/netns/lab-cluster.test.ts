import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ProcessExec } from '../../src/base/exec.js';
import { ConflictError } from '../../src/errors.js';
import { compareMatrices, probeMatrix } from '../../src/lab/conncheck.js';
import { LabCluster } from '../../src/lab/lab-cluster.js';
import { fabricNetns, workloadNetns } from '../../src/lab/lab-names.js';
import { LabProgress } from '../../src/lab/lab-progress.js';
import type { LabWorkload } from '../../src/lab/lab-state.js';
import { LabWorkloads } from '../../src/lab/lab-workloads.js';
import { ProbeClient } from '../../src/lab/probe-client.js';
import { isRunning, startDaemon } from '../../src/lab/process-supervisor.js';
import { wireStaticWorkload } from '../helpers/static-workload.js';

/**
 * The lab's own machinery on the real kernel, without agents or CNI: namespaces, the fabric,
 * idempotent `up`, crash-safe `down`, the lab's etcd reachable from inside a node, and probes /
 * the probed matrix between hand-wired workloads (a node-side nft drop shows up as X cells).
 * Each test has its own lab name and state directory and always runs `down` in t.after.
 */

const exec = new ProcessExec();
const root = mkdtempSync(join(tmpdir(), 'brindle-labt-'));
const isRoot = process.getuid?.() === 0;
after(() => rmSync(root, { recursive: true, force: true }));

function labName(): string {
  return `t${(process.pid % 1000).toString(36)}${Math.random().toString(36).slice(2, 6)}`.slice(0, 8);
}

async function netnsList(): Promise<string[]> {
  return (await exec.run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

function newLab(t: { after(fn: () => Promise<void>): void }): LabCluster {
  const c = new LabCluster(exec, root, labName(), new LabProgress());
  t.after(async () => {
    await c.down();
  });
  return c;
}

describe('brindle lab on the kernel (no agents)', { skip: isRoot ? false : 'needs root (network namespaces)' }, () => {
  test('up builds fabric and nodes, is idempotent, refuses another shape; down removes everything even after a crash', { timeout: 60_000 }, async (t) => {
    const c = newLab(t);
    const s = await c.up({ nodes: 3, routing: 'bgp', datastore: 'sqlite', agents: false });
    const expected = [fabricNetns(c.name), ...s.nodes.map((n) => n.netns)];
    assert.deepEqual(s.namespaces, expected);
    const list = await netnsList();
    for (const ns of expected) assert.ok(list.includes(ns), `${ns} exists`);
    await exec.run('ping', ['-c', '1', '-W', '2', '172.30.0.3'], { netns: s.nodes[0]!.netns });
    const routes = (await exec.run('ip', ['-n', s.nodes[1]!.netns, 'route', 'show', '169.254.1.1'])).stdout;
    assert.match(routes, /169\.254\.1\.1 dev lo/);
    assert.equal((await exec.run('sysctl', ['-n', 'net.ipv4.ip_forward'], { netns: s.nodes[2]!.netns })).stdout.trim(), '1');

    const again = await c.up({ nodes: 3, routing: 'bgp', datastore: 'sqlite', agents: false });
    assert.deepEqual(again.namespaces, expected);
    await assert.rejects(c.up({ nodes: 2, routing: 'bgp', datastore: 'sqlite', agents: false }), ConflictError);

    // A crash: a recorded process, an unrecorded one inside a lab namespace, a half-made namespace.
    const recorded = startDaemon({ role: 'test:sleep', cmd: 'sleep', args: ['300'], netns: s.nodes[0]!.netns, log: join(c.store.dir, 'logs', 'sleep.log') });
    const stray = startDaemon({ role: 'test:stray', cmd: 'sleep', args: ['300'], netns: s.nodes[1]!.netns, log: join(c.store.dir, 'logs', 'stray.log') });
    const half = workloadNetns(c.name, { namespace: 'x', name: 'half' });
    await c.store.update((st) => {
      st.processes.push(recorded);
      st.namespaces.push(half);
    });
    assert.ok(isRunning(recorded) && isRunning(stray));
    assert.equal(await c.down(), true);
    assert.ok(!isRunning(recorded) && !isRunning(stray), 'processes killed');
    const left = await netnsList();
    for (const ns of expected) assert.ok(!left.includes(ns), `${ns} removed`);
    assert.ok(!existsSync(c.store.dir));
    assert.equal(await c.down(), false, 'a second down has nothing to do');
  });

  test('--datastore etcd: 3 members on loopback, reachable from inside every node; down stops them', { timeout: 90_000 }, async (t) => {
    const c = newLab(t);
    const s = await c.up({ nodes: 2, routing: 'vxlan', datastore: 'etcd', agents: false });
    assert.match(s.datastore.url, /^etcd:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    const eps = s.datastore.url.slice('etcd://'.length);
    for (const n of s.nodes) {
      const { stdout } = await exec.run('etcdctl', ['--endpoints', eps, 'get', '--prefix', '--keys-only', '/'], { netns: n.netns, env: { ETCDCTL_API: '3' } });
      assert.match(stdout, /ippools\/.*default-ipv4-ippool/, `the pool is readable from ${n.name}`);
    }
    const etcd = s.processes.filter((p) => p.role.startsWith('etcd:'));
    assert.equal(etcd.length, 3);
    const again = await c.up({ nodes: 2, routing: 'vxlan', datastore: 'etcd', agents: false });
    assert.equal(again.datastore.url, s.datastore.url, 'a running etcd is kept');
    await c.down();
    assert.ok(etcd.every((p) => !isRunning(p)));
  });

  test('probes and the probed matrix between hand-wired workloads: TCP, UDP, a dropped flow, a closed port', { timeout: 60_000 }, async (t) => {
    const c = newLab(t);
    const s = await c.up({ nodes: 2, routing: 'bgp', datastore: 'sqlite', agents: false });
    const [n1, n2] = s.nodes as [typeof s.nodes[0], typeof s.nodes[0]];
    // Static routes between the nodes' workload ranges (what BGP will do).
    await exec.run('ip', ['-n', n1.netns, 'route', 'add', '10.65.2.0/24', 'via', n2.ip]);
    await exec.run('ip', ['-n', n2.netns, 'route', 'add', '10.65.1.0/24', 'via', n1.ip]);
    const wls: LabWorkload[] = [
      { namespace: 'x', name: 'a', node: n1.name, ip: '10.65.1.10' },
      { namespace: 'x', name: 'b', node: n2.name, ip: '10.65.2.10' },
      { namespace: 'y', name: 'c', node: n2.name, ip: '10.65.2.11' },
    ].map((w, i) => ({ ...w, netns: workloadNetns(c.name, w), containerId: `c${i}`, labels: {}, serve: [{ port: 80, protocol: 'tcp' as const }, { port: 80, protocol: 'udp' as const }] }));
    const workloads = new LabWorkloads(exec, c.network, () => c.datastore(), c.logDir);
    await c.store.update(async (st) => {
      for (const [i, w] of wls.entries()) {
        st.namespaces.push(w.netns);
        st.workloads.push(w);
        await c.network.ensureNetns(w.netns);
        await wireStaticWorkload(exec, { nodeNetns: w.node === n1.name ? n1.netns : n2.netns, netns: w.netns, hostIf: `calitest${i}`, ip: w.ip! });
        st.processes.push(await workloads.startServer(w));
      }
    });
    // Node 2 drops TCP 80 towards y/c (in the test's own node namespace only).
    await exec.run('nft', ['-f', '-'], { netns: n2.netns, stdin: 'table inet labtest {\n chain fw {\n type filter hook forward priority 0;\n ip daddr 10.65.2.11 tcp dport 80 drop\n }\n}\n' });

    const prober = new ProbeClient(exec);
    const members = wls.map((w) => ({ label: `${w.namespace}/${w.name}`, netns: w.netns, ip: w.ip! }));
    // A 1 s probe can miss on a heavily loaded machine: up to 3 tries for the cells that must pass.
    const probeUntil = async (flow: { port: number; protocol: 'tcp' | 'udp' }, ok: (m: boolean[][]) => boolean) => {
      let m = await probeMatrix(prober, members, flow);
      for (let i = 0; i < 2 && !ok(m.allowed); i++) m = await probeMatrix(prober, members, flow);
      return m;
    };
    const tcpWanted = [[true, true, false], [true, true, false], [true, true, true]];
    const tcp = await probeUntil({ port: 80, protocol: 'tcp' }, (a) => JSON.stringify(a) === JSON.stringify(tcpWanted));
    assert.deepEqual(tcp.endpoints, ['x/a', 'x/b', 'y/c']);
    assert.deepEqual(tcp.allowed, tcpWanted, 'node-2 drops what it forwards to y/c (from its own node too); y/c reaches itself over loopback');
    const udp = await probeUntil({ port: 80, protocol: 'udp' }, (a) => a.every((r) => r.every(Boolean)));
    assert.ok(udp.allowed.every((row) => row.every(Boolean)), 'UDP echo from every workload');
    const closed = await probeMatrix(prober, members, { port: 81, protocol: 'udp' });
    assert.ok(closed.allowed.every((row) => row.every((v) => !v)), 'no UDP server on 81: no echo');
    const everything = { ...tcp, allowed: tcp.allowed.map((r) => r.map(() => true)) };
    assert.deepEqual(compareMatrices(tcp, everything).mismatches, [{ from: 'x/a', to: 'y/c', probed: false, computed: true }, { from: 'x/b', to: 'y/c', probed: false, computed: true }]);
    const t0 = Date.now();
    assert.deepEqual(await prober.probe(wls[0]!.netns, [{ ip: '10.65.2.11', port: 80, protocol: 'tcp' }]), [false]);
    assert.ok(Date.now() - t0 < 5000, 'a dropped probe ends after its 1 s timeout');
  });
});
