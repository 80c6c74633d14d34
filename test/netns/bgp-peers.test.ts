import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BgpCluster, affinityUpdate, nodeResource, resourceUpdate, V3 } from './helpers/bgp-cluster.js';
import { canRunNetns, hasCommand, Topology, waitFor } from './helpers/topology.js';

// Route reflectors and external peers, each on namespaces with real daemons: a route-reflector
// topology (mesh off, three clients peer only with the reflector); an FRR router (not Brindle)
// that learns the nodes' blocks over eBGP and gives them a route of its own.

const skip = canRunNetns() ?? (hasCommand('bird') ? undefined : 'bird (bird2) is not installed');
const pool = { apiVersion: V3, kind: 'IPPool', metadata: { name: 'pool' }, spec: { cidr: '10.65.0.0/16' } } as never;

test('route reflector: clients learn each other\'s blocks through the reflector only', { skip, timeout: 90_000 }, async () => {
  const topo = Topology.create([0, 0, 0, 0]);
  const cluster = new BgpCluster(topo);
  try {
    const [n1, n2, n3, rr] = topo.nodes as [typeof topo.nodes[0], typeof topo.nodes[0], typeof topo.nodes[0], typeof topo.nodes[0]];
    cluster.send([
      resourceUpdate(nodeResource(n1)), resourceUpdate(nodeResource(n2)), resourceUpdate(nodeResource(n3)),
      resourceUpdate(nodeResource(rr, { labels: { 'route-reflector': 'true' }, bgp: { routeReflectorClusterID: '224.0.0.1' } })),
      resourceUpdate(pool),
      resourceUpdate({ apiVersion: V3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } } as never),
      resourceUpdate({ apiVersion: V3, kind: 'BGPPeer', metadata: { name: 'to-rr' }, spec: { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" } } as never),
      affinityUpdate('node-1', '10.65.1.0/26'), affinityUpdate('node-2', '10.65.2.0/26'), affinityUpdate('node-3', '10.65.3.0/26'),
    ]);
    const w1 = topo.addWorkload(n1, '10.65.1.10');
    const w3 = topo.addWorkload(n3, '10.65.3.10');
    await cluster.syncAll();
    await waitFor('every client has both other blocks', () =>
      [[n1, ['2', '3']], [n2, ['1', '3']], [n3, ['1', '2']]].every(([n, bs]) =>
        (bs as string[]).every((b) => new RegExp(`10\\.65\\.${b}\\.0/26 via 10\\.192\\.0\\.${Number(b) + 1} .*proto bird`).test(topo.routes((n as typeof n1).ns)))), 15_000);
    assert.ok(topo.ping(w1.ns, w3.ip) && topo.ping(w3.ns, w1.ip), 'client workloads reach each other');
    const rrStatus = await cluster.status('node-4');
    assert.deepEqual(rrStatus.sessions.map((s) => [s.peerAddress, s.type, s.info]), [
      ['10.192.0.2', 'node specific', 'Established'], ['10.192.0.3', 'node specific', 'Established'], ['10.192.0.4', 'node specific', 'Established'],
    ]);
    assert.deepEqual((await cluster.status('node-1')).sessions.map((s) => s.peerAddress), ['10.192.0.5'], 'a client peers only with the reflector');
  } finally {
    await cluster.destroy();
    topo.destroy();
  }
});

const frrSkip = skip ?? (existsSync('/usr/lib/frr/bgpd') && existsSync('/usr/lib/frr/zebra') ? undefined : 'FRR (package frr) is not installed');

test('an external FRR router learns the blocks over eBGP and Brindle learns its route', { skip: frrSkip, timeout: 90_000 }, async () => {
  const topo = Topology.create([0, 0, 0]);
  const [n1, n2, ext] = topo.nodes as [typeof topo.nodes[0], typeof topo.nodes[0], typeof topo.nodes[0]];
  const cluster = new BgpCluster(topo, [n1, n2]);
  const frrDir = mkdtempSync(join(tmpdir(), 'brindle-frr-'));
  const procs: ChildProcess[] = [];
  try {
    writeFileSync(join(frrDir, 'zebra.conf'), 'hostname ext\n');
    writeFileSync(join(frrDir, 'vtysh.conf'), '');
    writeFileSync(join(frrDir, 'bgpd.conf'), [
      'hostname ext', 'router bgp 65001', ` bgp router-id ${ext.ip}`, ' no bgp ebgp-requires-policy', ' no bgp network import-check',
      ...[n1, n2].flatMap((n) => [` neighbor ${n.ip} remote-as 64512`, ` neighbor ${n.ip} timers connect 1`]),
      ' address-family ipv4 unicast', '  network 10.70.1.0/24', ' exit-address-family', '',
    ].join('\n'));
    // FRR drops privileges to user frr (root is refused: not in group frrvty); the directory must be frr's.
    const ids = spawnSync('id', ['-u', 'frr'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'frr'], { encoding: 'utf8' });
    for (const f of ['', 'zebra.conf', 'vtysh.conf', 'bgpd.conf']) chownSync(join(frrDir, f), Number(ids.stdout), Number(gid.stdout));
    for (const d of ['zebra', 'bgpd']) {
      procs.push(spawn('ip', ['netns', 'exec', ext.ns, `/usr/lib/frr/${d}`, '-u', 'frr', '-g', 'frr', '-f', join(frrDir, `${d}.conf`), '-i', join(frrDir, `${d}.pid`),
        '-z', join(frrDir, 'zserv.api'), '--vty_socket', frrDir, '-P', '0', '--log', `file:${join(frrDir, `${d}.log`)}`], { stdio: 'ignore' }));
      if (d === 'zebra') await waitFor('zebra socket', () => existsSync(join(frrDir, 'zserv.api')), 10_000);
    }
    cluster.send([
      resourceUpdate(nodeResource(n1)), resourceUpdate(nodeResource(n2)), resourceUpdate(pool),
      resourceUpdate({ apiVersion: V3, kind: 'BGPPeer', metadata: { name: 'ext-router' }, spec: { peerIP: ext.ip, asNumber: 65001 } } as never),
      affinityUpdate('node-1', '10.65.1.0/26'), affinityUpdate('node-2', '10.65.2.0/26'),
    ]);
    await cluster.syncAll();
    await waitFor('FRR installed both blocks', () => /10\.65\.1\.0\/26 nhid \d+ via 10\.192\.0\.2 .*proto bgp/.test(topo.routes(ext.ns)) &&
      /10\.65\.2\.0\/26 nhid \d+ via 10\.192\.0\.3 .*proto bgp/.test(topo.routes(ext.ns)), 20_000);
    await waitFor('Brindle nodes installed FRR\'s route', () => /10\.70\.1\.0\/24 via 10\.192\.0\.4 .*proto bird/.test(topo.routes(n1.ns)) &&
      /10\.70\.1\.0\/24 via 10\.192\.0\.4 .*proto bird/.test(topo.routes(n2.ns)), 20_000);
    // FRR's route is not passed on (only pools are exported), and no default or underlay route leaks to FRR.
    const frrRoutes = topo.routes(ext.ns);
    assert.doesNotMatch(frrRoutes, /10\.70\.1\.0\/24 .*via 10\.192\.0\.[23]/);
    assert.deepEqual((frrRoutes.match(/proto bgp/g) ?? []).length, 2, `FRR learned exactly the two blocks:\n${frrRoutes}`);
    const st = await cluster.status('node-1');
    assert.ok(st.sessions.some((s) => s.peerAddress === ext.ip && s.type === 'global' && s.info === 'Established'));
    const w1 = topo.addWorkload(n1, '10.65.1.10');
    assert.ok(topo.ping(w1.ns, ext.ip), 'the external router answers a workload (it routes back over its BGP route)');
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await cluster.destroy();
    topo.destroy();
    await new Promise((r) => setTimeout(r, 200));
    rmSync(frrDir, { recursive: true, force: true });
  }
});
