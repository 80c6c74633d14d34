import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  convertK8sNetworkPolicy,
  convertNamespace,
  k8sLabelSelectorToCalico,
  simplifyPorts,
  type K8sNetworkPolicy,
} from '../../src/api/k8s-conversion.js';
import { prepareResource } from '../../src/api/prepare.js';
import { parseSelector } from '../../src/selector/index.js';

/** Ported from Calico's `libcalico-go/lib/backend/k8s/conversion/conversion_test.go` NetworkPolicy cases. */

function knp(spec: K8sNetworkPolicy['spec'], name = 'test.policy', namespace = 'default'): K8sNetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

const podKV = { matchLabels: { k: 'v', k2: 'v2' } };
const podKVSel = "projectcalico.org/orchestrator == 'k8s' && k == 'v' && k2 == 'v2'";

describe('k8sLabelSelectorToCalico', () => {
  const cases: [string, Parameters<typeof k8sLabelSelectorToCalico>[0], boolean, string][] = [
    ['nil pod selector', undefined, true, "projectcalico.org/orchestrator == 'k8s'"],
    ['empty pod selector', {}, true, "projectcalico.org/orchestrator == 'k8s'"],
    ['nil namespace selector', undefined, false, ''],
    ['empty namespace selector means all namespaces', {}, false, 'all()'],
    ['matchLabels sorted by key', { matchLabels: { z: '1', a: '2' } }, false, "a == '2' && z == '1'"],
    ['In', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }] }, false, "env in { 'prod', 'staging' }"],
    ['NotIn', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, true, "projectcalico.org/orchestrator == 'k8s' && env not in { 'dev' }"],
    ['Exists', { matchExpressions: [{ key: 'role', operator: 'Exists' }] }, false, 'has(role)'],
    ['DoesNotExist', { matchExpressions: [{ key: 'toast', operator: 'DoesNotExist' }] }, true, "projectcalico.org/orchestrator == 'k8s' && ! has(toast)"],
    ['labels then expressions', { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, false, "app == 'db' && has(tier)"],
  ];
  for (const [name, sel, forPods, expected] of cases) {
    test(name, () => {
      const out = k8sLabelSelectorToCalico(sel, { forPods });
      assert.equal(out, expected);
      parseSelector(out); // every output is a valid Calico selector
    });
  }
});

