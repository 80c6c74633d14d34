import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyDefaults } from '../../src/api/defaults.js';
import type { Resource } from '../../src/api/types.js';

const V3 = 'projectcalico.org/v3';
const r = (kind: string, spec: unknown, name = 'x', extra: Record<string, unknown> = {}): Resource => ({ apiVersion: V3, kind, metadata: { name, ...extra }, spec });

describe('applyDefaults', () => {
  test('is pure: returns a new object and leaves the input alone', () => {
    const input = r('IPPool', { cidr: '10.0.0.0/16' });
    const copy = structuredClone(input);
    const out = applyDefaults(input);
    assert.deepEqual(input, copy);
    assert.notEqual(out, input);
  });

  const policyTypes: [string, Record<string, unknown>, string[]][] = [
    ['no rules → Ingress', {}, ['Ingress']],
    ['ingress only → Ingress', { ingress: [{ action: 'Allow' }] }, ['Ingress']],
    ['egress only → Egress', { egress: [{ action: 'Allow' }] }, ['Egress']],
    ['both → Ingress, Egress', { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }, ['Ingress', 'Egress']],
    ['explicit types kept', { types: ['Egress'], ingress: [{ action: 'Allow' }] }, ['Egress']],
    ['empty types list is defaulted', { types: [], egress: [{ action: 'Deny' }] }, ['Egress']],
  ];
  for (const kind of ['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy']) {
    for (const [name, spec, types] of policyTypes) {
      test(`${kind} types: ${name}`, () => {
        const out = applyDefaults(r(kind, spec));
        assert.deepEqual((out.spec as { types: string[] }).types, types);
      });
    }
    test(`${kind}: tier default and tier label`, () => {
      const out = applyDefaults(r(kind, {}, 'p', { labels: { a: 'b' } }));
      assert.equal((out.spec as { tier: string }).tier, 'default');
      assert.deepEqual(out.metadata.labels, { a: 'b', 'projectcalico.org/tier': 'default' });
    });
    test(`${kind}: explicit tier is labelled`, () => {
      const out = applyDefaults(r(kind, { tier: 'security' }));
      assert.deepEqual(out.metadata.labels, { 'projectcalico.org/tier': 'security' });
    });
  }

  test('staged policies default stagedAction Set; Delete gets no types', () => {
    assert.equal((applyDefaults(r('StagedNetworkPolicy', {})).spec as { stagedAction: string }).stagedAction, 'Set');
    const del = applyDefaults(r('StagedGlobalNetworkPolicy', { stagedAction: 'Delete' }));
    assert.deepEqual(del.spec, { stagedAction: 'Delete', tier: 'default' });
  });

  test('rule protocols and ports are normalised', () => {
    const out = applyDefaults(r('GlobalNetworkPolicy', { ingress: [{ action: 'Allow', protocol: '6', notProtocol: 'ICMPv6', destination: { ports: ['80', '81:82', 'http'], notPorts: ['22'] } }] }));
    assert.deepEqual((out.spec as { ingress: unknown[] }).ingress[0], { action: 'Allow', protocol: 6, notProtocol: 'ICMPv6', destination: { ports: [80, '81:82', 'http'], notPorts: [22] } });
  });

  test('IPv4 pool defaults', () => {
    assert.deepEqual(applyDefaults(r('IPPool', { cidr: '10.65.0.0/16' })).spec, {
      cidr: '10.65.0.0/16',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    });
  });

  test('IPv6 pool gets blockSize 122; explicit values are kept', () => {
    const spec = applyDefaults(r('IPPool', { cidr: 'fd00::/48', vxlanMode: 'Always', nodeSelector: "zone == 'a'", allowedUses: ['Workload'] })).spec as Record<string, unknown>;
    assert.equal(spec['blockSize'], 122);
    assert.equal(spec['vxlanMode'], 'Always');
    assert.equal(spec['nodeSelector'], "zone == 'a'");
    assert.deepEqual(spec['allowedUses'], ['Workload']);
  });

  test('Tier: defaultAction Deny; built-in tiers get their fixed order and action', () => {
    assert.deepEqual(applyDefaults(r('Tier', { order: 10 })).spec, { order: 10, defaultAction: 'Deny' });
    assert.deepEqual(applyDefaults(r('Tier', {}, 'kube-admin')).spec, { order: 1000, defaultAction: 'Pass' });
    assert.deepEqual(applyDefaults(r('Tier', {}, 'default')).spec, { order: 1000000, defaultAction: 'Deny' });
  });

  test('IPAMConfiguration defaults', () => {
    assert.deepEqual(applyDefaults(r('IPAMConfiguration', {}, 'default')).spec, { strictAffinity: false, autoAllocateBlocks: true });
  });

  test('missing spec becomes {} and missing apiVersion is filled', () => {
    const out = applyDefaults({ kind: 'GlobalNetworkSet', metadata: { name: 'x' } } as unknown as Resource);
    assert.equal(out.apiVersion, V3);
    assert.deepEqual(out.spec, {});
  });

  test('never throws on malformed input', () => {
    for (const bad of [null, 5, 'x', [], { kind: 'IPPool' }, { kind: 'IPPool', metadata: { name: 'p' }, spec: 'x' }, { kind: 'NetworkPolicy', metadata: { name: 'p' }, spec: { ingress: 'x', types: 3 } }]) {
      assert.doesNotThrow(() => applyDefaults(bad as unknown as Resource));
    }
  });

  test('Kubernetes documents are left alone', () => {
    const k = { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'x' }, spec: { podSelector: {} } } as unknown as Resource;
    assert.deepEqual(applyDefaults(k), k);
  });
});

describe('prepareResource over the documentation manifests', () => {
  test('defaulting is idempotent and the prepared form prepares to itself', async () => {
    const { readManifests } = await import('../../src/cli/resources/manifest-reader.js');
    const { prepareResource } = await import('../../src/api/prepare.js');
    const { REPO_ROOT } = await import('../helpers/paths.js');
    const docs = readManifests([`${REPO_ROOT}/testdata/manifests`], { recursive: true, readStdin: () => '' });
    assert.ok(docs.length >= 40);
    for (const { doc, origin } of docs) {
      const once = prepareResource(doc);
      assert.deepEqual(applyDefaults(once), once, origin);
      assert.deepEqual(prepareResource(once), once, origin);
    }
  });
});

describe('inSchemaOrder', () => {
  test('orders fields as the schema declares them, keeps unknown fields of open objects, changes no value', async () => {
    const { inSchemaOrder } = await import('../../src/api/field-order.js');
    const messy = {
      spec: { egress: [{ destination: { ports: [53], selector: 'a == "b"' }, protocol: 'UDP', action: 'Allow' }], types: ['Egress'], tier: 'default', selector: 'all()' },
      metadata: { labels: { a: 'b' }, name: 'p' },
      kind: 'GlobalNetworkPolicy',
      apiVersion: V3,
    } as unknown as Resource;
    const ordered = inSchemaOrder(messy);
    assert.deepEqual(ordered, messy);
    assert.equal(JSON.stringify(ordered), JSON.stringify({
      apiVersion: V3,
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'p', labels: { a: 'b' } },
      spec: { tier: 'default', selector: 'all()', types: ['Egress'], egress: [{ action: 'Allow', protocol: 'UDP', destination: { selector: 'a == "b"', ports: [53] } }] },
    }));
    const felix = inSchemaOrder(r('FelixConfiguration', { someFutureOption: 1, logSeverityScreen: 'Info' }, 'default'));
    assert.deepEqual(Object.keys(felix.spec as object), ['logSeverityScreen', 'someFutureOption']);
  });
});
