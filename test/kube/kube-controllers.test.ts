import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import type { Resource, WorkloadEndpoint } from '../../src/api/types.js';
import { IpamClient } from '../../src/ipam/ipam-client.js';
import type { KubeObject } from '../../src/kube/kube-resources.js';
import { matrix } from '../helpers/houses.js';
import { KubeHarness, waitFor } from '../helpers/kube-harness.js';

/**
 * `brindle kube-controllers` against the fake API server (the real client library in between),
 * with reachability checked by `brindle policy matrix` over the resulting SQLite datastore. Pods are
 * in the API; their WorkloadEndpoints are written as the CNI plugin writes them (name
 * `<node>-k8s-<pod>-eth0`, addresses, profiles), and the controllers keep them in step.
 */

const nsObj = (name: string, labels: Record<string, string> = {}): KubeObject => ({ metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });
const podObj = (ns: string, name: string, labels: Record<string, string> = {}, sa?: string): KubeObject => ({
  metadata: { name, namespace: ns, labels },
  spec: { nodeName: 'node-1', ...(sa ? { serviceAccountName: sa } : {}), containers: [{ name: 'c', ports: [{ name: 'web', containerPort: 80, protocol: 'TCP' }] }] },
});
const netpol = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });

const IPS: Record<string, string> = { 'x/a': '10.2.1.1', 'x/b': '10.2.1.2', 'y/a': '10.2.2.1', 'y/b': '10.2.2.2' };
const wepName = (pod: string): string => `node--1-k8s-${pod}-eth0`;
const label = (p: string): string => `${p.split('/')[0]}/${wepName(p.split('/')[1]!)}`;

async function cniAdd(client: ResourceClient, pod: string): Promise<void> {
  const [ns, name] = pod.split('/') as [string, string];
  await client.apply({
    apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: wepName(name), namespace: ns },
    spec: { orchestrator: 'k8s', node: 'node-1', pod: name, endpoint: 'eth0', containerID: `c-${name}`, interfaceName: `cali${ns}${name}`, ipNetworks: [`${IPS[pod]}/32`], profiles: [`kns.${ns}`] },
  } as Resource);
}

async function reach(h: KubeHarness, from: string, to: string): Promise<boolean | undefined> {
  return (await matrix(h.datastoreUrl, 'TCP', 80)).allowed[label(from)]?.[label(to)];
}

async function stored(h: KubeHarness, kind: string, name: string, ns?: string): Promise<Resource | null> {
  return new ResourceClient(h.ds).get(kind, name, ns);
}

