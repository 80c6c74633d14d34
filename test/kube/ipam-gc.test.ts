import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/base/clock.js';
import type { Resource } from '../../src/api/types.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import { IpamGarbageCollector } from '../../src/kube/ipam-gc.js';
import type { KubeObject } from '../../src/kube/kube-resources.js';

/**
 * The IPAM garbage collector's rules with a manual clock and a stub API: nothing is judged before
 * the watches have listed, nothing is released inside the grace period, the re-check against the
 * API server keeps an address whose pod the watch has not delivered, and a deleted node loses its
 * addresses, block affinities and Node once confirmed gone.
 */

async function setup() {
  const ds = await openDatastore('memory:');
  const client = new ResourceClient(ds);
  for (const n of ['n1', 'n2']) await client.apply({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: n }, spec: { orchRefs: [{ orchestrator: 'k8s', nodeName: n }] } } as Resource);
  await client.apply({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.8.0.0/24', blockSize: 28 } } as Resource);
  const ipam = new IpamClient(ds);
  const pods = new Map<string, KubeObject>();
  const nodes = new Map<string, KubeObject>([['n1', { metadata: { name: 'n1' } }], ['n2', { metadata: { name: 'n2' } }]]);
  const api = { pods: new Set<string>(), nodes: new Set(['n1', 'n2']) };
  let synced = false;
  const clock = new ManualClock(1_000_000);
  const logs: string[] = [];
  const gc = new IpamGarbageCollector({
    ipam, pods, nodes, synced: () => synced,
    podExists: async (ns, name) => api.pods.has(`${ns}/${name}`),
    nodeExists: async (name) => api.nodes.has(name),
    deleteNode: (name) => client.delete('Node', name).then(() => undefined),
  }, (m) => logs.push(m), { gracePeriodMs: 60_000, clock });
  const assign = async (node: string, pod: string) => (await ipam.autoAssign({ node, handleId: `h-${pod}`, num4: 1, attrs: { node, namespace: 'ns', pod } })).ipv4[0]!.ip;
  return { ds, client, ipam, pods, nodes, api, gc, clock, logs, assign, setSynced: () => (synced = true) };
}

test('IPAM GC: not before sync, not inside the grace period, re-check against the API', async () => {
  const s = await setup();
  try {
    const live = await s.assign('n1', 'live');
    const lagging = await s.assign('n1', 'lagging');
    const gone = await s.assign('n1', 'gone');
    s.pods.set('ns/live', { metadata: { name: 'live', namespace: 'ns' } });
    s.api.pods.add('ns/live');
    s.api.pods.add('ns/lagging'); // exists in the API; the watch has not delivered it
    assert.deepEqual(await s.gc.runOnce(), { released: [], waiting: 0, kept: [], removedNodes: [] }, 'not synced: nothing judged');
    s.setSynced();
    assert.equal((await s.gc.runOnce()).waiting, 2);
    s.clock.advance(59_000);
    assert.deepEqual((await s.gc.runOnce()).released, []);
    s.clock.advance(2_000);
    const r = await s.gc.runOnce();
    assert.deepEqual(r.released, [gone]);
    assert.deepEqual(r.kept, [lagging]);
    assert.deepEqual(await s.ipam.ipsByHandle('h-live'), [live]);
    assert.deepEqual(await s.ipam.ipsByHandle('h-lagging'), [lagging]);
  } finally {
    await s.ds.close();
  }
});

test('IPAM GC: a deleted node loses its pods\' addresses, block affinities and Node', async () => {
  const s = await setup();
  try {
    const onN2 = await s.assign('n2', 'p2');
    const onN1 = await s.assign('n1', 'p1');
    s.pods.set('ns/p1', { metadata: { name: 'p1', namespace: 'ns' } });
    s.api.pods.add('ns/p1');
    s.setSynced();
    s.nodes.delete('n2');
    s.api.nodes.delete('n2');
    await s.gc.runOnce();
    s.clock.advance(61_000);
    const r = await s.gc.runOnce();
    assert.deepEqual(r.released, [onN2]);
    assert.deepEqual(r.removedNodes, ['n2']);
    assert.equal(await s.client.get('Node', 'n2'), null);
    assert.deepEqual((await s.ipam.store.listAffinities('n2')).length, 0);
    assert.deepEqual(await s.ipam.ipsByHandle('h-p1'), [onN1]);
    assert.ok(await s.client.get('Node', 'n1'));
  } finally {
    await s.ds.close();
  }
});
