import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpCluster, affinityUpdate, nodeResource, resourceUpdate, V3 } from './helpers/bgp-cluster.js';
import { canRunNetns, hasCommand, Topology, waitFor } from './helpers/topology.js';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (b: Buffer) => out.push(b));
  const stderr = new PassThrough().on('data', (b: Buffer) => err.push(b));
  const code = await main(args, {}, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

// Three node namespaces on one fabric bridge, BIRD on each with the configuration Brindle renders
// (default full mesh). Workloads reach each other over routes learned only over BGP; a borrowed
// /32 is advertised by the node that uses it; a peer that stops withdraws its block; a killed BIRD
// is restarted by its driver and the routes come back.

const skip = canRunNetns() ?? (hasCommand('bird') ? undefined : 'bird (bird2) is not installed');

test('BGP full mesh between three nodes with BIRD', { skip, timeout: 90_000 }, async () => {
  const topo = Topology.create([0, 0, 0]);
  const cluster = new BgpCluster(topo);
  try {
    const [n1, n2, n3] = topo.nodes as [typeof topo.nodes[0], typeof topo.nodes[0], typeof topo.nodes[0]];
    const w1 = topo.addWorkload(n1, '10.65.1.10');
    const w2 = topo.addWorkload(n2, '10.65.2.10');
    const w3 = topo.addWorkload(n3, '10.65.1.77'); // borrowed from node-1's block
    assert.equal(topo.ping(w1.ns, w2.ip), false, 'no route before BIRD runs');

    cluster.send([
      ...topo.nodes.map((n) => resourceUpdate(nodeResource(n))),
      resourceUpdate({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.65.0.0/16' } } as never),
      affinityUpdate('node-1', '10.65.1.0/26'),
      affinityUpdate('node-2', '10.65.2.0/26'),
      affinityUpdate('node-3', '10.65.3.0/26'),
    ]);
    await cluster.syncAll();

    await waitFor('remote blocks in every kernel', () =>
      /10\.65\.2\.0\/26 via 10\.192\.0\.3 .*proto bird/.test(topo.routes(n1.ns)) &&
      /10\.65\.1\.0\/26 via 10\.192\.0\.2 .*proto bird/.test(topo.routes(n3.ns)) &&
      /10\.65\.1\.77 via 10\.192\.0\.4 .*proto bird/.test(topo.routes(n2.ns)), 15_000);
    assert.match(topo.routes(n1.ns), /blackhole 10\.65\.1\.0\/26 proto bird/);
    assert.match(topo.routes(n1.ns), /10\.65\.1\.77 via 10\.192\.0\.4 dev eth0 proto bird/, 'the borrowed /32 beats the block');
    assert.doesNotMatch(topo.routes(n2.ns), /10\.65\.1\.10/, 'an address inside its own node block is not advertised alone');
    for (const [a, b] of [[w1, w2], [w2, w3], [w1, w3], [w3, w2]] as const) assert.ok(topo.ping(a.ns, b.ip), `${a.ip} → ${b.ip}`);

    const st = await cluster.status('node-1');
    assert.deepEqual(st.sessions.map((s) => [s.peerAddress, s.type, s.state, s.info]), [
      ['10.192.0.3', 'node-to-node mesh', 'up', 'Established'],
      ['10.192.0.4', 'node-to-node mesh', 'up', 'Established'],
    ]);
    assert.ok(st.routes.some((r) => r.dst === '10.65.2.0/26' && r.protocol === 'Mesh_10_192_0_3' && r.via === '10.192.0.3'));

    // `brindle node status` reads the same socket.
    const { code, stdout } = await cli(['node', 'status', '--node', 'node-1', '--run-dir', cluster.drivers.get('node-1')!.opts.runDir]);
    assert.equal(code, 0);
    assert.match(stdout, /\| 10\.192\.0\.3 +\| node-to-node mesh \| up +\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| Established \|/);
    assert.match(stdout, /\| 10\.65\.2\.0\/26 +\| 10\.192\.0\.3 \| eth0 +\| 10\.192\.0\.3 \| yes +\|/);
    assert.match(stdout, /No IPv6 peers found\./);

    // The same text again is no reload; a new block is a reload and reaches the others.
    const d1 = cluster.drivers.get('node-1')!;
    assert.equal(await d1.apply(d1.currentConfig!), false);
    cluster.send([affinityUpdate('node-1', '10.65.1.64/26')]);
    await cluster.flushAll();
    await waitFor('new block on node-2', () => /10\.65\.1\.64\/26 via 10\.192\.0\.2/.test(topo.routes(n2.ns)), 5000);

    // A BIRD killed is restarted with the last configuration and its routes come back.
    const d3 = cluster.drivers.get('node-3')!;
    const pid = d3.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor('BIRD on node-3 restarted', () => d3.running && d3.pid !== pid, 10_000);
    assert.equal(d3.starts, 2);
    await waitFor('node-3 sessions back', async () => (await cluster.establishedCount('node-3')) === 2, 15_000);
    await waitFor('borrowed /32 back on node-2', () => /10\.65\.1\.77 via 10\.192\.0\.4/.test(topo.routes(n2.ns)), 10_000);

    // A peer that goes away (BIRD stopped) withdraws its routes.
    await cluster.routing.get('node-2')!.dispose();
    await waitFor('node-2 block withdrawn from node-1', () => !/10\.65\.2\.0\/26/.test(topo.routes(n1.ns)), 10_000);
    assert.equal(topo.ping(w1.ns, w2.ip), false);
  } finally {
    await cluster.destroy();
    topo.destroy();
  }
});

test('invalid BGP settings are refused before they reach BIRD; BIRD keeps the last good configuration', { skip, timeout: 60_000 }, async () => {
  const topo = Topology.create([0, 0]);
  const cluster = new BgpCluster(topo);
  try {
    cluster.send([...topo.nodes.map((n) => resourceUpdate(nodeResource(n))), affinityUpdate('node-1', '10.65.1.0/26')]);
    await cluster.syncAll();
    const r1 = cluster.routing.get('node-1')!;
    const good = r1.lastConfig!;
    // node-2 takes node-1's address: duplicate router ID. And a BGPPeer pointing at node-1 itself.
    cluster.send([
      resourceUpdate(nodeResource({ ...topo.node(1), cidr: topo.node(0).cidr })),
      resourceUpdate({ apiVersion: V3, kind: 'BGPPeer', metadata: { name: 'self' }, spec: { peerIP: topo.node(0).ip, asNumber: 64512 } } as never),
    ]);
    await r1.flush();
    assert.match(r1.lastError?.message ?? '', /duplicate router ID 10\.192\.0\.2: node node-1 and node node-2/);
    assert.match(r1.lastError?.message ?? '', /BGPPeer self: peerIP 10\.192\.0\.2 is node node-1's own address/);
    assert.equal(cluster.drivers.get('node-1')!.currentConfig, good, 'BIRD still runs the previous configuration');
    assert.ok(cluster.drivers.get('node-1')!.running);
  } finally {
    await cluster.destroy();
    topo.destroy();
  }
});