describe('convertK8sNetworkPolicy', () => {
  test('basic policy: name, order, tier, sorted pod selector, TCP defaulted, ports kept in order', () => {
    const pol = convertK8sNetworkPolicy(
      knp({ podSelector: { matchLabels: { label: 'value', label2: 'value2' } }, ingress: [{ ports: [{ port: 80 }, { port: 'foo' }], from: [{ podSelector: podKV }] }], policyTypes: ['Ingress'] }),
    );
    assert.deepEqual(pol, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'knp.default.test.policy', namespace: 'default' },
      spec: {
        tier: 'default',
        order: 1000,
        selector: "projectcalico.org/orchestrator == 'k8s' && label == 'value' && label2 == 'value2'",
        types: ['Ingress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', source: { selector: podKVSel }, destination: { ports: [80, 'foo'] } }],
      },
    });
  });

  test('no ports: no protocol', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, ingress: [{ from: [{ podSelector: podKV }] }], policyTypes: ['Ingress'] }));
    assert.deepEqual(pol.spec.ingress, [{ action: 'Allow', source: { selector: podKVSel } }]);
  });

  test('blank port entry means all TCP ports', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, ingress: [{ ports: [{ port: 80 }, {}], from: [{ podSelector: podKV }] }], policyTypes: ['Ingress'] }));
    assert.deepEqual(pol.spec.ingress, [{ action: 'Allow', protocol: 'TCP', source: { selector: podKVSel } }]);
  });

  test('egress with blank ports and a UDP rule', () => {
    const pol = convertK8sNetworkPolicy(
      knp({ podSelector: {}, egress: [{ ports: [{}, { port: 80 }], to: [{ podSelector: podKV }] }, { ports: [{ port: 53, protocol: 'UDP' }] }], policyTypes: ['Egress'] }),
    );
    assert.deepEqual(pol.spec.types, ['Egress']);
    assert.equal(pol.spec.ingress, undefined);
    assert.deepEqual(pol.spec.egress, [
      { action: 'Allow', protocol: 'TCP', destination: { selector: podKVSel } },
      { action: 'Allow', protocol: 'UDP', destination: { ports: [53] } },
    ]);
  });

  test('one rule per protocol (sorted) and per peer', () => {
    const pol = convertK8sNetworkPolicy(
      knp({
        podSelector: {},
        ingress: [{ from: [{ podSelector: podKV }, { namespaceSelector: { matchLabels: { team: 'a' } } }], ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }, { port: 9000, protocol: 'SCTP' }] }],
      }),
    );
    assert.deepEqual(
      pol.spec.ingress!.map((r) => [r.protocol, r.source?.selector, r.source?.namespaceSelector, r.destination?.ports]),
      [
        ['SCTP', podKVSel, undefined, [9000]],
        ['SCTP', "projectcalico.org/orchestrator == 'k8s'", "team == 'a'", [9000]],
        ['TCP', podKVSel, undefined, [53]],
        ['TCP', "projectcalico.org/orchestrator == 'k8s'", "team == 'a'", [53]],
        ['UDP', podKVSel, undefined, [53]],
        ['UDP', "projectcalico.org/orchestrator == 'k8s'", "team == 'a'", [53]],
      ],
    );
  });

  test('empty namespaceSelector selects every namespace', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] }));
    assert.deepEqual(pol.spec.ingress, [{ action: 'Allow', source: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: 'all()' } }]);
  });

  test('namespaceSelector with podSelector', () => {
    const pol = convertK8sNetworkPolicy(
      knp({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'k', operator: 'In', values: ['v1', 'v2'] }] }, podSelector: { matchLabels: { app: 'x' } } }] }] }),
    );
    assert.deepEqual(pol.spec.ingress![0]!.source, { selector: "projectcalico.org/orchestrator == 'k8s' && app == 'x'", namespaceSelector: "k in { 'v1', 'v2' }" });
  });

  test('ipBlock with except → nets and notNets (canonical CIDRs)', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.3.0/24', '192.168.4.1/24'] } }] }] }));
    assert.deepEqual(pol.spec.ingress, [{ action: 'Allow', source: { nets: ['192.168.0.0/16'], notNets: ['192.168.3.0/24', '192.168.4.0/24'] } }]);
  });

  test('egress ipBlock goes to the destination with the ports', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 443 }] }], policyTypes: ['Egress'] }));
    assert.deepEqual(pol.spec.egress, [{ action: 'Allow', protocol: 'TCP', destination: { nets: ['10.0.0.0/8'], ports: [443] } }]);
  });

  test('endPort becomes a range', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, ingress: [{ ports: [{ port: 32000, endPort: 32768 }] }] }));
    assert.deepEqual(pol.spec.ingress, [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['32000:32768'] } }]);
  });

  test('adjacent ports merge into ranges, named ports first', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, ingress: [{ ports: [{ port: 82 }, { port: 80 }, { port: 'http' }, { port: 81 }, { port: 9090 }] }] }));
    assert.deepEqual(pol.spec.ingress![0]!.destination!.ports, ['http', '80:82', 9090]);
  });

  test('no policyTypes: Ingress, plus Egress when there are egress rules (as the Kubernetes API server defaults it)', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, egress: [{}] }));
    assert.deepEqual(pol.spec.types, ['Ingress', 'Egress']);
    assert.deepEqual(pol.spec.egress, [{ action: 'Allow' }]);
    const restrict = convertK8sNetworkPolicy(knp({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] }));
    assert.deepEqual(restrict.spec.types, ['Ingress', 'Egress'], 'egress rules restrict egress');
    assert.deepEqual(convertK8sNetworkPolicy(knp({ podSelector: {}, ingress: [{}] })).spec.types, ['Ingress']);
    assert.deepEqual(convertK8sNetworkPolicy(knp({ podSelector: {}, egress: [] })).spec.types, ['Ingress'], 'an empty egress list implies nothing');
  });

  test('StagedKubernetesNetworkPolicy without policyTypes is defaulted the same way when prepared', () => {
    const staged = prepareResource({ apiVersion: 'projectcalico.org/v3', kind: 'StagedKubernetesNetworkPolicy', metadata: { name: 'x', namespace: 'ns' }, spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] } });
    assert.deepEqual((staged.spec as { policyTypes?: string[] }).policyTypes, ['Ingress', 'Egress']);
    const ingressOnly = prepareResource({ apiVersion: 'projectcalico.org/v3', kind: 'StagedKubernetesNetworkPolicy', metadata: { name: 'y', namespace: 'ns' }, spec: { podSelector: {} } });
    assert.deepEqual((ingressOnly.spec as { policyTypes?: string[] }).policyTypes, ['Ingress']);
    const declared = prepareResource({ apiVersion: 'projectcalico.org/v3', kind: 'StagedKubernetesNetworkPolicy', metadata: { name: 'z', namespace: 'ns' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } });
    assert.deepEqual((declared.spec as { policyTypes?: string[] }).policyTypes, ['Egress']);
  });

  test('policyTypes Ingress and Egress with no rules: deny both ways', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, policyTypes: ['Egress', 'Ingress'] }));
    assert.deepEqual(pol.spec.types, ['Ingress', 'Egress']);
    assert.equal(pol.spec.ingress, undefined);
    assert.equal(pol.spec.egress, undefined);
  });

  test('allow-all ingress rule `- {}`', () => {
    const pol = convertK8sNetworkPolicy(knp({ podSelector: {}, ingress: [{}] }));
    assert.deepEqual(pol.spec.ingress, [{ action: 'Allow' }]);
  });

  test('the converted policy validates and gets the tier label', () => {
    const r = prepareResource(knp({ podSelector: { matchLabels: { app: 'db' } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'postgres' }] }] }, 'db-access', 'shop'));
    assert.equal(r.metadata.name, 'knp.default.db-access');
    assert.equal(r.metadata.namespace, 'shop');
    assert.equal(r.metadata.labels?.['projectcalico.org/tier'], 'default');
  });
});

