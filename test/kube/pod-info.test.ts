import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fetchPodInfo } from '../../src/kube/pod-info.js';
import { KubeHarness } from '../helpers/kube-harness.js';

/** The CNI plugin's Kubernetes lookup, against the fake API server through a kubeconfig file. */
describe('fetchPodInfo', { timeout: 30_000 }, () => {
  let h: KubeHarness;
  before(async () => {
    h = await KubeHarness.start();
    h.api.put('namespaces', { metadata: { name: 'web', annotations: { 'cni.projectcalico.org/ipv4pools': '["ns-pool"]', 'cni.projectcalico.org/ipv6pools': '["ns-v6"]' } } });
    h.api.put('pods', {
      metadata: { name: 'front', namespace: 'web', labels: { app: 'front' }, annotations: { 'cni.projectcalico.org/ipv4pools': '["pod-pool"]' } },
      spec: { serviceAccountName: 'fe', nodeName: 'node-1', containers: [{ ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9 }] }, { ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }] }] },
    });
    h.api.put('pods', { metadata: { name: 'fixed', namespace: 'web', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.0.0.9"]' } }, spec: { containers: [] } });
    h.api.put('pods', { metadata: { name: 'bad', namespace: 'web', annotations: { 'cni.projectcalico.org/ipAddrs': '10.0.0.9' } }, spec: { containers: [] } });
  });
  after(() => h.close());

  test('labels, service account, named ports, profiles; pod pools win over namespace pools', async () => {
    const info = await fetchPodInfo({ kubeconfig: h.kubeconfigPath, namespace: 'web', name: 'front' });
    assert.equal(info.nodeName, 'node-1');
    assert.deepEqual(info.endpoint, {
      labels: { app: 'front', 'projectcalico.org/namespace': 'web', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'fe' },
      serviceAccountName: 'fe',
      profiles: ['kns.web', 'ksa.web.fe'],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }, { name: 'dns', protocol: 'UDP', port: 53 }],
    });
    assert.deepEqual(info.ipam, { ipv4Pools: ['pod-pool'], ipv6Pools: ['ns-v6'] });
  });

  test('ipAddrs; malformed annotation and missing pod are clear errors', async () => {
    assert.deepEqual((await fetchPodInfo({ kubeconfig: h.kubeconfigPath, namespace: 'web', name: 'fixed' })).ipam, { ipv4Pools: ['ns-pool'], ipv6Pools: ['ns-v6'], ipAddrs: ['10.0.0.9'] });
    await assert.rejects(fetchPodInfo({ kubeconfig: h.kubeconfigPath, namespace: 'web', name: 'bad' }), /annotation cni.projectcalico.org\/ipAddrs is not JSON: 10.0.0.9/);
    await assert.rejects(fetchPodInfo({ kubeconfig: h.kubeconfigPath, namespace: 'web', name: 'nope' }), (err: Error) => err.name === 'NotFoundError' && /pod web\/nope: not found in http:\/\/127.0.0.1:\d+/.test(err.message));
  });

  test('an unreachable API server is UnavailableError, bounded in time', async () => {
    await h.api.outage('unavailable');
    try {
      await assert.rejects(fetchPodInfo({ kubeconfig: h.kubeconfigPath, namespace: 'web', name: 'front', timeoutMs: 2000 }), (err: Error) => err.name === 'UnavailableError' && /HTTP 503/.test(err.message));
    } finally {
      await h.api.outage(false);
    }
  });
});
