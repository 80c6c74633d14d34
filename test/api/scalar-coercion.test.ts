import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { prepareResource } from '../../src/api/prepare.js';
import { coerceDocumentScalars } from '../../src/api/scalar-coercion.js';
import { ValidationError } from '../../src/errors.js';

/**
 * calicoctl decodes YAML into typed Go structs (sigs.k8s.io/yaml), so an unquoted number or boolean
 * in a string field is read as its text: `labels: {version: 1}`, `containerID: 1337…` (Calico's own
 * WorkloadEndpoint sample) and `value: true` annotations apply. Brindle must accept the same YAML.
 */
describe('numbers and booleans in string fields', () => {
  test('label and annotation values, string spec fields, k8s matchLabels become strings', () => {
    const hep = prepareResource(parse(`
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: h1
  labels: {version: 1, enabled: true, ratio: 1.5}
  annotations: {build: 42}
spec: {node: n1, interfaceName: eth0}
`));
    assert.deepEqual(hep.metadata.labels, { version: '1', enabled: 'true', ratio: '1.5' });
    assert.deepEqual(hep.metadata.annotations, { build: '42' });

    const wep = prepareResource(parse(`
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node1-k8s-my--nginx--b1337a-eth0, namespace: default}
spec:
  node: node1
  orchestrator: k8s
  endpoint: eth0
  containerID: 1337495556
  pod: my-nginx-b1337a
  interfaceName: cali0ef24ba
  ipNetworks: [192.168.0.0/32]
`));
    assert.equal((wep.spec as { containerID: unknown }).containerID, '1337495556');

    const knp = prepareResource(parse(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: access-nginx, namespace: default}
spec:
  podSelector: {matchLabels: {app: nginx}}
  ingress:
  - from:
    - podSelector: {matchLabels: {access: true}}
`));
    assert.match(JSON.stringify(knp.spec), /access == 'true'/);
  });

  test('numbers stay numbers where the schema wants one, and wrong types are still reported', () => {
    const pool = prepareResource(parse('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.1.0.0/16, blockSize: 26}\n'));
    assert.equal((pool.spec as { blockSize: unknown }).blockSize, 26);
    // a string where an integer is wanted is not converted (Go's decoder refuses it too)
    assert.throws(
      () => prepareResource(parse('apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: {cidr: 10.1.0.0/16, blockSize: "26"}\n')),
      (e: unknown) => e instanceof ValidationError && /spec\.blockSize: must be an integer/.test(e.message),
    );
    // a list where a string is wanted is still a type error
    assert.throws(
      () => prepareResource(parse('apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: h, labels: {a: [1]}}\nspec: {node: n, interfaceName: eth0}\n')),
      (e: unknown) => e instanceof ValidationError && /metadata\.labels\.a: must be a string/.test(e.message),
    );
  });

  test('the input document is not modified, unknown kinds pass through', () => {
    const doc = { apiVersion: 'projectcalico.org/v3', kind: 'GlobalNetworkSet', metadata: { name: 'g', labels: { v: 2 } }, spec: { nets: ['10.0.0.0/8'] } };
    const out = coerceDocumentScalars(doc) as typeof doc;
    assert.deepEqual(out.metadata.labels, { v: '2' });
    assert.equal(doc.metadata.labels.v, 2);
    const odd = { kind: 'Nope', metadata: { labels: { v: 2 } } };
    assert.equal(coerceDocumentScalars(odd), odd);
  });
});
