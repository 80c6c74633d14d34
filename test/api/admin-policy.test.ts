import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convertAdminPolicy, type K8sAdminPolicy } from '../../src/api/k8s-admin-policy.js';
import { prepareResource } from '../../src/api/prepare.js';
import { ValidationError } from '../../src/errors.js';

const cnp = (spec: Record<string, unknown>, name = 'p'): K8sAdminPolicy =>
  ({ apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name }, spec }) as K8sAdminPolicy;

describe('ClusterNetworkPolicy / AdminNetworkPolicy conversion', () => {
  test('v1alpha2 protocols: one rule per protocol and peer, ports simplified, rule names kept', () => {
    const out = convertAdminPolicy(cnp({
      tier: 'Baseline', priority: 7,
      subject: { pods: { namespaceSelector: { matchLabels: { team: 'a' } }, podSelector: { matchLabels: { app: 'db' } } } },
      egress: [{
        name: 'to-web', action: 'Accept',
        to: [{ namespaces: { matchLabels: { team: 'b' } } }, { networks: ['10.0.0.1/8'] }],
        protocols: [{ tcp: { destinationPort: { number: 81 } } }, { tcp: { destinationPort: { number: 80 } } }, { udp: { destinationPort: { range: { start: 50, end: 60 } } } }],
      }],
    }));
    const meta = { annotations: { 'policy.networking.k8s.io/rule-name': 'to-web' } };
    assert.deepEqual(out, {
      apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkPolicy', metadata: { name: 'kcnp.p' },
      spec: {
        tier: 'kube-baseline', order: 7, namespaceSelector: "team == 'a'", selector: "projectcalico.org/orchestrator == 'k8s' && app == 'db'", types: ['Egress'],
        egress: [
          { action: 'Allow', metadata: meta, protocol: 'TCP', destination: { namespaceSelector: "team == 'b'", ports: ['80:81'] } },
          { action: 'Allow', metadata: meta, protocol: 'TCP', destination: { nets: ['10.0.0.0/8'], ports: ['80:81'] } },
          { action: 'Allow', metadata: meta, protocol: 'UDP', destination: { namespaceSelector: "team == 'b'", ports: ['50:60'] } },
          { action: 'Allow', metadata: meta, protocol: 'UDP', destination: { nets: ['10.0.0.0/8'], ports: ['50:60'] } },
        ],
      },
    });
  });

  test('unenforceable peers fail closed: Accept dropped, Deny and Pass become deny-all', () => {
    const out = convertAdminPolicy(cnp({
      tier: 'Admin', priority: 1, subject: { namespaces: {} },
      egress: [
        { action: 'Accept', to: [{ domainNames: ['example.com'] }] },
        { name: 'x', action: 'Pass', to: [{ nodes: {} }] },
      ],
    }));
    assert.deepEqual(out.spec.egress, [{ action: 'Deny', metadata: { annotations: { 'policy.networking.k8s.io/rule-name': 'x' } } }]);
    assert.equal(out.spec.namespaceSelector, 'all()');
    assert.equal(out.spec.selector, "projectcalico.org/orchestrator == 'k8s'");
  });

  test('AdminNetworkPolicy → kube-admin at its priority; BANP → kube-baseline after every CNP', () => {
    const anp = prepareResource({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'a.b' }, spec: { priority: 5, subject: { namespaces: {} }, ingress: [{ action: 'Deny', from: [{ namespaces: {} }] }] } });
    assert.equal(anp.metadata.name, 'kanp.a.b');
    assert.deepEqual([(anp.spec as { tier: string }).tier, (anp.spec as { order: number }).order], ['kube-admin', 5]);
    const banp = prepareResource({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'default' }, spec: { subject: { namespaces: {} } } });
    assert.deepEqual([banp.metadata.name, (banp.spec as { tier: string }).tier, (banp.spec as { order: number }).order], ['kbanp.default', 'kube-baseline', 1000]);
  });

  test('validation names the fields the user wrote', () => {
    const bad = { apiVersion: 'policy.networking.k8s.io/v1alpha2', kind: 'ClusterNetworkPolicy', metadata: { name: 'p' },
      spec: { tier: 'Middle', priority: 2000, subject: {}, ingress: [{ action: 'Allow', from: [], protocols: [{ tcp: { destinationPort: { number: 0 } } }] }] } };
    assert.throws(() => prepareResource(bad), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.issues.map((i) => i.path), ['spec.priority', 'spec.tier', 'spec.subject', 'spec.ingress[0].action', 'spec.ingress[0].from', 'spec.ingress[0].protocols[0].tcp.destinationPort.number']);
      return true;
    });
    assert.throws(() => prepareResource({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'BaselineAdminNetworkPolicy', metadata: { name: 'other' }, spec: { subject: { namespaces: {} } } }), /must be named "default"/);
    assert.throws(() => prepareResource({ apiVersion: 'policy.networking.k8s.io/v1alpha1', kind: 'AdminNetworkPolicy', metadata: { name: 'x' }, spec: { priority: 1, subject: { namespaces: {} }, bogus: 1 } }), /spec.bogus: unknown field/);
  });
});
