import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { prepareResource } from '../../src/api/prepare.js';
import { ValidationError } from '../../src/errors.js';

/**
 * What `calicoctl get -o yaml` and `kubectl get -o yaml` print carries fields only a server sets:
 * `status` (KubeControllersConfiguration, Kubernetes objects), `managedFields`, `selfLink`, ….
 * Re-applying such an export must work; those fields are read and dropped, not stored.
 */
describe('manifests exported from a Calico or Kubernetes cluster', () => {
  test('calicoctl KubeControllersConfiguration with its status applies; the status is not stored', () => {
    const r = prepareResource(parse(`
apiVersion: projectcalico.org/v3
kind: KubeControllersConfiguration
metadata:
  creationTimestamp: "2024-05-01T10:00:00Z"
  name: default
  resourceVersion: "1234"
  uid: 7f0e7c2a-0000-4000-8000-000000000001
spec:
  controllers:
    node:
      reconcilerPeriod: 5m
  healthChecks: Enabled
  logSeverityScreen: Info
status:
  environmentVars:
    DATASTORE_TYPE: kubernetes
  runningConfig:
    controllers:
      node:
        reconcilerPeriod: 5m
    healthChecks: Enabled
    logSeverityScreen: Info
`));
    assert.equal((r as unknown as Record<string, unknown>)['status'], undefined);
    assert.equal(r.metadata.name, 'default');
    assert.equal(r.metadata.resourceVersion, '1234');
  });

  test('kubectl --show-managed-fields output of a Calico policy applies; server metadata is dropped', () => {
    const r = prepareResource(parse(`
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"projectcalico.org/v3"}'
  creationTimestamp: "2024-05-01T10:00:00Z"
  generation: 1
  managedFields:
  - apiVersion: projectcalico.org/v3
    fieldsType: FieldsV1
    fieldsV1: {f:spec: {}}
    manager: kubectl-client-side-apply
    operation: Update
  name: default.allow-dns
  selfLink: /apis/projectcalico.org/v3/globalnetworkpolicies/default.allow-dns
  uid: 7f0e7c2a-0000-4000-8000-000000000002
spec:
  selector: all()
  types: [Egress]
  egress:
  - action: Allow
    protocol: UDP
    destination: {ports: [53]}
`));
    const meta = r.metadata as unknown as Record<string, unknown>;
    for (const f of ['managedFields', 'selfLink']) assert.equal(meta[f], undefined, f);
    assert.equal(meta['generation'], 1);
  });

  test('a misspelt field, or a status on a kind without one, is still refused', () => {
    for (const [doc, path] of [
      ['apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nstatuss: {}\n', /statuss: unknown field/],
      // only the kinds whose Go struct has a Status take one (calicoctl refuses it elsewhere)
      ['apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t}\nstatus: {}\n', /status: unknown field/],
      ['apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: t, managedField: []}\n', /metadata\.managedField: unknown field/],
    ] as const) {
      assert.throws(() => prepareResource(parse(doc)), (e: unknown) => e instanceof ValidationError && path.test(e.message));
    }
  });
});
