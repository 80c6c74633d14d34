import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Resource } from '../../src/api/types.js';
import type { Datastore } from '../../src/datastore/datastore.js';
import { openDatastore } from '../../src/datastore/open.js';
import { ResourceClient } from '../../src/datastore/resource-client.js';
import { isAlreadyExists, isConflict, isNotFound, ValidationError } from '../../src/errors.js';

/** The ResourceClient contract, run against the in-memory store and a real SQLite file. */

const V3 = 'projectcalico.org/v3';
const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}): Resource => ({ apiVersion: V3, kind: 'IPPool', metadata: { name }, spec: { cidr, ...extra } });
const gnp = (name: string, spec: Record<string, unknown> = {}): Resource => ({ apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name }, spec: { selector: 'all()', ...spec } });

const tmp = mkdtempSync(join(tmpdir(), 'brindle-rc-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const backends: [string, () => Promise<Datastore>][] = [
  ['memory', () => openDatastore('memory:')],
  ['sqlite', () => openDatastore(`sqlite:${join(tmp, `rc-${Math.random().toString(36).slice(2)}.db`)}`)],
];

for (const [backend, open] of backends) {
  describe(`ResourceClient (${backend})`, () => {
    async function withClient(fn: (c: ResourceClient, ds: Datastore) => Promise<void>): Promise<void> {
      const ds = await open();
      try {
        await fn(new ResourceClient(ds), ds);
      } finally {
        await ds.close();
      }
    }

    test('create defaults, stores at the resource key and returns the stored revision', () =>
      withClient(async (c, ds) => {
        const created = await c.create(pool('p1', '10.65.0.0/16'));
        assert.equal((created.spec as { blockSize: number }).blockSize, 26);
        assert.ok(created.metadata.uid && created.metadata.creationTimestamp);
        const kv = await ds.get('/brindle/v3/ippools/_cluster/p1');
        assert.ok(kv);
        assert.equal(created.metadata.resourceVersion, String(kv.modRevision));
        assert.deepEqual(await c.get('IPPool', 'p1'), created);
        await assert.rejects(c.create(pool('p1', '10.66.0.0/16')), (e) => isAlreadyExists(e) && /IPPool p1 already exists/.test((e as Error).message));
      }));

    test('invalid input is refused with every issue and nothing is written', () =>
      withClient(async (c, ds) => {
        await assert.rejects(c.create(pool('p1', '10.65.0.1/16', { blockSize: 40 })), (e) => {
          assert.ok(e instanceof ValidationError);
          assert.deepEqual(e.issues.map((i) => i.path).sort(), ['spec.blockSize', 'spec.cidr']);
          return true;
        });
        assert.equal((await ds.list('/brindle/')).items.length, 0);
      }));

    test('built-in tiers and the default-allow profile always exist and cannot be deleted', () =>
      withClient(async (c) => {
        assert.deepEqual((await c.list('Tier')).items.map((t) => [t.metadata.name, (t.spec as { order: number }).order]), [
          ['default', 1000000],
          ['kube-admin', 1000],
          ['kube-baseline', 10000000],
        ]);
        assert.equal((await c.get('Profile', 'projectcalico-default-allow'))?.kind, 'Profile');
        assert.deepEqual((await c.listAll()).items.map((r) => `${r.kind}/${r.metadata.name}`), ['Tier/default', 'Tier/kube-admin', 'Tier/kube-baseline', 'Profile/projectcalico-default-allow']);
        await assert.rejects(c.delete('Tier', 'default'), /cannot be deleted/);
        await assert.rejects(c.create({ apiVersion: V3, kind: 'Tier', metadata: { name: 'default' }, spec: {} }), (e) => isAlreadyExists(e));
        await assert.rejects(c.apply({ apiVersion: V3, kind: 'Tier', metadata: { name: 'kube-admin' }, spec: { order: 5 } }), /order 1000/);
        await assert.rejects(c.apply({ apiVersion: V3, kind: 'Profile', metadata: { name: 'projectcalico-default-allow' }, spec: { ingress: [{ action: 'Deny' }] } }), /cannot be changed/);
        // applying a built-in unchanged (e.g. round trip of `get -o yaml`) is fine, labels may be added
        const stored = await c.apply({ apiVersion: V3, kind: 'Tier', metadata: { name: 'default', labels: { a: 'b' } }, spec: {} });
        assert.deepEqual(stored.metadata.labels, { a: 'b' });
        assert.equal((await c.list('Tier')).items.length, 3);
      }));

    test('policies need their tier; a tier in use cannot be deleted', () =>
      withClient(async (c) => {
        await assert.rejects(c.create(gnp('p', { tier: 'security' })), (e) => e instanceof ValidationError && e.issues[0]!.path === 'spec.tier' && /tier "security" does not exist/.test(e.message));
        await c.create({ apiVersion: V3, kind: 'Tier', metadata: { name: 'security' }, spec: { order: 100 } });
        const p = await c.create(gnp('p', { tier: 'security' }));
        assert.equal(p.metadata.labels?.['projectcalico.org/tier'], 'security');
        await assert.rejects(c.delete('Tier', 'security'), /still used by GlobalNetworkPolicy p/);
        await c.delete('GlobalNetworkPolicy', 'p');
        await c.delete('Tier', 'security');
        assert.equal(await c.get('Tier', 'security'), null);
      }));

    test('pools may not overlap; cidr and blockSize are immutable', () =>
      withClient(async (c) => {
        await c.create(pool('a', '10.65.0.0/16'));
        await assert.rejects(c.create(pool('b', '10.65.128.0/17')), /overlaps IP pool "a"/);
        await assert.rejects(c.create(pool('b', '10.0.0.0/8')), /overlaps IP pool "a"/);
        await c.create(pool('b', '10.66.0.0/16'));
        await assert.rejects(c.apply(pool('a', '10.67.0.0/16')), /cidr cannot be changed/);
        await assert.rejects(c.apply(pool('a', '10.65.0.0/16', { blockSize: 28 })), /blockSize cannot be changed/);
        const updated = await c.apply(pool('a', '10.65.0.0/16', { natOutgoing: true }));
        assert.equal((updated.spec as { natOutgoing: boolean }).natOutgoing, true);
      }));

    test('update is compare-and-swap on resourceVersion; apply retries; unchanged apply writes nothing', () =>
      withClient(async (c) => {
        const v1 = await c.create(pool('a', '10.65.0.0/16'));
        const v2 = await c.update({ ...v1, spec: { ...(v1.spec as object), natOutgoing: true } });
        assert.notEqual(v2.metadata.resourceVersion, v1.metadata.resourceVersion);
        await assert.rejects(c.update({ ...v1, spec: { ...(v1.spec as object), disabled: true } }), (e) => isConflict(e) && /IPPool a was modified.*resourceVersion \d+ is stale/.test((e as Error).message));
        await assert.rejects(c.update(pool('nope', '10.99.0.0/16')), (e) => isNotFound(e));
        const { resourceVersion: _rv, ...meta } = v2.metadata;
        const again = await c.apply({ ...v2, metadata: meta });
        assert.equal(again.metadata.resourceVersion, v2.metadata.resourceVersion, 'applying the stored content must not write');
        await assert.rejects(c.delete('IPPool', 'a', undefined, v1.metadata.resourceVersion), (e) => isConflict(e));
        const deleted = await c.delete('IPPool', 'a', undefined, v2.metadata.resourceVersion);
        assert.equal(deleted.metadata.name, 'a');
        await assert.rejects(c.delete('IPPool', 'a'), (e) => isNotFound(e) && /IPPool a does not exist/.test((e as Error).message));
      }));

    test('namespaced kinds: default namespace, per-namespace and all-namespace lists', () =>
      withClient(async (c) => {
        const np = (name: string, namespace?: string): Resource => ({ apiVersion: V3, kind: 'NetworkPolicy', metadata: { name, ...(namespace ? { namespace } : {}) }, spec: { selector: 'all()' } });
        assert.equal((await c.create(np('a'))).metadata.namespace, 'default');
        await c.create(np('b', 'prod'));
        await c.create(np('c', 'prod'));
        assert.deepEqual((await c.list('NetworkPolicy', 'prod')).items.map((r) => r.metadata.name), ['b', 'c']);
        assert.deepEqual((await c.list('NetworkPolicy')).items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`), ['default/a', 'prod/b', 'prod/c']);
        assert.equal((await c.get('networkpolicies', 'b', 'prod'))?.metadata.name, 'b');
        assert.equal(await c.get('NetworkPolicy', 'b', 'default'), null);
      }));

    test('Kubernetes NetworkPolicy and Namespace are stored as their Calico kinds', () =>
      withClient(async (c) => {
        await c.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'shop' }, spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 80 }] }] } } as unknown as Resource);
        await c.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } } as unknown as Resource);
        const pol = await c.get('NetworkPolicy', 'knp.default.web', 'shop');
        assert.equal((pol?.spec as { selector: string }).selector, "projectcalico.org/orchestrator == 'k8s' && app == 'web'");
        const prof = await c.get('Profile', 'kns.shop');
        assert.deepEqual((prof?.spec as { labelsToApply: object }).labelsToApply, { 'pcns.kubernetes.io/metadata.name': 'shop', 'pcns.team': 'a', 'pcns.projectcalico.org/name': 'shop' });
      }));

    test('listAll returns every kind at one revision', () =>
      withClient(async (c) => {
        await c.create(pool('a', '10.65.0.0/16'));
        await c.create(gnp('g'));
        const last = await c.create({ apiVersion: V3, kind: 'HostEndpoint', metadata: { name: 'h' }, spec: { node: 'n1', interfaceName: 'eth0' } });
        const all = await c.listAll();
        assert.equal(all.revision, Number(last.metadata.resourceVersion));
        assert.deepEqual(all.items.map((r) => `${r.kind}/${r.metadata.name}`), ['IPPool/a', 'HostEndpoint/h', 'GlobalNetworkPolicy/g', 'Tier/default', 'Tier/kube-admin', 'Tier/kube-baseline', 'Profile/projectcalico-default-allow']);
      }));
  });
}

describe('ResourceClient on SQLite: concurrent writers', () => {
  test('two clients applying to one resource in parallel both succeed (bounded CAS retry)', async () => {
    const url = `sqlite:${join(tmp, 'concurrent.db')}`;
    const [ds1, ds2] = [await openDatastore(url), await openDatastore(url)];
    try {
      const [c1, c2] = [new ResourceClient(ds1), new ResourceClient(ds2)];
      await c1.create(pool('p', '10.65.0.0/16'));
      const writes = [];
      for (let i = 0; i < 8; i++) writes.push((i % 2 ? c1 : c2).apply(pool('p', '10.65.0.0/16', { natOutgoing: i % 2 === 0, disabled: i % 3 === 0 })));
      const results = await Promise.allSettled(writes);
      assert.deepEqual(results.filter((r) => r.status === 'rejected'), []);
    } finally {
      await ds1.close();
      await ds2.close();
    }
  });
});
