import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { KUBE_RESOURCES, listerFor, loadKubeConfig } from '../../src/kube/kube-resources.js';
import { KubeHarness, waitFor } from '../helpers/kube-harness.js';

/**
 * The fake API server speaks the list/watch protocol the real @kubernetes/client-node expects:
 * paginated lists from one snapshot, watch event lines from a resourceVersion, bookmarks, 410 on
 * compacted history and expired continue tokens, 404 Status for a missing object.
 */

const ns = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });

describe('fake Kubernetes API (through @kubernetes/client-node)', { timeout: 30_000 }, () => {
  let h: KubeHarness;
  before(async () => {
    h = await KubeHarness.start();
  });
  after(() => h.close());

  test('paginated list is one consistent snapshot; an expired continue token is 410', async () => {
    for (const n of ['a', 'b', 'c', 'd', 'e']) h.api.put('namespaces', ns(n));
    const list = listerFor(loadKubeConfig(h.kubeconfigPath), KUBE_RESOURCES.namespaces);
    const p1 = await list({ limit: 2 });
    assert.deepEqual(p1.items.map((i) => i.metadata.name), ['a', 'b']);
    assert.ok(p1.continue);
    h.api.put('namespaces', ns('aa'));
    h.api.remove('namespaces', 'c');
    const p2 = await list({ limit: 2, continue: p1.continue! });
    assert.deepEqual(p2.items.map((i) => i.metadata.name), ['c', 'd'], 'later pages come from the first page\'s snapshot');
    assert.equal(p2.resourceVersion, p1.resourceVersion);
    h.api.compact();
    await assert.rejects(list({ limit: 2, continue: p2.continue! }), (err: { code?: number }) => err.code === 410);
    const fresh = await list({ limit: 100 });
    assert.deepEqual(fresh.items.map((i) => i.metadata.name), ['a', 'aa', 'b', 'd', 'e']);
  });

  test('watch from a resourceVersion: ADDED/MODIFIED/DELETED lines, then bookmarks; 410 event after compaction', async () => {
    const kc = loadKubeConfig(h.kubeconfigPath);
    const from = String(h.api.resourceVersion);
    const events: string[] = [];
    let bookmarkRv = '';
    const ctrl = await new Watch(kc).watch('/api/v1/namespaces', { resourceVersion: from, allowWatchBookmarks: true }, (type, obj: { metadata: { name?: string; resourceVersion: string } }) => {
      if (type === 'BOOKMARK') bookmarkRv = obj.metadata.resourceVersion;
      else events.push(`${type} ${obj.metadata.name}`);
    }, () => undefined);
    h.api.put('namespaces', ns('w1'));
    h.api.put('namespaces', ns('w1', { x: '1' }));
    h.api.remove('namespaces', 'w1');
    await waitFor('three events and a bookmark', () => events.length === 3 && bookmarkRv !== '');
    assert.deepEqual(events, ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    assert.equal(bookmarkRv, String(h.api.resourceVersion));
    ctrl.abort();
    h.api.compact();
    const errors: number[] = [];
    let done = false;
    await new Watch(kc).watch('/api/v1/namespaces', { resourceVersion: from }, (type, obj: { code: number }) => type === 'ERROR' && errors.push(obj.code), () => (done = true));
    await waitFor('the watch to end', () => done);
    assert.deepEqual(errors, [410]);
  });

  test('GET of a missing object is a 404 Status', async () => {
    const core = loadKubeConfig(h.kubeconfigPath).makeApiClient(CoreV1Api);
    await assert.rejects(core.readNamespacedPod({ namespace: 'a', name: 'nope' }), (err: { code?: number }) => err.code === 404);
    h.api.put('pods', { metadata: { name: 'p', namespace: 'a', labels: { app: 'x' } }, spec: { containers: [] } });
    const pod = await core.readNamespacedPod({ namespace: 'a', name: 'p' });
    assert.equal(pod.metadata?.labels?.['app'], 'x');
  });
});
