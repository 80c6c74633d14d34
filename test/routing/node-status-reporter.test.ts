import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import type { BirdClient, BirdReplyLine } from '../../src/routing/bird-socket.js';
import { NodeStatusReporter } from '../../src/routing/node-status-reporter.js';

// CalicoNodeStatus resources of this node get a status from BIRD's answers; others are left alone.

const V3 = 'projectcalico.org/v3';
const PROTOCOLS: BirdReplyLine[] = [
  { code: 2002, text: 'Name       Proto      Table      State  Since         Info' },
  { code: 1002, text: 'Mesh_10_0_0_2 BGP        ---        up     2026-12-07 11:40:49  Established' },
  { code: 1002, text: 'Mesh_10_0_0_3 BGP        ---        start  2026-12-07 11:40:49  Active        Socket: Connection refused' },
  { code: 0, text: '' },
];
const ROUTES: BirdReplyLine[] = [
  { code: 1007, text: 'Table master4:' },
  { code: 1007, text: '10.65.2.0/26         unicast [Mesh_10_0_0_2 2026-12-07 11:40:51] * (100) [i]' },
  { code: 1007, text: '\tvia 10.0.0.2 on eth0' },
  { code: 1007, text: '10.65.1.0/26         blackhole [blocks4 2026-12-07 11:40:48] * (200)' },
  { code: 0, text: '' },
];
const fakeBird: BirdClient = { command: async (c) => (c === 'show protocols' ? PROTOCOLS : ROUTES) };

test('status of this node\'s CalicoNodeStatus: agent, BGP sessions and routes, refreshed per updatePeriodSeconds', async () => {
  const ds = new MemoryDatastore();
  const rc = new ResourceClient(ds);
  await rc.create({ apiVersion: V3, kind: 'CalicoNodeStatus', metadata: { name: 'mine' }, spec: { node: 'node-1', classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 10 } });
  await rc.create({ apiVersion: V3, kind: 'CalicoNodeStatus', metadata: { name: 'theirs' }, spec: { node: 'node-2', classes: ['BGP'] } });
  let now = new Date('2026-12-07T12:00:00Z');
  const reporter = new NodeStatusReporter({ ds, hostname: 'node-1', bird: fakeBird, now: () => now, routerId: () => '10.0.0.1' });
  assert.equal(await reporter.reportDue(), 1);
  const mine = (await rc.get('CalicoNodeStatus', 'mine')) as unknown as { spec: unknown; status: Record<string, unknown> };
  assert.deepEqual(mine.spec, { node: 'node-1', classes: ['Agent', 'BGP', 'Routes'], updatePeriodSeconds: 10 });
  assert.deepEqual(mine.status, {
    lastUpdated: '2026-12-07T12:00:00.000Z',
    agent: { birdV4: { state: 'Ready', routerID: '10.0.0.1' } },
    bgp: {
      numberEstablishedV4: 1, numberNotEstablishedV4: 1, numberEstablishedV6: 0, numberNotEstablishedV6: 0,
      peersV4: [
        { peerIP: '10.0.0.2', type: 'NodeMesh', state: 'Established', since: '2026-12-07 11:40:49' },
        { peerIP: '10.0.0.3', type: 'NodeMesh', state: 'Active', since: '2026-12-07 11:40:49' },
      ],
      peersV6: [],
    },
    routes: {
      routesV4: [
        { type: 'RIB', destination: '10.65.2.0/26', gateway: '10.0.0.2', interface: 'eth0', learnedFrom: { sourceType: 'NodeMesh', peerIP: '10.0.0.2' } },
        { type: 'RIB', destination: '10.65.1.0/26', gateway: '', interface: '', learnedFrom: { sourceType: 'Static' } },
      ],
      routesV6: [],
    },
  });
  assert.equal(((await rc.get('CalicoNodeStatus', 'theirs')) as unknown as { status?: unknown }).status, undefined);
  now = new Date('2026-12-07T12:00:05Z');
  assert.equal(await reporter.reportDue(), 0, 'not due yet');
  now = new Date('2026-12-07T12:00:11Z');
  assert.equal(await reporter.reportDue(), 1);
});

test('BIRD down: the agent class says NotReady and BGP counts are zero', async () => {
  const ds = new MemoryDatastore();
  await new ResourceClient(ds).create({ apiVersion: V3, kind: 'CalicoNodeStatus', metadata: { name: 's' }, spec: { node: 'n', classes: ['Agent', 'BGP'] } });
  const down: BirdClient = { command: async () => { throw new Error('no socket'); } };
  await new NodeStatusReporter({ ds, hostname: 'n', bird: down }).reportDue();
  const s = JSON.parse((await ds.list('/brindle/v3/caliconodestatuses/')).items[0]!.value).status;
  assert.equal(s.agent.birdV4.state, 'NotReady');
  assert.equal(s.bgp.numberEstablishedV4, 0);
});
