import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { FakeKubeApi } from '../../src/kube/testing/fake-kube-api.js';
import { cli } from '../helpers/houses.js';
import { FAKE_TYPES } from '../helpers/kube-harness.js';

/**
 * `brindle kube-controllers --once` against an API server that does not serve the network-policy
 * API (its CRDs are optional): the core resources are synced, the missing ones count as empty, and
 * the command exits 0.
 */
test('brindle kube-controllers --once: resync and exit; CRDs not installed are empty', { timeout: 30_000 }, async () => {
  const api = await FakeKubeApi.start(FAKE_TYPES.filter((t) => !t.apiVersion.startsWith('policy.networking.k8s.io/')));
  const dir = mkdtempSync(join(tmpdir(), 'brindle-kcli-'));
  try {
    writeFileSync(join(dir, 'kubeconfig'), api.kubeconfig());
    api.put('namespaces', { metadata: { name: 'shop', labels: { env: 'prod' } } });
    api.put('networkpolicies', { metadata: { name: 'deny', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
    const url = `sqlite:${join(dir, 'b.db')}`;
    const r = await cli(['--datastore', url, 'kube-controllers', '--kubeconfig', join(dir, 'kubeconfig'), '--once']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /in sync with http:\/\/127\.0\.0\.1:\d+/);
    assert.match(r.stderr, /clusternetworkpolicies is not served/);
    const ds = await openDatastore(url);
    try {
      const c = new ResourceClient(ds);
      assert.equal(((await c.get('Profile', 'kns.shop'))!.spec as { labelsToApply: Record<string, string> }).labelsToApply['pcns.env'], 'prod');
      assert.ok(await c.get('NetworkPolicy', 'knp.default.deny', 'shop'));
    } finally {
      await ds.close();
    }
    const bad = await cli(['--datastore', url, 'kube-controllers', '--kubeconfig', join(dir, 'kubeconfig'), '--ipam-gc-grace', 'soon']);
    assert.equal(bad.code, 2);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