describe('kube-controllers against the fake API server', { timeout: 60_000 }, () => {
  let h: KubeHarness;
  let client: ResourceClient;
  beforeEach(async () => {
    h = await KubeHarness.start();
    client = new ResourceClient(h.ds);
    for (const n of ['x', 'y']) h.api.put('namespaces', nsObj(n, { team: 'red' }));
    for (const p of Object.keys(IPS)) {
      const [ns, name] = p.split('/') as [string, string];
      h.api.put('pods', podObj(ns, name, { pod: name }));
      await cniAdd(client, p);
    }
  });
  afterEach(() => h.close());

  test('namespace label change updates reachability (policy matrix); policy add, update, delete', async () => {
    const kc = await h.controllers();
    assert.equal(await reach(h, 'x/a', 'y/a'), true);
    h.api.put('networkpolicies', netpol('y', 'from-blue', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }] }));
    await waitFor('knp.default.from-blue', async () => (await stored(h, 'NetworkPolicy', 'knp.default.from-blue', 'y')) !== null);
    assert.equal(await reach(h, 'x/a', 'y/a'), false, 'x is red: denied');
    h.api.put('namespaces', nsObj('x', { team: 'blue' }));
    await waitFor('kns.x relabelled', async () => (await stored(h, 'Profile', 'kns.x'))?.spec !== undefined && JSON.stringify((await stored(h, 'Profile', 'kns.x'))!.spec).includes('"pcns.team":"blue"'));
    assert.equal(await reach(h, 'x/a', 'y/a'), true, 'x is blue now: allowed');
    assert.equal(await reach(h, 'y/b', 'y/a'), false, 'y itself is not blue');
    h.api.put('networkpolicies', netpol('y', 'from-blue', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'green' } } }] }] }));
    await waitFor('policy updated', async () => JSON.stringify((await stored(h, 'NetworkPolicy', 'knp.default.from-blue', 'y'))?.spec).includes('green'));
    assert.equal(await reach(h, 'x/a', 'y/a'), false);
    h.api.remove('networkpolicies', 'from-blue', 'y');
    await waitFor('policy deleted', async () => (await stored(h, 'NetworkPolicy', 'knp.default.from-blue', 'y')) === null);
    assert.equal(await reach(h, 'x/a', 'y/a'), true);
    assert.equal(kc.mirrors.get('namespaces')!.stats.invalid, 0);
  });

  test('Services: EndpointSlices are synced, so a destination.services rule follows the endpoints', async () => {
    await h.controllers();
    await client.apply({ apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', metadata: { name: 'to-web', namespace: 'x' }, spec: { selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow', protocol: 'TCP', destination: { services: { name: 'web', namespace: 'y' } } }] } } as Resource);
    assert.equal(await reach(h, 'x/a', 'y/a'), false, 'no endpoints yet: the service matches nothing');
    const sliceObj = (addresses: string[]): KubeObject => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'y', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })), ports: [{ name: 'http', protocol: 'TCP', port: 80 }] });
    h.api.put('endpointslices', sliceObj([IPS['y/a']!]));
    await waitFor('the slice stored', async () => (await stored(h, 'KubernetesEndpointSlice', 'web-1', 'y')) !== null);
    assert.deepEqual([await reach(h, 'x/a', 'y/a'), await reach(h, 'x/a', 'y/b')], [true, false]);
    h.api.put('endpointslices', sliceObj([IPS['y/b']!]));
    await waitFor('the slice updated', async () => JSON.stringify((await stored(h, 'KubernetesEndpointSlice', 'web-1', 'y'))?.spec).includes(IPS['y/b']!));
    assert.deepEqual([await reach(h, 'x/a', 'y/a'), await reach(h, 'x/a', 'y/b')], [false, true]);
    h.api.remove('endpointslices', 'web-1', 'y');
    await waitFor('the slice deleted', async () => (await stored(h, 'KubernetesEndpointSlice', 'web-1', 'y')) === null);
    assert.equal(await reach(h, 'x/a', 'y/b'), false);
  });

  test('pod relabel reaches its WorkloadEndpoint; service account → ksa profile and endpoint', async () => {
    await h.controllers();
    h.api.put('networkpolicies', netpol('y', 'from-clients', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'client' } } }] }] }));
    await waitFor('policy', async () => (await stored(h, 'NetworkPolicy', 'knp.default.from-clients', 'y')) !== null);
    assert.equal(await reach(h, 'x/a', 'y/a'), false);
    h.api.put('serviceaccounts', { metadata: { name: 'robot', namespace: 'x', labels: { tier: 'gold' } } });
    h.api.put('pods', podObj('x', 'a', { pod: 'a', role: 'client' }, 'robot'));
    await waitFor('x/a relabelled', async () => (await stored(h, 'WorkloadEndpoint', wepName('a'), 'x'))?.metadata.labels?.['role'] === 'client');
    const wep = (await stored(h, 'WorkloadEndpoint', wepName('a'), 'x')) as WorkloadEndpoint;
    assert.deepEqual(wep.spec.profiles, ['kns.x', 'ksa.x.robot']);
    assert.equal(wep.spec.serviceAccountName, 'robot');
    assert.deepEqual(wep.spec.ipNetworks, ['10.2.1.1/32'], 'what the CNI plugin wrote stays');
    assert.deepEqual(wep.spec.ports, [{ name: 'web', protocol: 'TCP', port: 80 }]);
    await waitFor('ksa.x.robot', async () => (await stored(h, 'Profile', 'ksa.x.robot')) !== null);
    assert.deepEqual((await stored(h, 'Profile', 'ksa.x.robot'))!.spec, { labelsToApply: { 'pcsa.tier': 'gold', 'pcsa.projectcalico.org/name': 'robot' } });
    assert.equal(await reach(h, 'x/a', 'y/a'), true);
    assert.equal(await reach(h, 'x/b', 'y/a'), false);
  });

  test('restart with changes missed while down: the full resync writes them and removes what is gone', async () => {
    let kc = await h.controllers();
    h.api.put('namespaces', nsObj('z'));
    h.api.put('networkpolicies', netpol('y', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] }));
    await waitFor('kns.z and the policy', async () => (await stored(h, 'Profile', 'kns.z')) !== null && (await stored(h, 'NetworkPolicy', 'knp.default.deny-all', 'y')) !== null);
    await h.stop(kc);
    h.api.remove('namespaces', 'z');
    h.api.remove('networkpolicies', 'deny-all', 'y');
    h.api.put('clusternetworkpolicies', {
      metadata: { name: 'no-x-to-y' },
      spec: { tier: 'Admin', priority: 5, subject: { namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'y' } } }, ingress: [{ action: 'Deny', from: [{ namespaces: { matchLabels: { 'kubernetes.io/metadata.name': 'x' } } }] }] },
    });
    h.api.put('pods', podObj('y', 'b', { pod: 'b', moved: 'yes' }));
    h.api.compact();
    kc = await h.controllers();
    assert.equal(await stored(h, 'Profile', 'kns.z'), null);
    assert.equal(await stored(h, 'NetworkPolicy', 'knp.default.deny-all', 'y'), null);
    assert.equal((await stored(h, 'GlobalNetworkPolicy', 'kcnp.no-x-to-y'))?.spec && ((await stored(h, 'GlobalNetworkPolicy', 'kcnp.no-x-to-y'))!.spec as { tier: string }).tier, 'kube-admin');
    assert.equal((await stored(h, 'WorkloadEndpoint', wepName('b'), 'y'))?.metadata.labels?.['moved'], 'yes');
    assert.equal(await reach(h, 'x/a', 'y/a'), false);
    assert.equal(await reach(h, 'y/b', 'y/a'), true);
    assert.ok(kc.mirrors.get('namespaces')!.stats.deletes >= 1);
  });

  test('watch history compacted: 410 → re-list, nothing lost; bookmarks and pages requested', async () => {
    const kc = await h.controllers();
    await new Promise((r) => setTimeout(r, 300));
    // In one tick: the watches end, a change happens that no watch delivers, history is compacted past it.
    h.api.closeWatches();
    h.api.put('namespaces', nsObj('late', { team: 'late' }));
    h.api.compact();
    await waitFor('kns.late', async () => (await stored(h, 'Profile', 'kns.late')) !== null);
    const ns = kc.reflectors.get('namespaces')!;
    assert.ok(ns.stats.relistsAfterGone >= 1, `re-listed after 410 (${JSON.stringify(ns.stats)})`);
    assert.ok(ns.stats.bookmarks >= 1, 'bookmarks received');
    const watches = h.api.requests.filter((r) => r.query['watch'] === 'true' && r.path === '/api/v1/namespaces');
    assert.ok(watches.every((r) => r.query['allowWatchBookmarks'] === 'true' && r.query['resourceVersion'] !== undefined));
    assert.ok(h.api.requests.some((r) => r.path === '/api/v1/pods' && r.query['limit'] === '3' && r.query['continue']), 'the pod list was paginated');
  });

  for (const mode of ['refuse', 'unavailable'] as const) {
    test(`API outage (${mode}) and recovery: back-off, then the changes made meanwhile arrive`, async () => {
      const kc = await h.controllers();
      await h.api.outage(mode);
      const down = Date.now();
      h.api.put('namespaces', nsObj('during-outage'));
      const errors = () => kc.reflectors.get('namespaces')!.stats.errors;
      await waitFor('two failed attempts during the outage', () => errors() >= 2, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await stored(h, 'Profile', 'kns.during-outage'), null);
      // Jittered back-off from 20 ms doubling to 300 ms: at most one attempt per 10 ms on average.
      const elapsed = Date.now() - down;
      assert.ok(errors() <= elapsed / 10 + 5, `back-off bounds the retries (${errors()} in ${elapsed} ms)`);
      const back = Date.now();
      await h.api.outage(false);
      await waitFor('kns.during-outage after recovery', async () => (await stored(h, 'Profile', 'kns.during-outage')) !== null, 3000);
      assert.ok(Date.now() - back < 5000, 'recovered within the maximum back-off plus a list');
      assert.ok(kc.status.get('namespaces') === 'watching');
    });
  }

  test('IPAM GC: a deleted pod\'s address is released after the grace period; a live pod\'s is left alone', async () => {
    await client.apply({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-1' }, spec: { orchRefs: [{ orchestrator: 'k8s', nodeName: 'node-1' }] } } as Resource);
    await client.apply({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.9.0.0/24', blockSize: 28 } } as Resource);
    const ipam = new IpamClient(h.ds);
    const a = await ipam.autoAssign({ node: 'node-1', handleId: 'k8s-pod-network.c-a', num4: 1, attrs: { node: 'node-1', namespace: 'x', pod: 'a', containerID: 'c-a' } });
    const b = await ipam.autoAssign({ node: 'node-1', handleId: 'k8s-pod-network.c-b', num4: 1, attrs: { node: 'node-1', namespace: 'x', pod: 'b', containerID: 'c-b' } });
    h.api.put('nodes', { metadata: { name: 'node-1' } });
    const kc = await h.controllers({ gc: { gracePeriodMs: 400, intervalMs: 3_600_000 } });
    h.api.remove('pods', 'a', 'x');
    await waitFor('the pod controller to drop x/a\'s endpoint', async () => (await stored(h, 'WorkloadEndpoint', wepName('a'), 'x')) === null);
    const first = await kc.gc!.runOnce();
    assert.deepEqual([first.released, first.waiting], [[], 1], 'inside the grace period: nothing released');
    await new Promise((r) => setTimeout(r, 450));
    const second = await kc.gc!.runOnce();
    assert.deepEqual(second.released, [a.ipv4[0]!.ip]);
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.c-b'), [b.ipv4[0]!.ip]);
    assert.equal((await ipam.check()).leakedIps.length, 0);
    assert.ok(await stored(h, 'WorkloadEndpoint', wepName('b'), 'x'));
  });
});
