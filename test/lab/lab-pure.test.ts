import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FakeExec } from '../../src/base/exec.js';
import { CniRunner, resultIpv4 } from '../../src/lab/cni-runner.js';
import { compareMatrices, probeMatrix, renderMismatches, type Prober } from '../../src/lab/conncheck.js';
import { checkLabName, fabricPort, nodeNetns, parseWorkloadRef, underlayIp, workloadNetns } from '../../src/lab/lab-names.js';
import { parseBgpProtocols } from '../../src/lab/lab-routing.js';
import { LabStateStore } from '../../src/lab/lab-state.js';
import { namedPorts, parseLabels, parseServe } from '../../src/lab/lab-workloads.js';
import { writeFileSync, mkdirSync } from 'node:fs';

describe('lab names', () => {
  test('namespaces and interfaces', () => {
    assert.equal(nodeNetns('demo', 'node-3'), 'brl-demo-n-node-3');
    assert.equal(workloadNetns('demo', { namespace: 'x', name: 'a.b' }), 'brl-demo-w-x.a.b');
    assert.equal(underlayIp(10), '172.30.0.10');
    assert.ok(fabricPort(50).length <= 15);
    assert.throws(() => checkLabName('Demo'), /1-8 lowercase/);
    assert.throws(() => checkLabName('a-b'), /1-8 lowercase/);
    assert.throws(() => checkLabName('abcdefghi'), /1-8 lowercase/);
    assert.throws(() => underlayIp(51), /outside/);
  });
  test('workload references', () => {
    assert.deepEqual(parseWorkloadRef('x/a'), { namespace: 'x', name: 'a' });
    assert.throws(() => parseWorkloadRef('a'), /NAMESPACE\/NAME/);
    assert.throws(() => parseWorkloadRef('X/a'), /namespace "X"/);
    assert.throws(() => parseWorkloadRef('x/A'), /name "A"/);
  });
});

describe('workload options', () => {
  test('--serve and named ports', () => {
    const s = parseServe('80/tcp, 81/TCP,80/udp,80/tcp');
    assert.deepEqual(s, [{ port: 80, protocol: 'tcp' }, { port: 81, protocol: 'tcp' }, { port: 80, protocol: 'udp' }]);
    assert.deepEqual(namedPorts(s).map((p) => `${p.name}:${p.protocol}:${p.port}`), ['serve-80-tcp:TCP:80', 'serve-81-tcp:TCP:81', 'serve-80-udp:UDP:80']);
    assert.throws(() => parseServe('80'), /PORT\/tcp/);
    assert.throws(() => parseServe('0/tcp'), /PORT\/tcp/);
    assert.deepEqual(parseServe(undefined), []);
  });
  test('--labels', () => {
    assert.deepEqual(parseLabels('app=web, tier=front'), { app: 'web', tier: 'front' });
    assert.throws(() => parseLabels('app'), /key=value/);
  });
});

describe('conncheck', () => {
  const members = [
    { label: 'y/b', netns: 'ns-yb', ip: '10.0.0.2' },
    { label: 'x/a', netns: 'ns-xa', ip: '10.0.0.1' },
    { label: 'z/c', netns: 'ns-zc', ip: '10.0.0.3' },
  ];
  // y/b accepts nothing from x/a; everything else is open.
  const prober: Prober & { calls: number; inFlight: number; maxInFlight: number } = {
    calls: 0, inFlight: 0, maxInFlight: 0,
    async probe(from, targets) {
      this.calls++;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      await new Promise((r) => setTimeout(r, 5));
      this.inFlight--;
      return targets.map((t) => !(from === 'ns-xa' && t.ip === '10.0.0.2'));
    },
  };
  test('probes one row per source, bounded concurrency, sorted like policy matrix', async () => {
    const m = await probeMatrix(prober, members, { port: 80, protocol: 'tcp' }, 2);
    assert.deepEqual(m.endpoints, ['x/a', 'y/b', 'z/c']);
    assert.deepEqual(m.allowed, [[true, false, true], [true, true, true], [true, true, true]]);
    assert.equal(m.protocol, 'TCP');
    assert.equal(prober.calls, 3);
    assert.ok(prober.maxInFlight <= 2);
  });
  test('compare skips the diagonal and reports endpoints the calculation lacks', async () => {
    const probed = await probeMatrix(prober, members, { port: 80, protocol: 'tcp' });
    const computed = { protocol: 'TCP', port: 80, family: 4 as const, endpoints: ['x/a', 'y/b'], allowed: [[false, true], [true, false]] };
    const { mismatches, missing } = compareMatrices(probed, computed);
    assert.deepEqual(mismatches, [{ from: 'x/a', to: 'y/b', probed: false, computed: true }]);
    assert.deepEqual(missing, ['z/c']);
    assert.match(renderMismatches(mismatches, missing), /1 cell where the kernel and the policy calculation DISAGREE:\n {2}x\/a → y\/b {2}probed denied, computed allowed/);
    assert.match(renderMismatches([], []), /agree on every cell/);
  });
  test('a prober answering the wrong number of cells is an error', async () => {
    await assert.rejects(probeMatrix({ probe: async () => [true] }, members, { port: 80, protocol: 'udp' }), /answered 1 of 3/);
  });
});