describe('simplifyPorts', () => {
  test('cases', () => {
    assert.deepEqual(simplifyPorts([80]), [80]);
    assert.deepEqual(simplifyPorts([80, 'foo']), [80, 'foo']);
    assert.deepEqual(simplifyPorts([80, 81, 82, 9090, 'foo']), ['foo', '80:82', 9090]);
    assert.deepEqual(simplifyPorts([80, 80, 81]), ['80:81']);
    assert.deepEqual(simplifyPorts(['80:85', 84, 86, 100]), ['80:86', 100]);
    assert.equal(simplifyPorts(null), null);
  });
});

describe('convertNamespace', () => {
  test('profile kns.<name>, allow all, pcns. labels plus the name label', () => {
    const p = convertNamespace({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a', 'example.com/env': 'prod' } } });
    assert.deepEqual(p, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'kns.shop' },
      spec: {
        ingress: [{ action: 'Allow' }],
        egress: [{ action: 'Allow' }],
        labelsToApply: { 'pcns.kubernetes.io/metadata.name': 'shop', 'pcns.team': 'a', 'pcns.example.com/env': 'prod', 'pcns.projectcalico.org/name': 'shop' },
      },
    });
  });
  test('namespace without labels', () => {
    assert.deepEqual(convertNamespace({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }).spec.labelsToApply, { 'pcns.kubernetes.io/metadata.name': 'x', 'pcns.projectcalico.org/name': 'x' });
  });
});
