import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowEvaluator } from '../../src/calc/explain.js';
import { computeMatrix, renderMatrix } from '../../src/calc/matrix.js';
import { computeSnapshot } from '../../src/calc/snapshot.js';
import type { CalcSnapshot } from '../../src/calc/types.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { namespaceDoc, podDoc, type Doc } from './k8s-netpol-model.js';

/**
 * Calico's `services` rule match (`destination.services` in egress, `source.services` in ingress),
 * computed from KubernetesEndpointSlices (what the kube controllers store): through the
 * ResourceClient into a datastore, the calculation graph, then `policy matrix`/`explain` semantics.
 * Pods: x/a 10.0.1.1, x/b 10.0.1.2, y/a 10.0.2.1, y/b 10.0.2.2.
 */

const PODS = ['x/a', 'x/b', 'y/a', 'y/b'];

async function snapshotOf(docs: Doc[]): Promise<CalcSnapshot> {
  const ds = await openDatastore('memory:');
  try {
    const client = new ResourceClient(ds);
    for (const d of [namespaceDoc('x'), namespaceDoc('y'), ...PODS.map((p) => podDoc(p)), ...docs]) await client.apply(d as never);
    return computeSnapshot((await client.listAll()).items, { hostname: '*' });
  } finally {
    await ds.close();
  }
}

const slice = (ns: string, name: string, service: string, addresses: string[], ports: { protocol: string; port: number }[], ready = true): Doc => ({
  apiVersion: 'projectcalico.org/v3', kind: 'KubernetesEndpointSlice', metadata: { name, namespace: ns },
  spec: { serviceName: service, addressType: 'IPv4', endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready } })), ports },
});
const np = (ns: string, name: string, spec: Doc): Doc => ({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });

function table(s: CalcSnapshot, port: number): string {
  return renderMatrix(computeMatrix(s, { protocol: 'TCP', port })).trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')).join('\n');
}

const EGRESS_TO_WEB = np('x', 'to-web', { selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow', protocol: 'TCP', destination: { services: { name: 'web', namespace: 'y' } } }] });

describe('services rule match', () => {
  test('destination.services: the service\'s endpoints at its endpoint ports, nothing else', async () => {
    const s = await snapshotOf([EGRESS_TO_WEB, slice('y', 'web-abc', 'web', ['10.0.2.1'], [{ protocol: 'TCP', port: 80 }])]);
    assert.equal(table(s, 80), ['x/a x/b y/a y/b', 'x/a X X . X', 'x/b X X . X', 'y/a . . . .', 'y/b . . . .'].join('\n'));
    assert.equal(table(s, 81).split('\n')[1], 'x/a X X X X', 'port 81 is not an endpoint port');
    const set = [...s.ipSets.values()].find((x) => x.members.size > 0 && [...x.members][0]!.includes(','));
    assert.deepEqual([set?.type, [...(set?.members ?? [])]], ['ip-and-port', ['10.0.2.1,tcp:80']]);
    const ev = new FlowEvaluator(s);
    const flow = (to: string) => ev.explain({ endpoint: s.endpoints.get('wep:x/a')! }, { endpoint: s.endpoints.get(to)! }, { protocol: 'TCP', port: 80 }).verdict;
    assert.deepEqual([flow('wep:y/a'), flow('wep:y/b')], ['allow', 'deny']);
  });

  test('the endpoints follow the slices: a second slice adds y/b, a not-ready endpoint and a deleted slice take away', async () => {
    const two = await snapshotOf([EGRESS_TO_WEB, slice('y', 'web-abc', 'web', ['10.0.2.1'], [{ protocol: 'TCP', port: 80 }]), slice('y', 'web-def', 'web', ['10.0.2.2'], [{ protocol: 'TCP', port: 80 }])]);
    assert.equal(table(two, 80).split('\n')[1], 'x/a X X . .');
    const notReady = await snapshotOf([EGRESS_TO_WEB, slice('y', 'web-abc', 'web', ['10.0.2.1'], [{ protocol: 'TCP', port: 80 }], false)]);
    assert.equal(table(notReady, 80).split('\n')[1], 'x/a X X X X');
    const none = await snapshotOf([EGRESS_TO_WEB]);
    assert.equal(table(none, 80).split('\n')[1], 'x/a X X X X', 'a service with no endpoints matches nothing (fail closed)');
  });

  test('source.services in ingress, namespace defaulting to the policy\'s', async () => {
    const s = await snapshotOf([
      np('x', 'from-clients', { selector: "pod == 'b'", types: ['Ingress'], ingress: [{ action: 'Allow', source: { services: { name: 'clients' } } }] }),
      slice('x', 'clients-1', 'clients', ['10.0.1.1', '10.0.2.2'], [{ protocol: 'TCP', port: 9999 }]),
    ]);
    assert.equal(table(s, 80), ['x/a x/b y/a y/b', 'x/a . . . .', 'x/b . X . .', 'y/a . X . .', 'y/b . . . .'].join('\n'));
  });
});