test('birdc show protocols: BGP sessions', () => {
  const text = [
    'BIRD 2.0.12 ready.',
    'Name       Proto      Table      State  Since         Info',
    'device1    Device     ---        up     22:29:00.732',
    'k4         Kernel     master4    up     22:29:00.732',
    'peer_2     BGP        ---        up     22:29:01.513  Established',
    'peer_3     BGP        ---        start  22:29:01.513  Active        Socket: Connection refused',
  ].join('\n');
  assert.deepEqual(parseBgpProtocols(text).map((s) => [s.name, s.state, s.info.split(' ')[0]]), [['peer_2', 'up', 'Established'], ['peer_3', 'start', 'Active']]);
});

test('CNI conflist: plugins in order with prevResult, DEL in reverse', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'brindle-cni-run-'));
  try {
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'net.d'));
    writeFileSync(join(dir, 'bin', 'brindle'), '');
    writeFileSync(join(dir, 'bin', 'portmap'), '');
    writeFileSync(join(dir, 'net.d', '10-brindle.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', plugins: [{ type: 'brindle', datastore: 'x' }, { type: 'portmap' }] }));
    const exec = new FakeExec((c) => ({ stdout: c.opts.env?.['CNI_COMMAND'] === 'ADD' ? JSON.stringify({ cniVersion: '1.0.0', ips: [{ address: '10.65.0.7/32' }], from: c.cmd.split('/').pop() }) : '', stderr: '' }));
    const r = new CniRunner(exec, 'brl-t-n-node-1', [join(dir, 'bin')], join(dir, 'net.d'));
    const inv = { containerId: 'abc', netnsPath: '/run/netns/w', ifName: 'eth0', args: { K8S_POD_NAMESPACE: 'x', K8S_POD_NAME: 'a' } };
    const res = await r.add(inv);
    assert.equal(resultIpv4(res), '10.65.0.7');
    assert.equal(res['from'], 'portmap');
    await r.del(inv);
    assert.deepEqual(exec.calls.map((c) => `${c.opts.env?.['CNI_COMMAND']} ${c.cmd.split('/').pop()}`), ['ADD brindle', 'ADD portmap', 'DEL portmap', 'DEL brindle']);
    const second = JSON.parse(exec.calls[1]!.opts.stdin as string) as Record<string, unknown>;
    assert.equal(second['name'], 'k8s-pod-network');
    assert.equal((second['prevResult'] as { from: string }).from, 'brindle');
    assert.equal(exec.calls[0]!.opts.netns, 'brl-t-n-node-1');
    assert.equal(exec.calls[0]!.opts.env?.['CNI_ARGS'], 'IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=a');
    await assert.rejects(new CniRunner(exec, 'n', [join(dir, 'bin')], join(dir, 'none')).add(inv), /no \.conflist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lab state: atomic saves, a lock whose holder died is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'brindle-lab-state-'));
  try {
    const store = new LabStateStore(dir, 't1');
    await assert.rejects(store.update(() => undefined), /not up/);
    store.save({ version: 1, name: 't1', createdAt: '', routing: 'bgp', datastore: { kind: 'sqlite', url: 'sqlite:x' }, nodes: [], namespaces: [], processes: [], workloads: [] });
    writeFileSync(join(store.dir, 'lock'), '999999999'); // no such PID
    await store.update((s) => void s.namespaces.push('brl-t1-fab'));
    assert.deepEqual(store.load()!.namespaces, ['brl-t1-fab']);
    // Concurrent updates serialize: none is lost.
    await Promise.all(Array.from({ length: 5 }, (_, i) => store.update(async (s) => {
      await new Promise((r) => setTimeout(r, 2));
      s.namespaces.push(`n${i}`);
    })));
    assert.equal(store.load()!.namespaces.length, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('lab flow logs', () => {
  test('settings become agent flags; the store is the lab datastore file or flows.db beside etcd', async () => {
    const { flowLogAgentArgs, flowLogsDiffer, labFlowLogs } = await import('../../src/lab/lab-flow-logs.js');
    const sq = labFlowLogs({ ratePerSecond: 20, bulk: 'http://127.0.0.1:9', buffer: 5 }, '/run/l/x', 'sqlite:/run/l/x/brindle.db', 'sqlite');
    assert.deepEqual(sq, { ratePerSecond: 20, store: '/run/l/x/brindle.db', bulk: 'http://127.0.0.1:9', buffer: 5 });
    assert.deepEqual(flowLogAgentArgs(sq), ['--flow-logs', '--flow-log-rate', '20', '--flow-store', '/run/l/x/brindle.db', '--flow-bulk', 'http://127.0.0.1:9', '--flow-buffer', '5']);
    const et = labFlowLogs({}, '/run/l/y', '', 'etcd');
    assert.deepEqual(flowLogAgentArgs(et), ['--flow-logs', '--flow-log-rate', '100', '--flow-store', '/run/l/y/flows.db']);
    assert.equal(flowLogsDiffer(et, {}), false);
    assert.equal(flowLogsDiffer(et, undefined), true);
    assert.equal(flowLogsDiffer(undefined, {}), true);
    assert.equal(flowLogsDiffer(sq, { ratePerSecond: 20, bulk: 'http://127.0.0.1:9' }), true);
    assert.throws(() => labFlowLogs({ bulk: 'localhost:9200' }, '/d', 'sqlite:/d/b.db', 'sqlite'), /--flow-bulk/);
    assert.throws(() => labFlowLogs({ ratePerSecond: 0 }, '/d', 'sqlite:/d/b.db', 'sqlite'), /--flow-log-rate/);
  });
});
